/**
 * StartRun, the first state of every job. It decides whether the execution runs the job's steps (RUN), ends
 * quietly (SKIP: a second delivery of a scheduled slot, a paused job, another run holding the lock) or ends
 * failed (REJECT: invalid input), and records a run in every case, so each execution has one run record.
 *
 * Its input is `$$.Execution` as JSON text (`States.JsonToString`), so whatever the caller sent arrives, text for
 * text: null, an array, numbers with more digits than a double holds, any nesting. The run record keeps that
 * text (I4), and the job input is validated from it.
 *
 * It may be retried by Lambda or by the state machine (on LedgerUnavailable, and on LockHeld for the `queue`
 * policy), so every write is idempotent per run id: the slot claim and the lock accept their own run, and a
 * second create of the run record returns the decision the first one made.
 */
import type * as z from '../../shared/zod';
import { calendarExclusion, pastHolidayHorizon } from '../../shared/calendar';
import {
  Decision,
  OverlapPolicy,
  RunStatus,
  SkipReason,
  STORED_VALIDATED_INPUT_BYTES,
  TriggerType,
} from '../../shared/constants';
import { StartRunEvent, type RunRef, type StartRunResult } from '../../shared/contracts';
import {
  ConfigError,
  DuplicateSlot,
  InvalidInput,
  JobPaused,
  LockHeld,
  RunAlreadyExists,
  type FieldIssue,
} from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import { jsonMemberText, storedJson } from '../../shared/json';
import { addDays, epochSeconds } from '../../shared/ledger/dynamo';
import type { PauseInfo, RunRecord } from '../../shared/ledger/items';
import { expiredPause, isPausedAt, pauseInfo } from '../../shared/ledger/pause';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import { fieldIssues } from '../../shared/validation';
import { readExecutionInput, SLOT_TRIGGERS, type JsonObject } from './execution-input';
import { jobInputs as registeredJobInputs } from './job-inputs';
import { reopenRun } from '../../shared/ledger/run-redrive';

export { StartRunEvent, StartRunResult } from '../../shared/contracts';

export interface StartRunDeps extends TaskDeps {
  /** The input schema of each job, by job id. @default the registry in tasks/lifecycle/job-inputs.ts */
  jobInputs?: Readonly<Record<string, z.ZodMiniObject>>;
}

/** What every decision path needs: the run being decided and the clock reading it is decided at. */
interface Attempt {
  deps: StartRunDeps;
  ref: RunRef;
  now: Date;
  nowIso: string;
  /** What every record of this execution keeps: the raw input text. */
  rawInput: RunRecord['rawInput'];
  /** The scheduled slot this run claimed (schedule, catch-up and backfill triggers). */
  slot?: string;
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
  // StartExecution without an input starts the execution with `{}`.
  const split = readExecutionInput(jsonMemberText(event.executionText, 'Input') ?? '{}');
  const attempt: Attempt = {
    deps,
    now,
    nowIso: now.toISOString(),
    rawInput: split.raw,
    ref: {
      runId: execution.name,
      jobId: job.id,
      executionArn: execution.id,
      startedAt,
      trigger: split.trigger,
      expiresAt: epochSeconds(startedAt) + Math.round(job.retentionDays * 86_400),
    },
  };
  // A redrive that restarts here (StartRun itself failed) reopens the run the first attempt recorded, then
  // goes the usual way: the slot and the lock are this run's, and the record is RUNNING again.
  const redriveCount = Number(jsonMemberText(event.executionText, 'RedriveCount') ?? 0);
  if (redriveCount > 0) {
    await reopenRun(
      deps.ledger,
      attempt.ref,
      { count: redriveCount, overlap: job.overlap, leaseSeconds: job.leaseSeconds },
      now,
    );
  }
  if (split.issues.length > 0) return reject(attempt, split.issues);
  const { trigger, jobInput } = split;
  const slotted = SLOT_TRIGGERS.includes(trigger.type);
  // A pause holds back the runs the schedule makes: its own deliveries and the sweep's catch-ups. Manual, CLI
  // and backfill runs were asked for by a person, and run.
  const scheduled = trigger.type === TriggerType.SCHEDULE || trigger.type === TriggerType.CATCHUP;

  let replacedRunId: string | undefined;
  if (slotted && trigger.scheduledTime) {
    attempt.slot = trigger.scheduledTime;
    try {
      const claim = await deps.ledger.jobs.claimSlot(
        job.id,
        trigger.scheduledTime,
        attempt.ref.runId,
        addDays(attempt.nowIso, job.retentionDays),
        // A catch-up or backfill may redo a slot whose run was SKIPPED; a second delivery never may.
        { takeOverOpen: trigger.type !== TriggerType.SCHEDULE },
      );
      replacedRunId = claim.tookOverFrom;
    } catch (error) {
      if (!(error instanceof DuplicateSlot)) throw error;
      return endEarly(
        attempt,
        RunStatus.DUPLICATE,
        { relatedRunId: error.ownerRunId, hint: duplicateHint(trigger, error.ownerRunId) },
        error.message,
      );
    }
  }

