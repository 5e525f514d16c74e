/**
 * ApplyBatch: one Map item. Reads its batch of the stored plan and carries out each action that is not
 * already done (so a retried batch, or a redriven run, never acts twice), then records each outcome. A
 * failure on one resource is recorded on that action and does not fail the batch; Report judges the run
 * against the policy's tolerated failure percentage. Throttling that outlasts the SDK's retries fails the
 * batch with TransientError, which the state machine retries.
 */
import * as z from '../../shared/zod';
import { describeError, TransientError } from '../../shared/errors';
import { jobStep, type StepContext } from '../../shared/handler';
import type { ActionOutcome, ActionRecord } from '../../shared/ledger/items';
import { accountClients } from './account';
import { ReleasePolicy } from './input';
import { TAGS, type Clients, type PlannedAction } from './model';
import { adapters } from './resources';
import { fromPlanEntry, toActionRecord } from './plan';
import { actionsOf } from '../../shared/ledger/actions-repository';

export const ApplyBatchData = z.object({ batch: z.int().check(z.nonnegative()), policy: ReleasePolicy });
export type ApplyBatchData = z.infer<typeof ApplyBatchData>;

export interface ApplyBatchOutput {
  batch: number;
  applied: number;
  skippedAlreadyApplied: number;
  failed: number;
}

const FINAL: readonly ActionOutcome[] = ['DONE', 'ALREADY_GONE', 'MARKED', 'CANCELLED'];
/** Actions in flight at once within a batch: gentle on API rate limits. */
const CONCURRENCY = 4;

async function applyOne(
  clients: Clients,
  action: PlannedAction,
  policy: ReleasePolicy,
): Promise<ActionOutcome> {
  const adapter = adapters[action.type];
  if (action.kind === 'mark') {
    const outcome = await adapter.mark(clients, action, TAGS.RELEASE_AFTER);
    return outcome === 'DONE' ? 'MARKED' : outcome;
  }
  if (action.kind === 'cancel') {
    const outcome = await adapter.unmark(clients, action, TAGS.RELEASE_AFTER);
    return outcome === 'DONE' ? 'CANCELLED' : outcome;
  }
  return adapter.release(clients, action, policy);
}

export async function applyBatch(
  data: ApplyBatchData,
  ctx: StepContext,
  clients = accountClients(ctx.env),
): Promise<ApplyBatchOutput> {
  const stored = await actionsOf(ctx.ledger).readPlanBatch(ctx.run.runId, data.batch);
  const planned = stored.actions.map(fromPlanEntry);
  const current = await actionsOf(ctx.ledger).getMany(ctx.run.runId, stored.actions);
  const done = new Set(
    current.filter((r) => FINAL.includes(r.outcome)).map((r) => `${r.resourceType}#${r.resourceId}`),
  );
  const todo = planned.filter((a) => !done.has(`${a.type}#${a.resourceId}`));

  const records: ActionRecord[] = [];
  let failed = 0;
  let transient: unknown;
  for (let i = 0; i < todo.length; i += CONCURRENCY) {
    await Promise.all(
      todo.slice(i, i + CONCURRENCY).map(async (action) => {
        try {
          const outcome = await applyOne(clients, action, data.policy);
          records.push(toActionRecord(action, ctx, outcome, ctx.now().toISOString()));
        } catch (error) {
          if (error instanceof TransientError) {
            transient ??= error;
            return;
          }
          failed += 1;
          const { name, message } = describeError(error);
          records.push({
            ...toActionRecord(action, ctx, 'FAILED', ctx.now().toISOString()),
            error: { name, cause: message },
          });
        }
      }),
    );
    if (transient) break;
  }
  // Record what happened before any retry, so the retry skips it.
  await actionsOf(ctx.ledger).record(records);
  if (transient) throw transient;
  return {
    batch: data.batch,
    applied: records.length - failed,
    skippedAlreadyApplied: stored.actions.length - todo.length,
    failed,
  };
}

export const handler = jobStep(ApplyBatchData, (data, ctx) => applyBatch(data, ctx));
