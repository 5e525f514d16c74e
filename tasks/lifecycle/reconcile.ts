/**
 * The reconciler: EventBridge "Step Functions Execution Status Change" events for the job state machines.
 * An execution that is aborted, times out, or fails outside the job's catch (a States.Runtime error, a failed
 * StartRun, a FailRun that could not write) never gets its end recorded by the state machine, so its run
 * would stay RUNNING and keep the job lock until the lease ran out. The reconciler ends such runs from what
 * Step Functions reports, and records the run when StartRun never did.
 *
 * It is invoked asynchronously; an invocation that still fails after Lambda's own retries goes to the
 * reconciler's failure queue (an alarm watches it), and the sweep covers the same runs in any case.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import * as z from '../../shared/zod';
import { ENV, readJobMachines } from '../../shared/config';
import { stepFunctions } from '../../shared/aws-clients';
import { ExecutionStatusChange } from '../../shared/contracts';
import { RunAlreadyExists } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import type { RunStatus } from '../../shared/constants';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import {
  describeExecution,
  executionError,
  recordForExecution,
  runStatusOf,
  type ExecutionFacts,
} from './execution-record';

export { runStatusOf } from './execution-record';

/** The EventBridge envelope; only `detail` is used. */
export const ReconcileEvent = z.looseObject({ detail: ExecutionStatusChange });
export type ReconcileEvent = z.infer<typeof ReconcileEvent>;

export interface ReconcileDeps extends TaskDeps {
  /** Reads the execution input when the event left it out (inputs too large for an event). */
  sfn: () => SFNClient;
}

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

export async function reconcile(event: ReconcileEvent, deps: ReconcileDeps): Promise<ReconcileResult> {
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
  const facts = factsOf(detail);
  const runId = detail.name;
  const outcome = { jobId: machine.jobId, runId, status };

  let existing = await deps.ledger.runs.find(runId);
  if (!existing) {
    // An event carries the input only when it fits; otherwise ask Step Functions for it, so it is not lost.
    const withInput =
      facts.input === undefined
        ? { ...facts, input: (await describeExecution(deps.sfn(), facts.executionArn))?.input }
        : facts;
    const record = recordForExecution(withInput, machine, status, FINALIZED_BY_RECONCILER, nowIso);
    try {
      await deps.ledger.runs.create(record);
      const lockReleased = await deps.ledger.jobs.recordRunEnd(
        machine.jobId,
        { runId, status, startedAt: record.startedAt, endedAt: record.endedAt },
        nowIso,
      );
      logger.warn('Recorded a run StartRun never recorded', { ...outcome, error: record.error });
      return { action: 'created', ...outcome, lockReleased };
    } catch (createError) {
      if (!(createError instanceof RunAlreadyExists)) throw createError;
      existing = await deps.ledger.runs.get(runId);
    }
  }
  const error = executionError(facts, status);
  const closed = await deps.ledger.closeRun(
    existing,
    {
      status,
      endedAt: facts.stopDate?.toISOString() ?? nowIso,
      finalizedBy: FINALIZED_BY_RECONCILER,
      ...(error ? { error } : {}),
    },
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
  const result = await reconcile(event, { ...deps, sfn: stepFunctions });
  if (result.action !== 'ignored') metrics.addDimension('job', result.jobId);
  metrics.addMetric(result.action === 'ignored' ? 'ReconcileIgnored' : 'RunReconciled', MetricUnit.Count, 1);
  return result;
});

function factsOf(detail: ExecutionStatusChange): ExecutionFacts {
  const included = detail.inputDetails?.included !== false;
  return {
    executionArn: detail.executionArn,
    name: detail.name,
    status: detail.status,
    ...(detail.startDate ? { startDate: new Date(detail.startDate) } : {}),
    ...(detail.stopDate ? { stopDate: new Date(detail.stopDate) } : {}),
    ...(included && typeof detail.input === 'string' ? { input: detail.input } : {}),
    ...(detail.error ? { error: detail.error } : {}),
    ...(detail.cause ? { cause: detail.cause } : {}),
  };
}
