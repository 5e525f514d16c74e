/**
 * StartRun, the first state of every job. It decides whether the execution runs the job's steps (RUN), ends
 * quietly (SKIP: a second delivery of a scheduled slot, a paused job, another run holding the lock) or ends
 * failed (REJECT: invalid input), and records a run in every case, so each execution has one run record.
 *
 * It may be retried by Lambda or by the state machine (the `queue` policy retries on LockHeld), so every write
 * is idempotent per run id: the slot claim and the lock accept their own run, and a second create of the run
 * record returns the decision the first one made.
 */
import type { z } from 'zod';
import {
  Decision,
  OverlapPolicy,
  RunStatus,
  SkipReason,
  SLOT_RETENTION_DAYS,
  TriggerType,
} from '../../shared/constants';
import { StartRunEvent, Trigger, type RunRef, type StartRunResult } from '../../shared/contracts';
import {
  ConfigError,
  DuplicateSlot,
  InvalidInput,
  LockHeld,
  RunAlreadyExists,
  type FieldIssue,
} from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import { addDays, epochSeconds } from '../../shared/ledger/dynamo';
import type { RunRecord } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import { fieldIssues } from '../../shared/validation';
import { jobInputs as registeredJobInputs } from './job-inputs';

export { StartRunEvent, StartRunResult } from '../../shared/contracts';

export interface StartRunDeps extends TaskDeps {
  /** The input schema of each job, by job id. @default the registry in tasks/lifecycle/job-inputs.ts */
  jobInputs?: Readonly<Record<string, z.ZodObject>>;
}

type JsonObject = Record<string, unknown>;

/** What every decision path needs: the run being decided and the clock reading it is decided at. */
interface Attempt {
  deps: StartRunDeps;
  ref: RunRef;
  now: Date;
  nowIso: string;
}

/**
 * Decide and record the run.
 *
 * A paused job skips only its scheduled triggers. Manual and CLI runs of a paused job still run: an operator
 * asked for them explicitly, and pausing is how one stops the schedule while working on a job by hand.
 */
export async function startRun(event: StartRunEvent, deps: StartRunDeps): Promise<StartRunResult> {
  const { job, execution } = event;
  const now = deps.now();
  const startedAt = isoTime(execution.startTime, 'execution.startTime');
  const split = splitExecutionInput(event.executionInput);
  const attempt: Attempt = {
    deps,
    now,
    nowIso: now.toISOString(),
    ref: {
      runId: execution.name,
      jobId: job.id,
      executionArn: execution.id,
      startedAt,
      trigger: split.trigger,
      expiresAt: epochSeconds(startedAt) + Math.round(job.retentionDays * 86_400),
    },
  };
  if (split.issues.length > 0) return reject(attempt, split.issues, event.executionInput, split.jobInput);
  const { trigger, jobInput } = split;
  const scheduled = trigger.type === TriggerType.SCHEDULE;

  if (scheduled && trigger.scheduledTime) {
    try {
      await deps.ledger.jobs.claimSlot(
        job.id,
        trigger.scheduledTime,
        attempt.ref.runId,
        addDays(attempt.nowIso, SLOT_RETENTION_DAYS),
      );
    } catch (error) {
      if (!(error instanceof DuplicateSlot)) throw error;
      return endEarly(
        attempt,
        jobInput,
        RunStatus.DUPLICATE,
        { relatedRunId: error.ownerRunId },
        error.message,
      );
    }
  }

  if (scheduled && (await deps.ledger.jobs.getState(job.id)).paused) {
    return endEarly(
      attempt,
      jobInput,
      RunStatus.SKIPPED,
      { skipReason: SkipReason.PAUSED },
      `Job ${job.id} is paused`,
    );
  }

  const schema = (deps.jobInputs ?? registeredJobInputs)[job.id];
  if (!schema) {
    throw new ConfigError(
      `No input schema is registered for job "${job.id}" (tasks/lifecycle/job-inputs.ts)`,
    );
  }
  const candidate =
    job.destructive && !scheduled && jobInput.dryRun === undefined ? { ...jobInput, dryRun: true } : jobInput;
  const parsed = schema.safeParse(candidate);
  if (!parsed.success) return reject(attempt, fieldIssues(parsed.error), jobInput, jobInput);
  const input = parsed.data as JsonObject;

  let tookOverFrom: string | undefined;
  if (job.overlap !== OverlapPolicy.ALLOW) {
    const leaseExpiresAt = new Date(now.getTime() + job.leaseSeconds * 1000).toISOString();
    try {
      ({ tookOverFrom } = await deps.ledger.jobs.acquireLock(
        job.id,
        attempt.ref.runId,
        attempt.nowIso,
        leaseExpiresAt,
      ));
    } catch (error) {
      if (!(error instanceof LockHeld)) throw error;
      const skip = { relatedRunId: error.holderRunId };
      if (job.overlap === OverlapPolicy.SKIP) {
        return endEarly(
          attempt,
          jobInput,
          RunStatus.SKIPPED,
          { ...skip, skipReason: SkipReason.OVERLAP },
          error.message,
        );
      }
      const waitedMs = now.getTime() - Date.parse(startedAt);
      if (waitedMs < job.queueMaxWaitSeconds * 1000) {
        // The state machine retries StartRun on LockHeld with backoff: that is the queue.
        logger.info('Waiting for the job lock', { holderRunId: error.holderRunId, waitedMs });
        throw error;
      }
      const reason = `Waited ${Math.round(waitedMs / 1000)} s for the lock; ${error.message}`;
      return endEarly(
        attempt,
        jobInput,
        RunStatus.SKIPPED,
        { ...skip, skipReason: SkipReason.QUEUE_TIMEOUT },
        reason,
      );
    }
  }

  const record: RunRecord = {
    ...attempt.ref,
    status: RunStatus.RUNNING,
    input,
    ...(tookOverFrom ? { tookOverFrom } : {}),
  };
  const existing = await createOrFind(attempt, record);
  if (existing) return resume(attempt, existing);
  if (tookOverFrom) logger.warn('Took over an expired job lock', { tookOverFrom });
  return { decision: Decision.RUN, run: attempt.ref, input, results: {} };
}

