/**
 * FailRun, where every caught failure of a job's steps ends up: the run becomes FAILED with the error's name
 * and cause, and the job's lock, last run and counters are updated. The state machine then fails.
 */
import { RunStatus } from '../../shared/constants';
import { FailRunEvent } from '../../shared/contracts';
import { errorFromStates } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import type { ErrorInfo } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit } from '../../shared/powertools';

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

export const handler = lifecycleHandler('FailRun', FailRunEvent, async (event, deps) => {
  const result = await failRun(event, deps);
  metrics.addDimension('job', event.run.jobId);
  metrics.addMetric(result.finalized ? 'RunFailed' : 'RunAlreadyFinal', MetricUnit.Count, 1);
  return result;
});
