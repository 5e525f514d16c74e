/**
 * The sweep, every 15 minutes. Status-change events are best effort, so a run whose execution ended without
 * reaching FinishRun or FailRun may never reach the reconciler either. The sweep asks Step Functions about
 * every run the ledger still has as RUNNING, ends those whose execution has ended, and releases locks that
 * outlived their run.
 */
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { RunStatus } from '../../shared/constants';
import { readJobMachines, type JobMachine } from '../../shared/config';
import { errorFromStates } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import type { RunFinal } from '../../shared/ledger/runs-repository';
import type { RunRecord } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit, tracer } from '../../shared/powertools';
import { runStatusOf } from './reconcile';

/** The schedule's event; nothing in it is used. */
export const SweepEvent = z.looseObject({});
export type SweepEvent = z.infer<typeof SweepEvent>;

export interface SweepDeps extends TaskDeps {
  sfn: SFNClient;
}

export interface SweepResult {
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
  /** Job locks released, by ending their run or because their lease expired after the run ended. */
  locksReleased: number;
}

export const FINALIZED_BY_SWEEP = 'sweep';
/** Runs younger than this are left alone: their status-change event may simply not have arrived yet. */
export const SWEEP_GRACE_MS = 5 * 60_000;
/** How far past a job's timeout the sweep still looks for RUNNING runs. */
const LOOKBACK_MARGIN_MS = 86_400_000;
const PAGE_SIZE = 50;

export async function sweep(_event: SweepEvent, deps: SweepDeps): Promise<SweepResult> {
  const machines = readJobMachines(deps.env);
  const result: SweepResult = {
    jobs: machines.length,
    checked: 0,
    stillRunning: 0,
    finalized: 0,
    notFound: 0,
    alreadyFinal: 0,
    locksReleased: 0,
  };
  for (const machine of machines) {
    const now = deps.now();
    const checked = new Set<string>();
    for await (const run of staleRunningRuns(deps, machine, now)) {
      checked.add(run.runId);
      await settle(deps, run, result);
    }
    await releaseStaleLock(deps, machine, checked, result);
  }
  logger.info('Sweep done', { ...result });
  return result;
}

const sfn = tracer.captureAWSv3Client(new SFNClient({ maxAttempts: 5 }));

export const handler = lifecycleHandler('Sweep', SweepEvent, async (event, deps) => {
  const result = await sweep(event, { ...deps, sfn });
  metrics.addMetric('SweepFinalized', MetricUnit.Count, result.finalized);
  metrics.addMetric('SweepLocksReleased', MetricUnit.Count, result.locksReleased);
  return result;
});

/**
 * RUNNING runs started between the job's longest possible execution (plus a day) ago and the grace period ago:
 * one query per page on the job's runs, whatever the length of its history.
 */
async function* staleRunningRuns(deps: SweepDeps, machine: JobMachine, now: Date): AsyncGenerator<RunRecord> {
  const since = new Date(now.getTime() - machine.timeoutSeconds * 1000 - LOOKBACK_MARGIN_MS).toISOString();
  const until = new Date(now.getTime() - SWEEP_GRACE_MS).toISOString();
  let cursor: string | undefined;
  do {
    const page = await deps.ledger.runs.listByJob(machine.jobId, {
      status: RunStatus.RUNNING,
      since,
      until,
      limit: PAGE_SIZE,
      cursor,
    });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

/** Describe the run's execution and, when it has ended, end the run with its real status. */
async function settle(deps: SweepDeps, run: RunRecord, result: SweepResult): Promise<void> {
  result.checked += 1;
  const final = await executionOutcome(deps, run);
  if (!final) {
    result.stillRunning += 1;
    return;
  }
  const nowIso = deps.now().toISOString();
  const closed = await deps.ledger.closeRun(run, final, nowIso);
  if (closed.lockReleased) result.locksReleased += 1;
  if (!closed.finalized) {
    result.alreadyFinal += 1;
    return;
  }
  result.finalized += 1;
  if (final.error?.name === EXECUTION_NOT_FOUND) result.notFound += 1;
  logger.warn('Sweep ended a run', {
    jobId: run.jobId,
    runId: run.runId,
    status: final.status,
    error: final.error,
  });
}

const EXECUTION_NOT_FOUND = 'ExecutionNotFound';

/** How the run's execution ended, or `undefined` while it runs. */
async function executionOutcome(deps: SweepDeps, run: RunRecord): Promise<RunFinal | undefined> {
  const nowIso = deps.now().toISOString();
  try {
    const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
    const status = runStatusOf(execution.status ?? '');
    if (!status) return undefined;
    const endedAt = execution.stopDate ? execution.stopDate.toISOString() : nowIso;
    const error =
      status === RunStatus.SUCCEEDED
        ? undefined
        : errorFromStates(execution.error ?? status, execution.cause);
    return { status, endedAt, finalizedBy: FINALIZED_BY_SWEEP, ...(error ? { error } : {}) };
  } catch (error) {
    if (!(error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist'))
      throw error;
    return {
      status: RunStatus.FAILED,
      endedAt: nowIso,
      finalizedBy: FINALIZED_BY_SWEEP,
      error: { name: EXECUTION_NOT_FOUND, cause: `Step Functions has no execution ${run.executionArn}` },
    };
  }
}

/**
 * A lock whose lease has expired and whose holder is final (or was never recorded: StartRun died between
 * taking the lock and recording the run) blocks nobody, since the next run takes it over, but it makes the
 * job look busy. Release it. A holder still RUNNING that the window above missed is settled first.
 */
async function releaseStaleLock(
  deps: SweepDeps,
  machine: JobMachine,
  checked: ReadonlySet<string>,
  result: SweepResult,
): Promise<void> {
  const state = await deps.ledger.jobs.getState(machine.jobId);
  const nowIso = deps.now().toISOString();
  if (!state.lockRunId || !state.lockExpiresAt || state.lockExpiresAt >= nowIso) return;
  const holder = await deps.ledger.runs.find(state.lockRunId);
  if (holder?.status === RunStatus.RUNNING && !checked.has(holder.runId)) {
    await settle(deps, holder, result);
    return; // Ending the run released its lock, or it still runs and keeps it.
  }
  if (holder?.status === RunStatus.RUNNING) return;
  if (await deps.ledger.jobs.releaseLock(machine.jobId, state.lockRunId, nowIso)) {
    result.locksReleased += 1;
    logger.info('Released an expired lock', { jobId: machine.jobId, holderRunId: state.lockRunId });
  }
}