  // The calendar is read at the slot's time (a late delivery belongs to its slot), else at the start.
  const calendarAt = new Date(trigger.scheduledTime ?? startedAt);
  const exclusion = calendarExclusion(job.calendar, calendarAt);
  if (exclusion && trigger.type === TriggerType.SCHEDULE) {
    return endEarly(
      attempt,
      RunStatus.SKIPPED,
      { skipReason: SkipReason.CALENDAR, calendarExclusion: exclusion },
      `The slot falls in the job's calendar exclusions (${exclusion})`,
    );
  }
  if (trigger.type === TriggerType.SCHEDULE && pastHolidayHorizon(job.calendar, calendarAt)) {
    logger.warn(
      'The slot is past the dates the calendar holidays were resolved for; deploy again to extend them',
      {
        holidaysUntil: job.calendar?.holidaysUntil,
      },
    );
  }

  const paused = (pause: PauseInfo | undefined) =>
    endEarly(
      attempt,
      RunStatus.SKIPPED,
      { skipReason: SkipReason.PAUSED, ...(pause ? { pause } : {}) },
      new JobPaused(job.id, pause).message,
    );
  /**
   * A pause past its end that this run goes through: the run record says so, then the pause is ended in the
   * job state (after the record, so a retried StartRun never loses it).
   */
  let resumedAfter: PauseInfo | undefined;
  /** The job's pause in force now, if any (one read); notes a pause that has ended for the record. */
  const pauseNow = async (): Promise<PauseInfo | undefined> => {
    const state = await deps.ledger.jobs.getState(job.id);
    resumedAfter = expiredPause(state, attempt.nowIso);
    return isPausedAt(state, attempt.nowIso) ? (pauseInfo(state) ?? {}) : undefined;
  };
  // A scheduled run of a job that takes the lock checks the pause with the lock write itself (one request
  // fewer per run); one that takes no lock, or whose input is invalid, reads the job state.
  const pauseOnLock = scheduled && job.overlap !== OverlapPolicy.ALLOW;
  if (scheduled && !pauseOnLock) {
    const pause = await pauseNow();
    if (pause) return paused(pause);
  }

  const schema = (deps.jobInputs ?? registeredJobInputs)[job.id];
  if (!schema) {
    throw new ConfigError(
      `No input schema is registered for job "${job.id}" (tasks/lifecycle/job-inputs.ts)`,
    );
  }
  const candidate =
    job.destructive && !slotted && jobInput.dryRun === undefined ? { ...jobInput, dryRun: true } : jobInput;
  const parsed = schema.safeParse(candidate);
  if (!parsed.success) {
    // A paused job skips its scheduled runs whatever their input.
    if (pauseOnLock) {
      const pause = await pauseNow();
      if (pause) return paused(pause);
    }
    // A rejected run does not end an expired pause: the next run that goes ahead does, and says so.
    return reject(attempt, fieldIssues(parsed.error));
  }
  const input = parsed.data as JsonObject;
  const validated = storedJson(JSON.stringify(input), STORED_VALIDATED_INPUT_BYTES);

