/**
 * RecordCaller: who started a console (or any unnamed API) run. An execution's context does not say who
 * called StartExecution; CloudTrail does, and EventBridge delivers its "AWS API Call via CloudTrail" event for
 * StartExecution when the account has a trail that logs management events (minutes after the call). This
 * names the caller on the run, as `trigger.principal` with `principalSource: cloudtrail`.
 *
 * Only runs started without a trigger of their own and with no principal yet are changed: the CLI names its
 * caller itself, and scheduled runs are the Scheduler's. The event can arrive before StartRun has written the
 * record; then this fails with CallerRunNotYetRecorded, and the rule target's retries bring it back.
 */
import * as z from '../../shared/zod';
import { StepJobsError } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import { recordCaller } from '../../shared/ledger/run-notes';
import { logger, metrics, MetricUnit } from '../../shared/powertools';

/** The CloudTrail record's fields this reads (EventBridge `detail`). */
export const RecordCallerEvent = z.looseObject({
  detail: z.looseObject({
    eventName: z.literal('StartExecution'),
    userIdentity: z.looseObject({
      type: z.optional(z.string()),
      arn: z.optional(z.string()),
      principalId: z.optional(z.string()),
      invokedBy: z.optional(z.string()),
    }),
    requestParameters: z.nullish(
      z.looseObject({ stateMachineArn: z.optional(z.string()), name: z.optional(z.string()) }),
    ),
    responseElements: z.nullish(z.looseObject({ executionArn: z.optional(z.string()) })),
  }),
});
export type RecordCallerEvent = z.infer<typeof RecordCallerEvent>;

export class CallerRunNotYetRecorded extends StepJobsError {
  constructor(readonly runId: string) {
    super(`Run ${runId} has no record yet; the event is delivered again`);
    this.name = 'CallerRunNotYetRecorded';
  }
}

export type RecordCallerResult =
  | { action: 'recorded'; runId: string; principal: string }
  | { action: 'ignored'; runId?: string; reason: string };

/** The caller as one string: the identity's ARN, else what CloudTrail says of it. */
export function callerOf(identity: RecordCallerEvent['detail']['userIdentity']): string | undefined {
  if (identity.arn) return identity.arn;
  if (identity.invokedBy) return `${identity.type ?? 'AWSService'}:${identity.invokedBy}`;
  if (identity.principalId) return `${identity.type ?? 'principal'}:${identity.principalId}`;
  return undefined;
}

export async function recordStartCaller(
  event: RecordCallerEvent,
  deps: TaskDeps,
): Promise<RecordCallerResult> {
  const { detail } = event;
  const executionArn = detail.responseElements?.executionArn;
  const runId = executionArn ? executionArn.split(':').pop() : detail.requestParameters?.name;
  if (!runId) return { action: 'ignored', reason: 'the event names no execution (the call failed?)' };
  const principal = callerOf(detail.userIdentity);
  if (!principal) return { action: 'ignored', runId, reason: 'CloudTrail names no caller' };
  const outcome = await recordCaller(deps.ledger.table, runId, principal);
  if (outcome === 'missing') throw new CallerRunNotYetRecorded(runId);
  if (outcome === 'known') return { action: 'ignored', runId, reason: 'the run already says who started it' };
  logger.info('Recorded who started the run', { runId, principal });
  return { action: 'recorded', runId, principal };
}

export const handler = lifecycleHandler('RecordCaller', RecordCallerEvent, async (event, deps) => {
  const result = await recordStartCaller(event, deps);
  metrics.addMetric(result.action === 'recorded' ? 'CallerRecorded' : 'CallerIgnored', MetricUnit.Count, 1);
  return result;
});
