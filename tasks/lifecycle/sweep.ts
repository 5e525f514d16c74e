/**
 * The sweep, every 15 minutes: the backstop of the failure model (docs/architecture.md). Status-change events
 * are best effort and a finalizer may be unable to write, so per job the sweep:
 *
 * 1. asks Step Functions about every run the ledger still has as RUNNING and ends those whose execution has
 *    ended, with the execution's own status (a SUCCEEDED execution whose FinishRun could not write becomes a
 *    SUCCEEDED run, with the output summary taken from the execution's output);
 * 2. lists the executions that ended since its last pass and records any that has no run record (StartRun
 *    failed or died: a claimed slot's owner always gets a record, so a DUPLICATE always points at a run);
 * 3. releases the job lock when its holder is final, was never recorded and its execution has ended, or is
 *    past its lease;
 * 4. compares the job's expected slots with the claimed ones: a slot no delivery came for is recorded MISSED,
 *    and made up when the job's `catchup` says so (tasks/lifecycle/missed-runs.ts).
 *
 * Local mode runs the same sweep against its own record of executions (local/execution-store.ts), with no
 * grace period, whenever a command starts; the slot check only at the end of a `schedule --local` window and
 * by `stepjobs sweep`, which pass the window of slots to check (a local schedule does not run on its own).
 */
import { ListExecutionsCommand, type ExecutionListItem, type SFNClient } from '@aws-sdk/client-sfn';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import * as z from '../../shared/zod';
import { scheduler, stepFunctions } from '../../shared/aws-clients';
import { RunStatus } from '../../shared/constants';
import { readJobMachines, type JobMachine } from '../../shared/config';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import type { RunFinal } from '../../shared/ledger/runs-repository';
import type { RunRecord } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import {
  describeExecution,
  executionArnOf,
  executionError,
  recordForExecution,
  runStatusOf,
  type ExecutionFacts,
} from './execution-record';
import { outputSummary } from './execution-record';
import { checkSlots, emptySlotCheck, type SlotCheckResult } from './missed-runs';

/**
 * The sweep's event. The periodic sweep's carries nothing: it checks slots from where its last pass stopped.
 * `slots` checks an explicit window instead (both ends included), as local mode does.
 */
export const SweepEvent = z.looseObject({
  slots: z.optional(
    z.object({
      from: z.iso.datetime(),
      to: z.iso.datetime(),
      /** Only these jobs' slots. @default every job */
      jobs: z.optional(z.array(z.string())),
    }),
  ),
});
export type SweepEvent = z.infer<typeof SweepEvent>;

export interface SweepDeps extends TaskDeps {
  sfn: SFNClient;
  /**
   * Runs and executions younger than this are left alone: their status-change event may simply not have
   * arrived yet. Local mode knows for certain whether an execution is alive, and passes 0.
   * @default SWEEP_GRACE_MS
   */
  graceMs?: number;
  /** The Scheduler, to read each job's deployed schedule; without it, slots are not checked. */
  scheduler?: SchedulerClient;
}

export interface SweepResult extends SlotCheckResult {
  jobs: number;
  /** RUNNING runs old enough to look at, each described once. */
  checked: number;
  stillRunning: number;
  /** Runs ended by the sweep with their execution's real status. */
  finalized: number;
  /** Of those, runs whose execution Step Functions does not know (recorded FAILED, ExecutionNotFound). */
  notFound: number;
  /** Runs that FinishRun, FailRun or the reconciler ended while the sweep was looking. */
  alreadyFinal: number;
  /** Ended executions that had no run record, now recorded. */
  recorded: number;
  /** Job locks released, by ending their run or because their holder is final, unknown or gone. */
  locksReleased: number;
  /** The runs the sweep ended or recorded, for the local recovery line. */
  repaired: Array<{ runId: string; jobId: string; status: RunStatus; how: 'finalized' | 'recorded' }>;
  /** Locks released on their own (not by ending their run): the holder was final, unrecorded or gone. */
  releasedLocks: Array<{ jobId: string; holderRunId: string }>;
}

