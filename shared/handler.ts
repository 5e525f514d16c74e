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
import * as z from 'zod';
import { ledgerFor } from './aws-clients';
import { BaseConfig, ENV, readConfig, type Env } from './config';
import { StepStatus } from './constants';
import { RunRef, StepEnvelope, StepRef } from './contracts';
import { describeError, InvalidInput } from './errors';
import type { Ledger } from './ledger/ledger';
import { logger, metrics, MetricUnit, tracer } from './powertools';
import { fieldIssues } from './validation';

export type InvokeFn<R> = (event: unknown, context?: Partial<Context>) => Promise<R>;
export type TaskHandler<R> = InvokeFn<R> & { forEnv(env: Env): InvokeFn<R> };

/** What every piece of task logic may use. Tests build it themselves. */
export interface TaskDeps {
  ledger: Ledger;
  env: Env;
  now: () => Date;
}

function parse<S extends z.ZodType>(
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
  logger.appendKeys(keys);
  if (correlationId) logger.setCorrelationId(correlationId);
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment(`## ${name}`);
  if (subsegment) tracer.setSegment(subsegment);
  try {
    return await work();
  } catch (error) {
    if (subsegment) tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
    metrics.publishStoredMetrics();
    logger.removeKeys(Object.keys(keys));
  }
}

/**
 * A lifecycle handler (StartRun, FinishRun, FailRun, Reconcile, Sweep): validated event, configuration,
 * Powertools; no step record, since the lifecycle is the thing that records runs.
 */
export function lifecycleHandler<S extends z.ZodType, R>(
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
}

/**
 * A job step handler. The event is the {@link StepEnvelope} built by the workflow; `data` is validated by
 * the step's own schema. The step is recorded in the run's ledger partition around the logic.
 */
export function jobStep<S extends z.ZodType, R>(
  schema: S,
  logic: (data: z.infer<S>, ctx: StepContext) => Promise<R>,
): TaskHandler<R> {
  return build(async (raw, env, context) => {
    const deps = depsFor(env);
    const envelope = parse(StepEnvelope, raw, 'step event');
    const { run, step } = envelope;
    const keys: Record<string, string> = { jobId: run.jobId, runId: run.runId, step: step.name };
    return withPowertools(step.name, keys, run.executionArn, context, async () => {
      const started = deps.now();
      const attempt = await deps.ledger.runs.startStep(
        run.runId,
        step.name,
        step.itemIndex,
        started.toISOString(),
        run.expiresAt,
      );
      metrics.addDimension('job', run.jobId);
      try {
        const data = parse(schema, envelope.data, `${step.name} data`, ['data']);
        const output = await logic(data, { ...deps, run, step, attempt });
        const ended = deps.now();
        await deps.ledger.runs.endStep(run.runId, step.name, step.itemIndex, {
          status: StepStatus.SUCCEEDED,
          endedAt: ended.toISOString(),
          durationMs: ended.getTime() - started.getTime(),
          attempt,
        });
        metrics.addMetric('StepSucceeded', MetricUnit.Count, 1);
        metrics.addMetric('StepDuration', MetricUnit.Milliseconds, ended.getTime() - started.getTime());
        return output;
      } catch (error) {
        const ended = deps.now();
        const { name, message } = describeError(error);
        logger.error('Step failed', { error: error as Error, attempt });
        await deps.ledger.runs.endStep(run.runId, step.name, step.itemIndex, {
          status: StepStatus.FAILED,
          endedAt: ended.toISOString(),
          durationMs: ended.getTime() - started.getTime(),
          attempt,
          error: { name, cause: message },
        });
        metrics.addMetric('StepFailed', MetricUnit.Count, 1);
        throw error;
      }
    });
  });
}
