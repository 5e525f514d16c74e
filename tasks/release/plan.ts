/**
 * Plan: discover every enabled resource type a page at a time, evaluate each page with the policy, and write
 * its planned actions into the run's plan batches, in flat memory. One invocation plans a bounded slice of the
 * account (PLAN_RESOURCES_PER_INVOCATION resources, and never close to its timeout), then returns where it
 * stopped; the state machine invokes Plan again until it is done (workflows/release-idle-resources.ts). The
 * last invocation checks the blast-radius caps on the whole plan's counts, before Apply touches anything.
 * Only counts, a cursor and batch numbers travel through the state machine's payload, never the plan.
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
  type PlannedAction,
  type ResourceTypeId,
  type TypeCounts,
} from './model';
import { checkCaps, evaluate, zeroCounts } from './policy';
import { adapters } from './resources';
import { actionsOf } from '../../shared/ledger/actions-repository';

/** Environment variable: resources one Plan invocation discovers before it hands over to the next. */
export const PLAN_BUDGET_ENV = 'PLAN_RESOURCES_PER_INVOCATION';
export const DEFAULT_PLAN_BUDGET = 2_000;
/** An invocation also stops when less than this is left of its timeout. */
const TIME_MARGIN_MS = 120_000;

const TypeCountsSchema = z.object(
  Object.fromEntries(Object.keys(zeroCounts()).map((k) => [k, z.int().check(z.nonnegative())])) as Record<
    keyof TypeCounts,
    z.ZodMiniInt
  >,
);

/** What one Plan invocation hands to the next (and, once done, to Apply and Report). */
export const PlanProgress = z.object({
  done: z.boolean(),
  /** Invocations so far, this one included: the step record's index. */
  invocations: z.int().check(z.nonnegative()),
  /** Where the next invocation resumes: the index among the enabled types, and the discovery token. */
  next: z.optional(z.object({ type: z.int().check(z.nonnegative()), token: z.optional(z.string()) })),
  dryRun: z.optional(z.boolean()),
  simulatedAccount: z.optional(z.boolean()),
  discovered: z.optional(z.int().check(z.nonnegative())),
  counts: z.optional(z.record(z.string(), TypeCountsSchema)),
  planned: z.optional(z.object({ mark: z.int(), release: z.int(), cancel: z.int() })),
  estimatedMonthlySavingUsd: z.optional(z.number()),
  /** Plan batches written so far (numbered from 0). */
  batchCount: z.optional(z.int().check(z.nonnegative())),
  /** Once done, for a run that applies: the batch numbers for the Apply Map; empty for a dry run. */
  batches: z.optional(z.array(z.int())),
});
export type PlanProgress = z.infer<typeof PlanProgress>;

export const PlanData = z.object({
  input: ReleaseInput,
  results: z.object({ Plan: z.optional(PlanProgress) }),
});
export type PlanData = z.infer<typeof PlanData>;