export const FINALIZED_BY_SWEEP = 'sweep';
/** Runs younger than this are left alone: their status-change event may simply not have arrived yet. */
export const SWEEP_GRACE_MS = 5 * 60_000;
/** How far past a job's timeout the sweep still looks for RUNNING runs, and for executions on a first pass. */
const LOOKBACK_MARGIN_MS = 86_400_000;
const PAGE_SIZE = 50;
const EXECUTION_NOT_FOUND = 'ExecutionNotFound';

export function emptySweepResult(jobs = 0): SweepResult {
  return {
    jobs,
    checked: 0,
    stillRunning: 0,
    finalized: 0,
    notFound: 0,
    alreadyFinal: 0,
    recorded: 0,
    locksReleased: 0,
    repaired: [],
    releasedLocks: [],
    ...emptySlotCheck(),
  };
}

export async function sweep(event: SweepEvent, deps: SweepDeps): Promise<SweepResult> {
  const machines = readJobMachines(deps.env);
  const result = emptySweepResult(machines.length);
  for (const machine of machines) {
    const checked = new Set<string>();
    for await (const run of staleRunningRuns(deps, machine)) {
      checked.add(run.runId);
      await settle(deps, machine, run, result);
    }
    await recordUnrecordedExecutions(deps, machine, result);
    await releaseStaleLock(deps, machine, checked, result);
    if (deps.scheduler && (!event.slots?.jobs || event.slots.jobs.includes(machine.jobId))) {
      const state = await deps.ledger.jobs.getState(machine.jobId);
      const window = event.slots && { from: new Date(event.slots.from), to: new Date(event.slots.to) };
      await checkSlots({ ...deps, scheduler: deps.scheduler }, machine, state, result, window);
    }
  }
  const { repaired: _repaired, releasedLocks: _released, missed, caughtUp, ...counts } = result;
  logger.info('Sweep done', { ...counts, missed: missed.length, caughtUp: caughtUp.length });
  return result;
}

export const handler = lifecycleHandler('Sweep', SweepEvent, async (event, deps) => {
  const result = await sweep(event, { ...deps, sfn: stepFunctions(), scheduler: scheduler() });
  // Per job, zero included, so the job's MissedRuns alarm and dashboard see every pass.
  for (const machine of readJobMachines(deps.env)) {
    if (!machine.schedule?.enabled) continue;
    const single = metrics.singleMetric();
    single.addDimension('job', machine.jobId);
    single.addMetric(
      'MissedRuns',
      MetricUnit.Count,
      result.missed.filter((m) => m.jobId === machine.jobId).length,
    );
  }
  metrics.addMetric('CatchupRuns', MetricUnit.Count, result.caughtUp.length);
  metrics.addMetric('SweepFinalized', MetricUnit.Count, result.finalized);
  metrics.addMetric('SweepRecorded', MetricUnit.Count, result.recorded);
  metrics.addMetric('SweepLocksReleased', MetricUnit.Count, result.locksReleased);
  return result;
});

function graceOf(deps: SweepDeps): number {
  return deps.graceMs ?? SWEEP_GRACE_MS;
}

/**
 * RUNNING runs started between the job's longest possible execution (plus a day) ago and the grace period ago:
 * one query per page on the job's runs.
 */