  let tookOverFrom: string | undefined;
  if (job.overlap !== OverlapPolicy.ALLOW) {
    const leaseExpiresAt = new Date(now.getTime() + job.leaseSeconds * 1000).toISOString();
    try {
      const grant = await deps.ledger.jobs.acquireLock(
        job.id,
        attempt.ref.runId,
        attempt.nowIso,
        leaseExpiresAt,
        { unlessPaused: pauseOnLock },
      );
      tookOverFrom = grant.tookOverFrom;
      resumedAfter ??= grant.expiredPause;
    } catch (error) {
      if (error instanceof JobPaused) return paused(error.pause);
      if (!(error instanceof LockHeld)) throw error;
      const skip = { relatedRunId: error.holderRunId };
      if (job.overlap === OverlapPolicy.SKIP) {
        return endEarly(
          attempt,
          RunStatus.SKIPPED,
          { ...skip, skipReason: SkipReason.OVERLAP, input: validated },
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
        RunStatus.SKIPPED,
        { ...skip, skipReason: SkipReason.QUEUE_TIMEOUT, input: validated },
        reason,
      );
    }
  }

  const record: RunRecord = {
    ...attempt.ref,
    status: RunStatus.RUNNING,
    rawInput: attempt.rawInput,
    input: validated,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    ...(resumedAfter ? { resumedAfter } : {}),
    ...(replacedRunId ? { relatedRunId: replacedRunId } : {}),
    ...(trigger.type === TriggerType.RERUN ? { relatedRunId: trigger.relatedRunId } : {}),
    // A manual, CLI or backfill run in an exclusion still runs; its record says where it fell.
    ...(exclusion ? { calendarExclusion: exclusion } : {}),
  };
  const existing = await createOrFind(attempt, record);
  if (existing) return resume(attempt, existing, input);
  if (tookOverFrom) logger.warn('Took over an expired job lock', { tookOverFrom });
  if (resumedAfter) {
    // Conditional on the same pause: a run that ended it first, or a new pause since, is left alone.
    await deps.ledger.jobs.expirePause(job.id, resumedAfter, attempt.nowIso);
    logger.info('The job pause ended; this is the first run after it', { resumedAfter });
  }
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
  status: typeof RunStatus.DUPLICATE | typeof RunStatus.SKIPPED,
  fields: Pick<RunRecord, 'relatedRunId' | 'skipReason' | 'input' | 'pause' | 'calendarExclusion' | 'hint'>,
  reason: string,
): Promise<StartRunResult> {
  const record: RunRecord = {
    ...attempt.ref,
    ...ended(attempt),
    status,
    rawInput: attempt.rawInput,
    ...fields,
  };
  const existing = await createOrFind(attempt, record);
  if (existing) return resume(attempt, existing, {});
  await attempt.deps.ledger.jobs.countOutcome(attempt.ref.jobId, status, attempt.nowIso);
  // A SKIPPED slot's work was not done: a catch-up or backfill may take the slot over.
  if (status === RunStatus.SKIPPED && attempt.slot) {
    await attempt.deps.ledger.jobs.openSlot(
      attempt.ref.jobId,
      attempt.slot,
      attempt.ref.runId,
      fields.skipReason ?? 'skipped',
    );
  }
  const { input: _input, ...logged } = fields;
  logger.info('Run skipped', { status, reason, ...logged });
  return { decision: Decision.SKIP, run: attempt.ref, input: {}, results: {}, reason };
}

/**
 * Invalid input: a FAILED run with an `InvalidInput` error naming every bad field, counted as the job's last
 * run (an operator should see it), and a REJECT decision carrying the same error for the Rejected Fail state.
 */
async function reject(attempt: Attempt, issues: FieldIssue[]): Promise<StartRunResult> {
  const invalid = new InvalidInput(issues, `${attempt.ref.jobId} input`);
  const error = { name: invalid.name, cause: invalid.message };
  const record: RunRecord = {
    ...attempt.ref,
    ...ended(attempt),
    status: RunStatus.FAILED,
    rawInput: attempt.rawInput,
    error,
  };
  const existing = await createOrFind(attempt, record);
  if (existing) return resume(attempt, existing, {});
  await attempt.deps.ledger.jobs.recordRunEnd(
    attempt.ref.jobId,
    { runId: record.runId, status: record.status, startedAt: record.startedAt, endedAt: record.endedAt },
    attempt.nowIso,
  );
  logger.warn('Run rejected', { error });
  return {
    decision: Decision.REJECT,
    run: attempt.ref,
    input: {},
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
 * `input` is this attempt's validated input: the same execution input validates the same way.
 */
async function resume(attempt: Attempt, existing: RunRecord, input: JsonObject): Promise<StartRunResult> {
  const run: RunRef = {
    runId: existing.runId,
    jobId: existing.jobId,
    executionArn: existing.executionArn ?? attempt.ref.executionArn,
    startedAt: existing.startedAt,
    trigger: existing.trigger,
    expiresAt: existing.expiresAt,
  };
  logger.info('StartRun retried; returning the recorded decision', { status: existing.status });
  if (existing.status === RunStatus.RUNNING) return { decision: Decision.RUN, run, input, results: {} };
  await attempt.deps.ledger.jobs.releaseLock(existing.jobId, existing.runId, attempt.nowIso);
  if (existing.status === RunStatus.SKIPPED && attempt.slot) {
    // The attempt that recorded the skip may have stopped before it left the slot open.
    await attempt.deps.ledger.jobs.openSlot(
      existing.jobId,
      attempt.slot,
      existing.runId,
      existing.skipReason ?? 'skipped',
    );
  }
  if (existing.status === RunStatus.SKIPPED || existing.status === RunStatus.DUPLICATE) {
    const reason = existing.skipReason ?? existing.status.toLowerCase();
    return { decision: Decision.SKIP, run, input: {}, results: {}, reason };
  }
  const error = existing.error ?? { name: existing.status };
  return {
    decision: Decision.REJECT,
    run,
    input: {},
    results: {},
    error: { Error: error.name, Cause: error.cause ?? `Run ${existing.runId} is already ${existing.status}` },
  };
}

/**
 * What a DUPLICATE tells whoever started it. The usual cause besides the Scheduler's second delivery is a
 * console "New execution" copied from a scheduled run: its input still carries that run's `trigger`.
 */
function duplicateHint(trigger: RunRef['trigger'], ownerRunId: string): string {
  return (
    `This execution's input carries the trigger of ${trigger.type} slot ${trigger.scheduledTime ?? ''}, which run ` +
    `${ownerRunId} already has, so it ran nothing. To run the slot's work again, start an execution without the ` +
    `"trigger" member (a manual run), or: stepjobs rerun ${ownerRunId}`
  );
}

function ended(attempt: Attempt): { endedAt: string; durationMs: number } {
  return {
    endedAt: attempt.nowIso,
    durationMs: Math.max(0, attempt.now.getTime() - Date.parse(attempt.ref.startedAt)),
  };
}

/** `$$.Execution.StartTime` as a normalized ISO string (AWS gives `...123Z`, other engines may not). */
function isoTime(value: string, path: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidInput([{ path, message: `is not a date-time: ${value}` }], 'StartRun event');
  return new Date(ms).toISOString();
}
