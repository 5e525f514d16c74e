/**
 * The one handler style of the project. Every Lambda handler is built by {@link lifecycleHandler} or
 * {@link jobStep}, which:
 * - validate the event with a zod schema (a bad event is an `InvalidInput` that names the field);
 * - read the function's configuration once per environment and build its dependencies;
 * - set up Powertools: the execution ARN as correlation id, `jobId`/`runId`/`step` log keys, tracing and
 *   metrics;
 * - for job steps, record the step in the run ledger (status, attempt, start, end, duration, error) without
 *   any extra state in the state machine.
 *
 * The returned handler also has `forEnv(env)`, which the local runtime uses to give each function its own
 * environment from the synthesized template instead of the process-wide `process.env`.
 */
import type { Context } from 'aws-lambda';
import type * as z from './zod';
import { ledgerFor } from './aws-clients';
import { BaseConfig, ENV, readConfig, type Env } from './config';
import { MAX_STEP_OUTPUT_BYTES, StepStatus } from './constants';
import { storedJson } from './json';
import { RunRef, StepEnvelope, StepRef } from './contracts';
import { describeError, InvalidInput, LedgerUnavailable, StepNotStarted } from './errors';
import type { Ledger } from './ledger/ledger';
import { logger, metrics, MetricUnit, tracing } from './powertools';
import { fieldIssues } from './validation';
import { reopenRun } from './ledger/run-redrive';

export type InvokeFn<R> = (event: unknown, context?: Partial<Context>) => Promise<R>;
export type TaskHandler<R> = InvokeFn<R> & { forEnv(env: Env): InvokeFn<R> };

/** What every piece of task logic may use. Tests build it themselves. */
export interface TaskDeps {
  ledger: Ledger;
  env: Env;
  now: () => Date;
}

function parse<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  what: string,
  prefix: string[] = [],
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInput(fieldIssues(result.error, prefix), what);
  return result.data;
}

function depsFor(env: Env): TaskDeps {
  const config = readConfig(BaseConfig, env);
  return { ledger: ledgerFor(config[ENV.TABLE_NAME]), env, now: () => new Date() };
}

function build<R>(
  invoke: (event: unknown, env: Env, context?: Partial<Context>) => Promise<R>,
): TaskHandler<R> {
  const handler = ((event: unknown, context?: Partial<Context>) =>
    invoke(event, process.env, context)) as TaskHandler<R>;
  handler.forEnv = (env: Env) => (event: unknown, context?: Partial<Context>) => invoke(event, env, context);
  return handler;
}

async function withPowertools<R>(
  name: string,
  keys: Record<string, string>,
  correlationId: string | undefined,
  context: Partial<Context> | undefined,
  work: () => Promise<R>,
): Promise<R> {
  if (context?.awsRequestId) logger.addContext(context as Context);
  // The dashboard's cold starts per function (emitted at once, on the first invocation of a container only).
  metrics.captureColdStartMetric(context?.functionName);
  logger.appendKeys(keys);
  if (correlationId) logger.setCorrelationId(correlationId);
  const subsegment = tracing.startInvocation(name, keys);
  let failure: unknown;
  try {
    return await work();
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    subsegment.close(failure === undefined ? {} : { error: failure });
    // Publishing nothing would log a "No application metrics to publish" warning on every invocation; the
    // dimensions are cleared either way, so the next invocation in this container starts clean.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    else {
      metrics.clearDimensions();
      metrics.clearMetadata();
    }
    logger.removeKeys(Object.keys(keys));
  }
}

/**
 * A lifecycle handler (StartRun, FinishRun, FailRun, Reconcile, Sweep): validated event, configuration,
 * Powertools; no step record, since the lifecycle is the thing that records runs.
 */
export function lifecycleHandler<S extends z.ZodMiniType, R>(
  name: string,
  schema: S,
  logic: (event: z.infer<S>, deps: TaskDeps) => Promise<R>,
): TaskHandler<R> {
  return build(async (raw, env, context) => {
    const deps = depsFor(env);
    const event = parse(schema, raw, `${name} event`);
    const { jobId, runId, executionArn } = runOf(event);
    const keys: Record<string, string> = { handler: name };
    if (jobId) keys.jobId = jobId;
    if (runId) keys.runId = runId;
    return withPowertools(name, keys, executionArn, context, () => logic(event, deps));
  });
}

/**
 * The run a lifecycle event is about, for log keys and the correlation id. FinishRun and FailRun carry a
 * `run`; StartRun has only `execution` and `job` (the run does not exist yet); the reconciler gets an
 * EventBridge `detail`. Other events (the sweep) are about no single run.
 */
function runOf(event: unknown): { jobId?: string; runId?: string; executionArn?: string } {
  if (typeof event !== 'object' || event === null) return {};
  const { run, execution, job, detail } = event as {
    run?: Partial<RunRef>;
    execution?: { id?: string; name?: string };
    job?: { id?: string };
    detail?: { executionArn?: string; name?: string };
  };
  return {
    jobId: run?.jobId ?? job?.id,
    runId: run?.runId ?? execution?.name ?? detail?.name,
    executionArn: run?.executionArn ?? execution?.id ?? detail?.executionArn,
  };
}

