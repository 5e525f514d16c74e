/**
 * FinishRun, the last state of a run whose steps all succeeded: the run becomes SUCCEEDED with a bounded
 * summary of its step results, and the job's lock, last run, last success and counters are updated.
 */
import { MAX_OUTPUT_SUMMARY_BYTES, RunStatus } from '../../shared/constants';
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
  const summary = outputSummary(event.results);
  const closed = await deps.ledger.closeRun(
    run,
    {
      status: RunStatus.SUCCEEDED,
      endedAt: now,
      output: summary.text,
      ...(summary.truncated ? { outputTruncated: true } : {}),
    },
    now,
  );
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
  metrics.addMetric(result.finalized ? 'RunSucceeded' : 'RunAlreadyFinal', MetricUnit.Count, 1);
  if (result.finalized && result.durationMs !== undefined) {
    metrics.addMetric('RunDuration', MetricUnit.Milliseconds, result.durationMs);
  }
  return result;
});

/**
 * The step results as JSON, cut to {@link MAX_OUTPUT_SUMMARY_BYTES} so a chatty job cannot push its run record
 * past DynamoDB's 400 KB item limit. A cut summary is no longer valid JSON; `truncated` says so.
 */
export function outputSummary(
  results: Record<string, unknown>,
  maxBytes = MAX_OUTPUT_SUMMARY_BYTES,
): { text: string; truncated: boolean } {
  const text = JSON.stringify(results);
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, truncated: false };
  // Cutting at a byte offset can split a multi-byte character; drop the partial one.
  const cut = Buffer.from(text, 'utf8')
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return { text: cut, truncated: true };
}
