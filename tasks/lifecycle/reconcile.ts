/**
 * The reconciler: EventBridge "Step Functions Execution Status Change" events for the job state machines.
 * An execution that is aborted, times out, or fails outside the job's catch (a States.Runtime error, a failed
 * StartRun) never reaches FinishRun or FailRun, so its run would stay RUNNING and keep the job lock until the
 * lease ran out. The reconciler ends such runs from what Step Functions reports.
 */
import * as z from 'zod';
import { DEFAULT_RETENTION_DAYS, RunStatus, TriggerType } from '../../shared/constants';
import { ENV, readJobMachines, type JobMachine } from '../../shared/config';
import { ExecutionStatusChange, Trigger } from '../../shared/contracts';
import { errorFromStates, RunAlreadyExists } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import { epochSeconds } from '../../shared/ledger/dynamo';
import type { ErrorInfo, RunRecord } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit } from '../../shared/powertools';

/** The EventBridge envelope; only `detail` is used. */
export const ReconcileEvent = z.looseObject({ detail: ExecutionStatusChange });
export type ReconcileEvent = z.infer<typeof ReconcileEvent>;

export type ReconcileResult =
  | { action: 'ignored'; executionArn: string; reason: string }
  | {
      /**
       * `finalized`: the run was RUNNING and is now final. `already-final`: FinishRun or FailRun came first,
       * only a lock the run still held was released. `created`: the ledger had no run for the execution
       * (StartRun never ran, or died first), so one was recorded from the event.
       */
      action: 'finalized' | 'already-final' | 'created';
      jobId: string;
      runId: string;
      status: RunStatus;
      lockReleased: boolean;
    };

export const FINALIZED_BY_RECONCILER = 'reconciler';

export async function reconcile(event: ReconcileEvent, deps: TaskDeps): Promise<ReconcileResult> {
  const { detail } = event;
  const machine = readJobMachines(deps.env).find((m) => m.stateMachineArn === detail.stateMachineArn);
  if (!machine) {
    // The rule matches our state machines only; anything else is not ours to touch.
    const reason = `state machine ${detail.stateMachineArn} is not in ${ENV.STATE_MACHINES}`;
    logger.info('Ignoring a status change', { executionArn: detail.executionArn, reason });
    return { action: 'ignored', executionArn: detail.executionArn, reason };
  }
  const status = runStatusOf(detail.status);
  if (!status) {
    const reason = `execution is ${detail.status}, not final`;
    logger.info('Ignoring a status change', { executionArn: detail.executionArn, reason });
    return { action: 'ignored', executionArn: detail.executionArn, reason };
  }
  const nowIso = deps.now().toISOString();
  const endedAt = detail.stopDate ? new Date(detail.stopDate).toISOString() : nowIso;
  const error =
    status === RunStatus.SUCCEEDED ? undefined : errorFromStates(detail.error ?? status, detail.cause);
  const runId = detail.name;
  const outcome = { jobId: machine.jobId, runId, status };

  let existing = await deps.ledger.runs.find(runId);
  if (!existing) {
    const record = recordFromEvent(detail, machine, status, endedAt, error);
    try {
      await deps.ledger.runs.create(record);
      const lockReleased = await deps.ledger.jobs.recordRunEnd(
        machine.jobId,
        { runId, status, startedAt: record.startedAt, endedAt },
        nowIso,
      );
      logger.warn('Recorded a run StartRun never recorded', { ...outcome, error });
      return { action: 'created', ...outcome, lockReleased };
    } catch (createError) {
      if (!(createError instanceof RunAlreadyExists)) throw createError;
      existing = await deps.ledger.runs.get(runId);
    }
  }
  const closed = await deps.ledger.closeRun(
    existing,
    { status, endedAt, finalizedBy: FINALIZED_BY_RECONCILER, ...(error ? { error } : {}) },
    nowIso,
  );
  if (closed.finalized) logger.warn('Finalized a run the state machine did not', { ...outcome, error });
  return {
    action: closed.finalized ? 'finalized' : 'already-final',
    jobId: machine.jobId,
    runId,
    status: closed.run.status,
    lockReleased: closed.lockReleased,
  };
}

export const handler = lifecycleHandler('Reconcile', ReconcileEvent, async (event, deps) => {
  const result = await reconcile(event, deps);
  if (result.action !== 'ignored') metrics.addDimension('job', result.jobId);
  metrics.addMetric(result.action === 'ignored' ? 'ReconcileIgnored' : 'RunReconciled', MetricUnit.Count, 1);
  return result;
});

/** The final run status for an execution status; `undefined` while the execution is not final. */
export function runStatusOf(executionStatus: string): RunStatus | undefined {
  switch (executionStatus) {
    case 'SUCCEEDED':
      return RunStatus.SUCCEEDED;
    case 'FAILED':
      return RunStatus.FAILED;
    case 'TIMED_OUT':
      return RunStatus.TIMED_OUT;
    case 'ABORTED':
      return RunStatus.ABORTED;
    default:
      // RUNNING, and PENDING_REDRIVE (a redrive is starting; its own end will be reported).
      return undefined;
  }
}

/** A run record for an execution StartRun never recorded, built from what the event says about it. */
function recordFromEvent(
  detail: ExecutionStatusChange,
  machine: JobMachine,
  status: RunStatus,
  endedAt: string,
  error: ErrorInfo | undefined,
): RunRecord {
  const startedAt = detail.startDate ? new Date(detail.startDate).toISOString() : endedAt;
  const { trigger, input } = splitInput(detail.input);
  const retentionDays = machine.retentionDays ?? DEFAULT_RETENTION_DAYS;
  return {
    runId: detail.name,
    executionArn: detail.executionArn,
    jobId: machine.jobId,
    status,
    trigger,
    input,
    startedAt,
    endedAt,
    durationMs: Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)),
    expiresAt: epochSeconds(startedAt) + Math.round(retentionDays * 86_400),
    finalizedBy: FINALIZED_BY_RECONCILER,
    ...(error ? { error } : {}),
  };
}

/** The execution input as StartRun would have split it: the trigger when it is valid, and the rest. */
function splitInput(raw: string | null | undefined): { trigger: Trigger; input: unknown } {
  const manual: Trigger = { type: TriggerType.MANUAL };
  if (raw === null || raw === undefined) return { trigger: manual, input: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { trigger: manual, input: raw };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { trigger: manual, input: parsed };
  const { trigger: rawTrigger, ...rest } = parsed as Record<string, unknown>;
  if (rawTrigger === undefined) return { trigger: manual, input: rest };
  const trigger = Trigger.safeParse(rawTrigger);
  // An unusable trigger stays in the input, so what the caller sent is kept.
  return trigger.success ? { trigger: trigger.data, input: rest } : { trigger: manual, input: parsed };
}
