/**
 * FailRun, where every caught failure of a job's steps ends up. The run becomes FAILED with the error's name
 * and cause, and the job's lock, last run and counters are updated; then FailRun fails the execution itself
 * with the step's error (executionFailure), so that FailRun, not a Fail state after it, is the state that
 * failed. That is where Step Functions restarts a redrive: run again with the same input and a higher
 * `$$.Execution.RedriveCount`, FailRun reopens the run and names the failed state, and the state machine's
 * Resume choice goes back to it. A step that fails again in the redriven execution comes back here, and the
 * run is FAILED again.
 */
import { RunStatus } from '../../shared/constants';
import { FailRunEvent } from '../../shared/contracts';
import { errorFromStates, executionFailure } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import type { ErrorInfo } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import { reopenRun } from '../../shared/ledger/run-redrive';

export { FailRunEvent } from '../../shared/contracts';

export interface FailRunResult {
  runId: string;
  /** FAILED, or the status the run already had when this was a retry (or the reconciler came first). */
  status: RunStatus;
  durationMs?: number;
  /** False when the run was final already: only its lock was released. */
  finalized: boolean;
  error: ErrorInfo;
}

/** What FailRun returns when a redrive reopened the run: the state to go back to (the Resume choice reads it). */
export interface FailRunResume {
  resume: string;
}

/** Record the run FAILED (the step's error) and release its lock. */
export async function failRun(event: FailRunEvent, deps: TaskDeps): Promise<FailRunResult> {
  const { run } = event;
  const now = deps.now().toISOString();
  const error = errorFromStates(event.error.Error, event.error.Cause);
  const closed = await deps.ledger.closeRun(run, { status: RunStatus.FAILED, endedAt: now, error }, now);
  if (closed.finalized) logger.warn('Run failed', { error });
  else logger.warn('Run was already final; released its lock only', { status: closed.run.status });
  const { status, durationMs } = closed.run;
  return { runId: run.runId, status, durationMs, finalized: closed.finalized, error };
}

/**
 * FailRun's whole decision: a redrive that has not reopened the run yet reopens it and resumes the failed state;
 * anything else records the failure. Throws {@link RedriveBlocked} when another run holds the lock.
 */
export async function failOrResume(
  event: FailRunEvent,
  deps: TaskDeps,
): Promise<{ resume: FailRunResume } | { failed: FailRunResult }> {
  const { redrive, failedState } = event;
  if (redrive && redrive.count > 0 && failedState) {
    if (await reopenRun(deps.ledger, event.run, redrive, deps.now())) {
      logger.info('The execution was redriven; resuming the failed state', {
        failedState,
        redrive: redrive.count,
      });
      return { resume: { resume: failedState } };
    }
  }
  return { failed: await failRun(event, deps) };
}

export const handler = lifecycleHandler(
  'FailRun',
  FailRunEvent,
  async (event, deps): Promise<FailRunResume> => {
    const outcome = await failOrResume(event, deps);
    metrics.addDimension('job', event.run.jobId);
    if ('resume' in outcome) {
      metrics.addMetric('RunRedriven', MetricUnit.Count, 1);
      return outcome.resume;
    }
    metrics.addMetric(outcome.failed.finalized ? 'RunFailed' : 'RunAlreadyFinal', MetricUnit.Count, 1);
    throw executionFailure(event.failedState, outcome.failed.error);
  },
);
