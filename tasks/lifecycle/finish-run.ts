/**
 * FinishRun, the last state of a run whose steps all succeeded: the run becomes SUCCEEDED, and the job's lock,
 * last run, last success and counters are updated. The results stay on the step records.
 */
import { RunStatus } from '../../shared/constants';
import { FinishRunEvent } from '../../shared/contracts';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import { logger, metrics, MetricUnit } from '../../shared/powertools';

export { FinishRunEvent } from '../../shared/contracts';

export interface FinishRunResult {
  runId: string;
  /** SUCCEEDED, or the status the run already had when this was a retry (or the reconciler came first). */
  status: RunStatus;
  durationMs?: number;
  /** False when the run was final already: only its lock was released. */
  finalized: boolean;
}

export async function finishRun(event: FinishRunEvent, deps: TaskDeps): Promise<FinishRunResult> {
  const { run } = event;
  const now = deps.now().toISOString();
  // The step results are on the step records already (each step stores what it returned): the run item
  // stays small, one write unit.
  const closed = await deps.ledger.closeRun(run, { status: RunStatus.SUCCEEDED, endedAt: now }, now);
  if (!closed.finalized) {
    logger.warn('Run was already final; released its lock only', { status: closed.run.status });
  }
  return {
    runId: run.runId,
    status: closed.run.status,
    durationMs: closed.run.durationMs,
    finalized: closed.finalized,
  };
}

export const handler = lifecycleHandler('FinishRun', FinishRunEvent, async (event, deps) => {
  const result = await finishRun(event, deps);
  metrics.addDimension('job', event.run.jobId);
  // Durations of every outcome are the run notifier's `RunDuration` (tasks/notify/run-finished.ts).
  metrics.addMetric(result.finalized ? 'RunSucceeded' : 'RunAlreadyFinal', MetricUnit.Count, 1);
  return result;
});