/** What a job step's logic receives besides its validated data. */
export interface StepContext extends TaskDeps {
  run: RunRef;
  step: StepRef;
  attempt: number;
  /** What is left of the invocation's time, in ms (Lambda's getRemainingTimeInMillis). */
  remainingMs: () => number;
}

/**
 * A job step handler. The event is the {@link StepEnvelope} built by the workflow; `data` is validated by
 * the step's own schema. The step is recorded in the run's ledger partition around the logic.
 */
export function jobStep<S extends z.ZodMiniType, R>(
  schema: S,
  logic: (data: z.infer<S>, ctx: StepContext) => Promise<R>,
): TaskHandler<R> {
  return build(async (raw, env, context) => {
    const deps = depsFor(env);
    const envelope = parse(StepEnvelope, raw, 'step event');
    const { run, step } = envelope;
    const keys: Record<string, string> = { jobId: run.jobId, runId: run.runId, step: step.name };
    const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 60_000) - DEADLINE_MARGIN_MS;
    return withPowertools(step.name, keys, run.executionArn, context, async () => {
      const started = deps.now();
      let attempt: number;
      try {
        // A redriven execution runs this step again: reopen the run first (once per redrive; see Ledger).
        const { redrive } = envelope;
        if (redrive && redrive.count > 0) await reopenRun(deps.ledger, run, redrive, started);
        attempt = await deps.ledger.runs.startStep(
          run.runId,
          step.name,
          step.itemIndex,
          started.toISOString(),
          run.expiresAt,
        );
      } catch (error) {
        // Nothing ran yet: the workflow retries StepNotStarted with backoff (stacks/constructs/retries.ts).
        throw error instanceof LedgerUnavailable ? new StepNotStarted(step.name, error) : error;
      }
      metrics.addDimension('job', run.jobId);
      const end = (status: StepStatus, error?: { name: string; cause: string }) => {
        const ended = deps.now();
        return {
          status,
          endedAt: ended.toISOString(),
          durationMs: ended.getTime() - started.getTime(),
          attempt,
          ...(error ? { error } : {}),
        };
      };
      let output: R;
      try {
        const data = parse(schema, envelope.data, `${step.name} data`, ['data']);
        const remainingMs = () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
        output = await logic(data, { ...deps, run, step, attempt, remainingMs });
      } catch (error) {
        const { name, message } = describeError(error);
        logger.error('Step failed', { error: error as Error, attempt });
        metrics.addMetric('StepFailed', MetricUnit.Count, 1);
        // The step's own error is what the run must record (FailRun gets it); a ledger failure here is logged.
        await recordStepEnd(deps, run, step, end(StepStatus.FAILED, { name, cause: message }), deadline);
        throw error;
      }
      const text = JSON.stringify(output);
      const ended = {
        ...end(StepStatus.SUCCEEDED),
        ...(text === undefined ? {} : { output: storedJson(text, MAX_STEP_OUTPUT_BYTES) }),
      };
      // The logic has done its work, which may not be repeatable: a step end that cannot be recorded must not
      // fail the step. It is retried until the deadline, then logged; FinishRun still records the run.
      await recordStepEnd(deps, run, step, ended, deadline);
      metrics.addMetric('StepSucceeded', MetricUnit.Count, 1);
      metrics.addMetric('StepDuration', MetricUnit.Milliseconds, ended.durationMs);
      return output;
    });
  });
}

/** Stop retrying a step record this long before the function's own timeout. */
const DEADLINE_MARGIN_MS = 3_000;
/** Pauses between in-process retries of a step end record, on top of the SDK's own attempts. */
const STEP_END_RETRY_MS = [250, 500, 1_000, 2_000, 4_000, 8_000] as const;

/**
 * Record the end of a step, retrying a ledger outage in-process (about 16 s of pauses, within `deadline`).
 * When it still cannot be written, the step's start record stays as the last word on it: the failure is
 * logged with the whole end record and counted (`StepRecordFailed`), and the step's outcome stands.
 */
async function recordStepEnd(
  deps: TaskDeps,
  run: RunRef,
  step: StepRef,
  end: Parameters<TaskDeps['ledger']['runs']['endStep']>[3],
  deadline: number,
): Promise<void> {
  for (let retry = 0; ; retry += 1) {
    try {
      await deps.ledger.runs.endStep(run.runId, step.name, step.itemIndex, end);
      return;
    } catch (error) {
      const pause = STEP_END_RETRY_MS[retry];
      if (error instanceof LedgerUnavailable && pause !== undefined && Date.now() + pause < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      logger.error('Could not record the end of the step', { error: error as Error, stepEnd: end });
      metrics.addMetric('StepRecordFailed', MetricUnit.Count, 1);
      return;
    }
  }
}