async function* staleRunningRuns(deps: SweepDeps, machine: JobMachine): AsyncGenerator<RunRecord> {
  const now = deps.now().getTime();
  const since = new Date(now - machine.timeoutSeconds * 1000 - LOOKBACK_MARGIN_MS).toISOString();
  // Inclusive of "now" when there is no grace: a run recorded this millisecond is looked at too.
  const until = new Date(now - graceOf(deps) + 1).toISOString();
  let cursor: string | undefined;
  do {
    const page = await deps.ledger.runs.listByJob(machine.jobId, {
      status: RunStatus.RUNNING,
      since,
      until,
      runningSince: since,
      limit: PAGE_SIZE,
      cursor,
    });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

/** Describe the run's execution and, when it has ended, end the run with its real status. */
async function settle(
  deps: SweepDeps,
  machine: JobMachine,
  run: RunRecord,
  result: SweepResult,
): Promise<void> {
  result.checked += 1;
  const facts = await describeExecution(deps.sfn, run.executionArn ?? executionArnOf(machine, run.runId));
  const final = finalOf(deps, run, facts);
  if (!final) {
    result.stillRunning += 1;
    return;
  }
  const closed = await deps.ledger.closeRun(run, final, deps.now().toISOString());
  if (closed.lockReleased) result.locksReleased += 1;
  if (!closed.finalized) {
    result.alreadyFinal += 1;
    return;
  }
  result.finalized += 1;
  result.repaired.push({ runId: run.runId, jobId: run.jobId, status: final.status, how: 'finalized' });
  if (final.error?.name === EXECUTION_NOT_FOUND) result.notFound += 1;
  logger.warn('Sweep ended a run', {
    jobId: run.jobId,
    runId: run.runId,
    status: final.status,
    error: final.error,
  });
}

/** How the run's execution ended, or `undefined` while it runs. */
function finalOf(deps: SweepDeps, run: RunRecord, facts: ExecutionFacts | undefined): RunFinal | undefined {
  const nowIso = deps.now().toISOString();
  if (!facts) {
    return {
      status: RunStatus.FAILED,
      endedAt: nowIso,
      finalizedBy: FINALIZED_BY_SWEEP,
      error: { name: EXECUTION_NOT_FOUND, cause: `Step Functions has no execution ${run.executionArn}` },
    };
  }
  const status = runStatusOf(facts.status);
  if (!status) return undefined;
  const error = executionError(facts, status);
  const summary = status === RunStatus.SUCCEEDED ? succeededSummary(facts.output) : undefined;
  return {
    status,
    endedAt: facts.stopDate?.toISOString() ?? nowIso,
    finalizedBy: FINALIZED_BY_SWEEP,
    ...(error ? { error } : {}),
    ...(summary ? { output: summary.text, ...(summary.truncated ? { outputTruncated: true } : {}) } : {}),
  };
}

/**
 * The output summary FinishRun would have stored, from the execution's output: a SUCCEEDED execution whose
 * run is still RUNNING got past its steps, and its FinishRun could not write (the state machine catches that
 * failure and succeeds, leaving the results in the output).
 */
function succeededSummary(output: string | undefined): { text: string; truncated: boolean } | undefined {
  if (output === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return undefined;
  }
  const results = (parsed as { results?: unknown } | null)?.results;
  if (typeof results !== 'object' || results === null || Array.isArray(results)) return undefined;
  return outputSummary(results as Record<string, unknown>);
}

/**
 * Executions of the job that ended since the last pass (the job state's `sweptUntil`) and have no run record.
 * ListExecutions returns the newest first, so the walk stops at the first execution older than the mark. The
 * mark then moves to the start of the oldest execution still unresolved (running, or ended within the grace
 * period), so nothing is skipped and a quiet job costs one call.
 */
async function recordUnrecordedExecutions(
  deps: SweepDeps,
  machine: JobMachine,
  result: SweepResult,
): Promise<void> {
  const now = deps.now().getTime();
  const grace = graceOf(deps);
  const state = await deps.ledger.jobs.getState(machine.jobId);
  const mark = state.sweptUntil
    ? Date.parse(state.sweptUntil)
    : now - machine.timeoutSeconds * 1000 - LOOKBACK_MARGIN_MS;
  let nextMark = now - grace;
  const ended: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  listing: do {
    const page = await deps.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn, maxResults: 100, nextToken }),
    );
    for (const execution of page.executions ?? []) {
      const started = execution.startDate?.getTime() ?? 0;
      if (started < mark) break listing;
      const stopped = execution.stopDate?.getTime();
      const final = runStatusOf(execution.status ?? '') !== undefined;
      // Just ended: its status-change event may still be on its way to the reconciler.
      const recent = grace > 0 && (stopped === undefined || stopped > now - grace);
      if (!final || recent) nextMark = Math.min(nextMark, started);
      else ended.push(execution);
    }
    nextToken = page.nextToken;
  } while (nextToken);

  const names = ended.map((execution) => execution.name ?? '').filter(Boolean);
  const recorded = await deps.ledger.runs.existing(names);
  for (const execution of ended) {
    if (!execution.name || recorded.has(execution.name) || !execution.executionArn) continue;
    await recordExecution(deps, machine, execution.executionArn, result);
  }
  const nextMarkIso = new Date(nextMark).toISOString();
  if (nextMarkIso !== state.sweptUntil) await deps.ledger.jobs.setSweptUntil(machine.jobId, nextMarkIso);
}

