/**
 * Plan: discover every enabled resource type (paginated), evaluate the policy, check the blast-radius caps,
 * record every planned action in the ledger, and store the plan in batches for Apply. Returns only counts and
 * batch numbers: the plan itself never travels through the state machine's payload.
 */
import * as z from '../../shared/zod';
import { jobStep, type StepContext } from '../../shared/handler';
import type { ActionRecord, PlanEntry } from '../../shared/ledger/items';
import { logger } from '../../shared/powertools';
import { accountClients, isSimulated } from './account';
import { ActionNotAllowed } from './errors';
import { ReleaseInput } from './input';
import {
  ALLOW_TERMINATE_ENV,
  RESOURCE_TYPES,
  TAGS,
  type Clients,
  type PlannedAction,
  type Resource,
  type TypeCounts,
} from './model';
import { checkCaps, evaluate } from './policy';
import { adapters } from './resources';

export const PlanData = z.object({ input: ReleaseInput, results: z.record(z.string(), z.unknown()) });
export type PlanData = z.infer<typeof PlanData>;

export interface PlanOutput {
  dryRun: boolean;
  simulatedAccount: boolean;
  counts: Record<string, TypeCounts>;
  planned: { mark: number; release: number; cancel: number };
  /** Estimated monthly saving of the planned releases (USD, list prices). */
  estimatedMonthlySavingUsd: number;
  /** Batch numbers for the Apply Map; empty for a dry run, which touches nothing. */
  batches: number[];
}

/** Discover every enabled type; types run concurrently, each paginates on its own. */
export async function discoverAll(clients: Clients, input: ReleaseInput): Promise<Resource[]> {
  const tagKeys = [input.policy.optIn.tagKey, TAGS.RELEASE_AFTER];
  const perType = await Promise.all(
    RESOURCE_TYPES.filter((type) => input.policy.types[type].enabled).map(async (type) => {
      const found: Resource[] = [];
      for await (const resource of adapters[type].discover(clients, { tagKeys })) found.push(resource);
      return found;
    }),
  );
  return perType.flat();
}

/** A planned action as the ledger's plan batches keep it. */
export function toPlanEntry(action: PlannedAction): PlanEntry {
  return {
    resourceId: action.resourceId,
    resourceArn: action.arn,
    resourceType: action.type,
    action: action.kind,
    operation: action.operation,
    ...(action.releaseAfter ? { releaseAfter: action.releaseAfter } : {}),
    reason: action.reason,
    ...(action.estimatedMonthlySavingUsd === null
      ? {}
      : { estimatedMonthlySavingUsd: action.estimatedMonthlySavingUsd }),
  };
}

/** A plan batch entry back as the action ApplyBatch carries out. */
export function fromPlanEntry(entry: PlanEntry): PlannedAction {
  return {
    type: entry.resourceType as PlannedAction['type'],
    resourceId: entry.resourceId,
    arn: entry.resourceArn ?? '',
    kind: entry.action as PlannedAction['kind'],
    operation: entry.operation ?? entry.action,
    reason: entry.reason,
    ...(entry.releaseAfter ? { releaseAfter: entry.releaseAfter } : {}),
    estimatedMonthlySavingUsd: entry.estimatedMonthlySavingUsd ?? null,
  };
}

/** The outcome of carrying out a planned action, as the ledger records it (indexed by resource). */
export function toActionRecord(
  action: PlannedAction,
  ctx: Pick<StepContext, 'run'>,
  outcome: ActionRecord['outcome'],
  at: string,
): ActionRecord {
  return {
    runId: ctx.run.runId,
    jobId: ctx.run.jobId,
    ...toPlanEntry(action),
    dryRun: false,
    outcome,
    at,
    expiresAt: ctx.run.expiresAt,
  };
}

export async function plan(
  data: PlanData,
  ctx: StepContext,
  clients = accountClients(ctx.env),
): Promise<PlanOutput> {
  const { input } = data;
  const instances = input.policy.types['ec2-instance'];
  if (instances.enabled && instances.action === 'terminate' && ctx.env[ALLOW_TERMINATE_ENV] !== 'true') {
    // Before anything is discovered or recorded: ApplyBatch's role could not terminate anyway.
    throw new ActionNotAllowed(
      'policy.types.ec2-instance.action',
      'terminate',
      'RELEASE_ALLOWS_TERMINATE = true',
    );
  }
  const now = ctx.now();
  const inventory = await discoverAll(clients, input);
  const result = evaluate(inventory, input.policy, now);
  // Fails the run before anything is touched (and before anything is recorded as planned).
  checkCaps(result, input.policy);

  // Every planned action goes into the run's plan batches, dry run or not: a few hundred actions per item,
  // a fraction of a write unit each. A run that applies lists its batches for the Apply Map.
  const at = now.toISOString();
  const batches: number[] = [];
  for (let i = 0, batch = 0; i < result.actions.length; i += input.policy.batchSize, batch += 1) {
    await ctx.ledger.actions.writePlanBatch({
      runId: ctx.run.runId,
      jobId: ctx.run.jobId,
      batch,
      dryRun: input.dryRun,
      at,
      actions: result.actions.slice(i, i + input.policy.batchSize).map(toPlanEntry),
      expiresAt: ctx.run.expiresAt,
    });
    if (!input.dryRun) batches.push(batch);
  }
  const planned = { mark: 0, release: 0, cancel: 0 };
  let saving = 0;
  for (const action of result.actions) {
    planned[action.kind] += 1;
    saving += action.estimatedMonthlySavingUsd ?? 0;
  }
  const output: PlanOutput = {
    dryRun: input.dryRun,
    simulatedAccount: isSimulated(ctx.env),
    counts: result.counts,
    planned,
    estimatedMonthlySavingUsd: Math.round(saving * 100) / 100,
    batches,
  };
  logger.info('Plan recorded', {
    discovered: inventory.length,
    planned,
    batches: batches.length,
    dryRun: input.dryRun,
  });
  return output;
}

export const handler = jobStep(PlanData, (data, ctx) => plan(data, ctx));