/** Lifecycle handler: StartRun's decision is also a metric (`RunDecision` by job and decision). */
export const handler = lifecycleHandler('StartRun', StartRunEvent, async (event, deps) => {
  const result = await startRun(event, deps);
  metrics.addDimensions({ job: result.run.jobId, decision: result.decision });
  metrics.addMetric('RunDecision', MetricUnit.Count, 1);
  return result;
});

/** A DUPLICATE or SKIPPED run: recorded final at once, counted on the job, without touching its last run. */
async function endEarly(
  attempt: Attempt,
  jobInput: JsonObject,
  status: typeof RunStatus.DUPLICATE | typeof RunStatus.SKIPPED,
  fields: Pick<RunRecord, 'relatedRunId' | 'skipReason'>,
  reason: string,
): Promise<StartRunResult> {
  const record: RunRecord = { ...attempt.ref, ...ended(attempt), status, input: jobInput, ...fields };
  const existing = await createOrFind(attempt, record);
  if (existing) return resume(attempt, existing);
  await attempt.deps.ledger.jobs.countOutcome(attempt.ref.jobId, status, attempt.nowIso);
  logger.info('Run skipped', { status, reason, ...fields });
  return { decision: Decision.SKIP, run: attempt.ref, input: jobInput, results: {}, reason };
}

/**
 * Invalid input: a FAILED run with an `InvalidInput` error naming every bad field, counted as the job's last
 * run (an operator should see it), and a REJECT decision carrying the same error for the Rejected Fail state.
 */
async function reject(
  attempt: Attempt,
  issues: FieldIssue[],
  recordedInput: unknown,
  input: JsonObject,
): Promise<StartRunResult> {
  const invalid = new InvalidInput(issues, `${attempt.ref.jobId} input`);
  const error = { name: invalid.name, cause: invalid.message };
  const record: RunRecord = {
    ...attempt.ref,
    ...ended(attempt),
    status: RunStatus.FAILED,
    input: recordedInput,
    error,
  };
  const existing = await createOrFind(attempt, record);
  if (existing) return resume(attempt, existing);
  await attempt.deps.ledger.jobs.recordRunEnd(
    attempt.ref.jobId,
    { runId: record.runId, status: record.status, startedAt: record.startedAt, endedAt: record.endedAt },
    attempt.nowIso,
  );
  logger.warn('Run rejected', { error });
  return {
    decision: Decision.REJECT,
    run: attempt.ref,
    input,
    results: {},
    error: { Error: error.name, Cause: error.cause },
  };
}

