/**
 * Which ledger stream records are "a run has ended": the event source mapping's filter criteria (the stack
 * writes these patterns) and the same test in code, so the notifier never acts on a record the filter should
 * have dropped. A run ends in one of two ways:
 * - MODIFY from RUNNING to a final status (FinishRun, FailRun, the reconciler, the sweep);
 * - INSERT of a run that is final from the start (SKIPPED, DUPLICATE, an invalid input, a MISSED slot, a run
 *   the reconciler or the sweep recorded from Step Functions' report).
 * Everything else is not an end: the notifier's own write (final to final), a redrive (FAILED to RUNNING), a
 * step, an action, job state.
 */
import { FINAL_RUN_STATUSES, RunStatus } from '../../shared/constants';

/** The `type` attribute of run items (shared/ledger/runs-repository.ts writes it). */
const RUN_TYPE = 'run';

const finalStatus = { S: [...FINAL_RUN_STATUSES] };

/** EventBridge-style patterns of the event source mapping's FilterCriteria (any one matches). */
export const RUN_FINISHED_PATTERNS: ReadonlyArray<Record<string, unknown>> = [
  {
    eventName: ['MODIFY'],
    dynamodb: {
      OldImage: { status: { S: [RunStatus.RUNNING] } },
      NewImage: { type: { S: [RUN_TYPE] }, status: finalStatus },
    },
  },
  {
    eventName: ['INSERT'],
    dynamodb: { NewImage: { type: { S: [RUN_TYPE] }, status: finalStatus } },
  },
];

interface ImageRecord {
  eventName?: string;
  dynamodb?: {
    OldImage?: Record<string, { S?: string } | undefined>;
    NewImage?: Record<string, { S?: string } | undefined>;
  };
}

/** Whether a stream record is a run's end, by the rules of {@link RUN_FINISHED_PATTERNS}. */
export function isRunFinished(record: ImageRecord): boolean {
  const image = record.dynamodb?.NewImage;
  if (image?.type?.S !== RUN_TYPE) return false;
  if (!FINAL_RUN_STATUSES.includes(image.status?.S as RunStatus)) return false;
  if (record.eventName === 'INSERT') return true;
  return record.eventName === 'MODIFY' && record.dynamodb?.OldImage?.status?.S === RunStatus.RUNNING;
}