/** The Plan step's output: its progress, complete. */
export interface PlanOutput {
  done: boolean;
  invocations: number;
  next?: { type: number; token?: string };
  dryRun: boolean;
  simulatedAccount: boolean;
  discovered: number;
  counts: Record<string, TypeCounts>;
  planned: { mark: number; release: number; cancel: number };
  /** Estimated monthly saving of the planned releases (USD, list prices). */
  estimatedMonthlySavingUsd: number;
  batchCount: number;
  /** Batch numbers for the Apply Map, once done; empty for a dry run, which touches nothing. */
  batches: number[];
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

function budgetOf(ctx: StepContext): number {
  const raw = ctx.env[PLAN_BUDGET_ENV];
  const n = raw === undefined ? DEFAULT_PLAN_BUDGET : Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${PLAN_BUDGET_ENV} must be a positive whole number (got "${raw}")`);
  return n;
}

function addCounts(into: Record<string, TypeCounts>, from: Record<ResourceTypeId, TypeCounts>): void {
  for (const [type, counts] of Object.entries(from)) {
    const total = (into[type] ??= zeroCounts());
    for (const key of Object.keys(counts) as Array<keyof TypeCounts>) total[key] += counts[key];
  }
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
  const prior = data.results.Plan;
  const started = prior?.next ?? { type: 0 };
  const now = ctx.now();
  const at = now.toISOString();
  const budget = budgetOf(ctx);
  const types = RESOURCE_TYPES.filter((type) => input.policy.types[type].enabled);
  const tagKeys = [input.policy.optIn.tagKey, TAGS.RELEASE_AFTER];

  const counts: Record<string, TypeCounts> = { ...(prior?.counts ?? {}) };
  for (const type of RESOURCE_TYPES) counts[type] = { ...(counts[type] ?? zeroCounts()) };
  const planned = { ...(prior?.planned ?? { mark: 0, release: 0, cancel: 0 }) };
  let saving = prior?.estimatedMonthlySavingUsd ?? 0;
  let discovered = prior?.discovered ?? 0;
  let batchCount = prior?.batchCount ?? 0;
  let pending: PlannedAction[] = [];
  const flush = async (all: boolean) => {
    while (pending.length >= input.policy.batchSize || (all && pending.length > 0)) {
      await actionsOf(ctx.ledger).writePlanBatch({
        runId: ctx.run.runId,
        jobId: ctx.run.jobId,
        batch: batchCount,
        dryRun: input.dryRun,
        at,
        actions: pending.slice(0, input.policy.batchSize).map(toPlanEntry),
        expiresAt: ctx.run.expiresAt,
      });
      batchCount += 1;
      pending = pending.slice(input.policy.batchSize);
    }
  };

  let next: { type: number; token?: string } | undefined;
  let thisInvocation = 0;
  discovery: for (let t = started.type; t < types.length; t += 1) {
    const type = types[t] as ResourceTypeId;
    const startingToken = t === started.type ? started.token : undefined;
    for await (const page of adapters[type].discover(clients, {
      tagKeys,
      ...(startingToken ? { startingToken } : {}),
    })) {
      const result = evaluate(page.resources, input.policy, now);
      addCounts(counts, result.counts);
      for (const action of result.actions) {
        planned[action.kind] += 1;
        saving += action.estimatedMonthlySavingUsd ?? 0;
      }
      pending.push(...result.actions);
      await flush(false);
      discovered += page.resources.length;
      thisInvocation += page.resources.length;
      const outOfBudget = thisInvocation >= budget || ctx.remainingMs() < TIME_MARGIN_MS;
      if (outOfBudget && (page.nextToken !== undefined || t + 1 < types.length)) {
        next = page.nextToken === undefined ? { type: t + 1 } : { type: t, token: page.nextToken };
        break discovery;
      }
    }
  }
  await flush(true);
  const done = next === undefined;
  const invocations = (prior?.invocations ?? 0) + 1;
  const output: PlanOutput = {
    done,
    invocations,
    ...(next ? { next } : {}),
    dryRun: input.dryRun,
    simulatedAccount: isSimulated(ctx.env),
    discovered,
    counts,
    planned,
    estimatedMonthlySavingUsd: Math.round(saving * 100) / 100,
    batchCount,
    batches: done && !input.dryRun ? Array.from({ length: batchCount }, (_, i) => i) : [],
  };
  logger.info(done ? 'Plan recorded' : 'Plan slice recorded', {
    invocation: invocations,
    discoveredThisInvocation: thisInvocation,
    discovered,
    planned,
    batches: batchCount,
    dryRun: input.dryRun,
  });
  // The whole plan's counts are known now: fail the run before Apply touches anything.
  if (done) checkCaps({ actions: [], counts: counts as Record<ResourceTypeId, TypeCounts> }, input.policy);
  return output;
}

export const handler = jobStep(PlanData, (data, ctx) => plan(data, ctx));