/** Create the run record; when a previous attempt of this StartRun created it already, return that one. */
async function createOrFind(attempt: Attempt, record: RunRecord): Promise<RunRecord | undefined> {
  try {
    await attempt.deps.ledger.runs.create(record);
    return undefined;
  } catch (error) {
    if (!(error instanceof RunAlreadyExists)) throw error;
    return attempt.deps.ledger.runs.get(record.runId);
  }
}

/**
 * The decision an earlier attempt of this StartRun made, read back from its run record. If that run did not
 * go ahead, this attempt may still have taken the lock on its way here (it was free by now), so give it back.
 */
async function resume(attempt: Attempt, existing: RunRecord): Promise<StartRunResult> {
  const run: RunRef = {
    runId: existing.runId,
    jobId: existing.jobId,
    executionArn: existing.executionArn,
    startedAt: existing.startedAt,
    trigger: existing.trigger,
    expiresAt: existing.expiresAt,
  };
  const input = isJsonObject(existing.input) ? existing.input : {};
  logger.info('StartRun retried; returning the recorded decision', { status: existing.status });
  if (existing.status === RunStatus.RUNNING) return { decision: Decision.RUN, run, input, results: {} };
  await attempt.deps.ledger.jobs.releaseLock(existing.jobId, existing.runId, attempt.nowIso);
  if (existing.status === RunStatus.SKIPPED || existing.status === RunStatus.DUPLICATE) {
    const reason = existing.skipReason ?? existing.status.toLowerCase();
    return { decision: Decision.SKIP, run, input, results: {}, reason };
  }
  const error = existing.error ?? { name: existing.status };
  return {
    decision: Decision.REJECT,
    run,
    input,
    results: {},
    error: { Error: error.name, Cause: error.cause ?? `Run ${existing.runId} is already ${existing.status}` },
  };
}

function ended(attempt: Attempt): { endedAt: string; durationMs: number } {
  return {
    endedAt: attempt.nowIso,
    durationMs: Math.max(0, attempt.now.getTime() - Date.parse(attempt.ref.startedAt)),
  };
}

interface SplitInput {
  trigger: Trigger;
  jobInput: JsonObject;
  /** Problems with the execution input itself or its trigger; empty when both are usable. */
  issues: FieldIssue[];
}

/**
 * Split the execution input into its trigger (absent: a manual run) and the job input. When the trigger is
 * unusable the run is recorded as manual, with the whole raw input kept, so nothing the caller sent is lost.
 */
function splitExecutionInput(executionInput: unknown): SplitInput {
  const manual: Trigger = { type: TriggerType.MANUAL };
  if (!isJsonObject(executionInput)) {
    const got = Array.isArray(executionInput)
      ? 'an array'
      : executionInput === null
        ? 'null'
        : typeof executionInput;
    return {
      trigger: manual,
      jobInput: {},
      issues: [{ path: '(root)', message: `must be a JSON object, got ${got}` }],
    };
  }
  const { trigger: rawTrigger, ...jobInput } = executionInput;
  if (rawTrigger === undefined) return { trigger: manual, jobInput, issues: [] };
  const parsed = Trigger.safeParse(rawTrigger);
  if (!parsed.success) return { trigger: manual, jobInput, issues: fieldIssues(parsed.error, ['trigger']) };
  const trigger = parsed.data;
  if (trigger.type === TriggerType.SCHEDULE) {
    if (!trigger.scheduledTime) {
      const issue = { path: 'trigger.scheduledTime', message: 'is required for schedule triggers' };
      return { trigger: manual, jobInput, issues: [issue] };
    }
    if (Number.isNaN(Date.parse(trigger.scheduledTime))) {
      const issue = {
        path: 'trigger.scheduledTime',
        message: `is not an ISO date-time: ${trigger.scheduledTime}`,
      };
      return { trigger: manual, jobInput, issues: [issue] };
    }
  }
  return { trigger, jobInput, issues: [] };
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `$$.Execution.StartTime` as a normalized ISO string (AWS gives `...123Z`, other engines may not). */
function isoTime(value: string, path: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidInput([{ path, message: `is not a date-time: ${value}` }], 'StartRun event');
  return new Date(ms).toISOString();
}