/** Record an ended execution that has no run record, from its description (which has its input). */
async function recordExecution(
  deps: SweepDeps,
  machine: JobMachine,
  executionArn: string,
  result: SweepResult,
): Promise<void> {
  const facts = await describeExecution(deps.sfn, executionArn);
  const status = facts && runStatusOf(facts.status);
  if (!facts || !status) return;
  const nowIso = deps.now().toISOString();
  const record = recordForExecution(facts, machine, status, FINALIZED_BY_SWEEP, nowIso);
  const created = await deps.ledger.runs.createIfAbsent(record);
  if (!created) return;
  const lockReleased = await deps.ledger.jobs.recordRunEnd(
    machine.jobId,
    { runId: record.runId, status, startedAt: record.startedAt, endedAt: record.endedAt },
    nowIso,
  );
  if (lockReleased) result.locksReleased += 1;
  result.recorded += 1;
  result.repaired.push({ runId: record.runId, jobId: machine.jobId, status, how: 'recorded' });
  logger.warn('Sweep recorded an execution StartRun never recorded', {
    jobId: machine.jobId,
    runId: record.runId,
    status,
    error: record.error,
  });
}

/**
 * Release the job lock when its holder can no longer be running: its run is final; or it has no run record
 * and its execution has ended or does not exist; or its lease has expired (a lease outlives the state
 * machine's timeout). A holder still RUNNING that the first pass did not look at is settled first.
 */
async function releaseStaleLock(
  deps: SweepDeps,
  machine: JobMachine,
  checked: ReadonlySet<string>,
  result: SweepResult,
): Promise<void> {
  const state = await deps.ledger.jobs.getState(machine.jobId);
  if (!state.lockRunId) return;
  const holderId = state.lockRunId;
  const holder = await deps.ledger.runs.find(holderId);
  if (holder?.status === RunStatus.RUNNING) {
    const expired = state.lockExpiresAt !== undefined && state.lockExpiresAt < deps.now().toISOString();
    // Ending the run releases its lock; a run that still runs keeps it.
    if (expired && !checked.has(holderId)) await settle(deps, machine, holder, result);
    return;
  }
  if (!holder) {
    const facts = await describeExecution(deps.sfn, executionArnOf(machine, holderId));
    if (facts && !runStatusOf(facts.status)) return; // StartRun is still deciding (or retrying).
  }
  if (await deps.ledger.jobs.releaseLock(machine.jobId, holderId, deps.now().toISOString())) {
    result.locksReleased += 1;
    result.releasedLocks.push({ jobId: machine.jobId, holderRunId: holderId });
    logger.info('Released a lock that outlived its run', {
      jobId: machine.jobId,
      holderRunId: holderId,
      holderStatus: holder?.status ?? 'unrecorded',
    });
  }
}
