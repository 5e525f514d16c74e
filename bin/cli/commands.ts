/**
 * The CLI commands. Each takes a target (local or AWS) and an output sink, so tests run them directly.
 */
import { DEFAULT_RETENTION_DAYS, RunStatus, type TriggerType } from '../../shared/constants';
import { epochSeconds } from '../../shared/ledger/dynamo';
import type { JobState, RunRecord } from '../../shared/ledger/items';
import { expiredPause, isPausedAt, pauseInfo, pauseText } from '../../shared/ledger/pause';
import { RunNotFound } from '../../shared/errors';
import { slots } from '../../shared/schedule-slots';
import {
  jobCalendar,
  runningSince,
  scheduleStart,
  type JobCalendar,
  type JobDefinition,
} from '../../workflows/job-definition';
import { CliError, ExitCode } from './errors';
import { jobReports } from './job-reports';
import { lastRunText, runDetailText, runsTable, shortTime, statusText, table, zoned } from './format';
import { progressLine, shortCause } from './progress';
import type { Output } from './output';
import type { Target } from './target';

export type { Output } from './output';

export function jobDefinition(jobs: readonly JobDefinition[], jobId: string): JobDefinition {
  const job = jobs.find((j) => j.id === jobId);
  if (!job) throw new CliError(`Unknown job "${jobId}". Known jobs: ${jobs.map((j) => j.id).join(', ')}`);
  return job;
}

/** `stepjobs jobs`: every job with its schedule, next fire times, pause state and last run. */
export async function jobsCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: { json?: boolean; now?: Date; count?: number },
): Promise<number> {
  const now = options.now ?? new Date();
  const count = options.count ?? 3;
  const rows = await Promise.all(
    jobs.map(async (job) => {
      const tz = job.schedule.timeZone ?? 'UTC';
      const state = await target.ledger.jobs.getState(job.id);
      const pause = isPausedAt(state, now.toISOString()) ? pauseInfo(state) : undefined;
      const calendar = jobCalendar(job, now);
      // The next fires that run; those in between that will not (calendar, pause, DST) are listed apart.
      const listed = slots(
        {
          expression: job.schedule.expression,
          timeZone: tz,
          ...(scheduleStart(job.schedule) ? { start: scheduleStart(job.schedule) } : {}),
          ...(pause ? { pause } : {}),
          ...(calendar ? { calendar } : {}),
        },
        { from: now, count, maxSkipped: 50 },
      );
      const next = listed.filter((fire) => !fire.skipped).map((fire) => fire.time);
      const skipped = listed.filter((fire) => fire.skipped);
      return { job, tz, next, skipped, state };
    }),
  );
  if (options.json) {
    io.out(
      JSON.stringify(
        rows.map(({ job, tz, next, skipped, state }) => ({
          id: job.id,
          description: job.description,
          schedule: job.schedule.expression,
          timeZone: tz,
          enabled: job.schedule.enabled ?? true,
          calendar: job.calendar ?? null,
          next: next.map((d) => d.toISOString()),
          skippedBefore: skipped.map((fire) => ({ time: fire.time.toISOString(), skipped: fire.skipped })),
          ...pauseFields(state, now),
          lastResume: state.lastResume ?? null,
          lastRun: state.lastRun ?? null,
          deployed: target.jobIds.includes(job.id),
        })),
        null,
        2,
      ),
    );
    return ExitCode.OK;
  }
  io.out(
    table(
      ['job', 'schedule', 'time zone', 'next runs', 'paused', 'last run'],
      rows.map(({ job, tz, next, skipped, state }) => [
        `${job.id}\n${job.description}`,
        [
          job.schedule.expression,
          ...(job.schedule.enabled === false ? ['(schedule disabled)'] : []),
          ...(job.calendar ? [`calendar: ${calendarSummary(job.calendar)}`] : []),
        ].join('\n'),
        tz,
        [
          ...next.map((d) => zoned(d, tz)),
          ...skipped.slice(0, 3).map((fire) => `(not ${zoned(fire.time, tz)}: ${fire.skipped})`),
        ].join('\n'),
        pausedText(state, now),
        lastRunText(state),
      ]),
      [40],
    ),
  );
  return ExitCode.OK;
}

/** A calendar in one line: `DE-BY holidays; no SAT, SUN; change freeze 2027-12-20..2028-01-03; only 08:00-18:00`. */
export function calendarSummary(calendar: JobCalendar): string {
  const holidays = calendar.holidays === undefined ? [] : [calendar.holidays].flat();
  return [
    holidays.length > 0 ? `${holidays.join(', ')} holidays` : '',
    calendar.excludeWeekdays?.length ? `no ${calendar.excludeWeekdays.join(', ')}` : '',
    ...(calendar.excludeRanges ?? []).map((r) => `${r.name} ${r.from}..${r.to}`),
    calendar.excludeDates?.length ? `${calendar.excludeDates.length} excluded date(s)` : '',
    calendar.only?.length
      ? `only ${calendar.only.map((w) => `${w.weekdays ? `${w.weekdays.join(',')} ` : ''}${w.from}-${w.to}`).join(', ')}`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** `jobs --json`'s pause: in force now (an expired pause counts as resumed), and who, why, until when. */
function pauseFields(state: JobState, now: Date) {
  const paused = isPausedAt(state, now.toISOString());
  return { paused, pause: paused ? (pauseInfo(state) ?? null) : null };
}

/** The `paused` cell of `jobs`: who paused it, why and until when; an expired pause counts as resumed. */
function pausedText(state: JobState, now: Date): string {
  if (isPausedAt(state, now.toISOString())) return `yes: ${pauseText(pauseInfo(state) ?? {})}`;
  const expired = expiredPause(state, now.toISOString());
  if (expired) return `no (pause ended ${expired.until})`;
  const resume = state.lastResume;
  return resume ? `no (resumed by ${resume.by}${resume.reason ? `: ${resume.reason}` : ''})` : 'no';
}

/** Exit code for a run's final record. */
export function exitCodeFor(status: string): number {
  if (status === RunStatus.SUCCEEDED) return ExitCode.OK;
  if (status === RunStatus.SKIPPED || status === RunStatus.DUPLICATE) return ExitCode.RUN_SKIPPED;
  return ExitCode.RUN_FAILED;
}

/** `stepjobs run <job>`: start a run, show progress, then the run summary from the ledger. */
export async function runCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: {
    jobId: string;
    input: Record<string, unknown>;
    wait: boolean;
    json?: boolean;
    showRecord?: boolean;
  },
): Promise<number> {
  const job = jobDefinition(jobs, options.jobId);
  if (!target.jobIds.includes(job.id))
    throw new CliError(`Job "${job.id}" is not deployed on the ${target.kind} target`);
  if ('dryRun' in options.input && !('dryRun' in job.input.shape)) {
    throw new CliError(`Job "${job.id}" has no dry-run mode; drop --dry-run/--no-dry-run`);
  }
  if (!options.json)
    io.out(`Starting ${job.id} on ${target.kind === 'local' ? 'the local runtime' : 'AWS'}…`);
  const started = await target.startRun({
    jobId: job.id,
    input: options.input,
    wait: options.wait,
    onProgress: options.json ? undefined : (event) => io.out(progressLine(event)),
  });
  if (started.status === 'RUNNING') {
    io.out(
      options.json
        ? JSON.stringify(started)
        : `Started ${started.runId}\n  ${started.executionArn}\nFollow it with: stepjobs show ${started.runId} --aws`,
    );
    return ExitCode.OK;
  }
  let run: RunRecord | undefined;
  try {
    const detail = await target.ledger.runs.detail(started.runId);
    run = detail.run;
    if (options.json) {
      io.out(JSON.stringify({ execution: started, ...detail }, null, 2));
    } else {
      io.out('');
      io.out(summaryLine(run));
      if (run.calendarExclusion && run.status !== RunStatus.SKIPPED) {
        io.note(
          `This run falls in ${job.id}'s calendar exclusions (${run.calendarExclusion}); only scheduled runs skip them.`,
        );
      }
      const report = jobReports[job.id];
      if (report && run.status !== RunStatus.SKIPPED && run.status !== RunStatus.DUPLICATE) {
        io.out('');
        io.out(await report(target, detail));
      }
      if (options.showRecord) {
        io.out('');
        io.out('Ledger record (DynamoDB):');
        io.out(runDetailText(detail));
      }
    }
  } catch (error) {
    if (!(error instanceof RunNotFound)) throw error;
    // StartRun never wrote a record (and the reconciler did not either): report the execution itself.
    io.out(
      `Execution ${started.status}: ${started.error ?? ''} ${started.cause ? shortCause(started.cause) : ''}`.trim(),
    );
    return ExitCode.RUN_FAILED;
  }
  return exitCodeFor(run.status);
}

function summaryLine(run: RunRecord): string {
  const took = run.durationMs === undefined ? '' : ` in ${run.durationMs} ms`;
  const error = run.error ? ` — ${run.error.name}${run.error.cause ? `: ${run.error.cause}` : ''}` : '';
  return `Run ${run.runId}: ${statusText(run)}${took}${error}`;
}

/** The filters a run listing was asked for, as the CLI options that repeat them. */
export interface RunFilters {
  status?: RunStatus;
  trigger?: TriggerType;
  since?: string;
  until?: string;
}

/** `--status S --trigger T --since T --until T`, for the "More:" hint, so the next page keeps the filters. */
export function filterOptions(filters: RunFilters): string {
  return [
    filters.status && `--status ${filters.status}`,
    filters.trigger && `--trigger ${filters.trigger}`,
    filters.since && `--since ${filters.since}`,
    filters.until && `--until ${filters.until}`,
  ]
    .filter(Boolean)
    .map((part) => ` ${String(part)}`)
    .join('');
}

export function filterText(filters: RunFilters): string {
  return [
    filters.status && ` with status ${filters.status}`,
    filters.trigger && ` triggered by ${filters.trigger}`,
    filters.since && ` since ${shortTime(filters.since)}`,
    filters.until && ` before ${shortTime(filters.until)}`,
  ]
    .filter(Boolean)
    .join('');
}

/** `stepjobs history <job>`: runs newest first from the ledger, one page per call whatever the history length. */
export async function historyCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: RunFilters & {
    jobId: string;
    limit: number;
    json?: boolean;
    cursor?: string;
    now?: Date;
  },
): Promise<number> {
  const job = jobDefinition(jobs, options.jobId);
  const page = await target.ledger.runs.listByJob(job.id, {
    limit: options.limit,
    status: options.status,
    trigger: options.trigger,
    since: options.since,
    until: options.until,
    cursor: options.cursor,
    runningSince: runningSince(job, options.now ?? new Date()),
  });
  if (options.json) {
    io.out(JSON.stringify(page, null, 2));
    return ExitCode.OK;
  }
  if (page.items.length === 0) {
    io.out(`No runs of ${job.id}${filterText(options)}${options.cursor ? ' after this cursor' : ''}.`);
    return ExitCode.OK;
  }
  io.out(runsTable(page.items));
  if (page.cursor)
    io.out(
      `More: stepjobs history ${job.id}${filterOptions(options)} --limit ${options.limit} --cursor ${page.cursor}`,
    );
  return ExitCode.OK;
}

/** `stepjobs show <runId>`: one run with trigger, input, steps, durations and error. */
export async function showCommand(
  target: Target,
  io: Output,
  options: { runId: string; json?: boolean },
): Promise<number> {
  let detail;
  try {
    detail = await target.ledger.runs.detail(options.runId);
  } catch (error) {
    if (error instanceof RunNotFound)
      throw new CliError(`No run "${options.runId}" in the ${target.kind} ledger`);
    throw error;
  }
  io.out(options.json ? JSON.stringify(detail, null, 2) : runDetailText(detail));
  return ExitCode.OK;
}

/**
 * `stepjobs pause <job> --reason R [--until T]` and `stepjobs resume <job> [--reason R]`; "who" is the
 * target's principal (the IAM ARN with --aws). Both are kept in the job's operation log as well.
 */
export async function pauseCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: {
    jobId: string;
    paused: boolean;
    reason?: string;
    until?: Date;
    now?: Date;
    /** Also disable the Scheduler schedule (AWS only; not with an end, which nothing would act on). */
    disableSchedule?: boolean;
  },
): Promise<number> {
  const job = jobDefinition(jobs, options.jobId);
  if (options.disableSchedule) {
    if (!target.setScheduleState)
      throw new CliError(
        '--disable-schedule works with --aws only: locally a schedule fires only when "stepjobs schedule --local" runs it',
      );
    if (options.until)
      throw new CliError(
        '--disable-schedule: a pause with --until/--for ends by itself, but nothing would enable the schedule again then; pause without an end, or drop --disable-schedule',
      );
  }
  const now = options.now ?? new Date();
  const at = now.toISOString();
  if (options.until && options.until <= now)
    throw new CliError(`--until ${options.until.toISOString()} is not in the future`);
  const until = options.until?.toISOString();
  const by = await target.principal();
  const before = await target.ledger.jobs.setPaused(job.id, options.paused, by, at, options.reason, until);
  await target.ledger.jobs.recordOperation({
    jobId: job.id,
    op: options.paused ? 'pause' : 'resume',
    by,
    reason: options.reason ?? '',
    at,
    ...(until ? { until } : {}),
    expiresAt: epochSeconds(at) + DEFAULT_RETENTION_DAYS * 86_400,
  });
  if (options.paused) {
    io.out(
      `Paused ${job.id}: scheduled runs will be recorded as SKIPPED (paused) ` +
        (until ? `until ${until}, then it resumes by itself.` : `until "stepjobs resume ${job.id}".`),
    );
    if (options.disableSchedule && target.setScheduleState) {
      const change = await target.setScheduleState(job.id, false);
      io.out(
        change.changed
          ? `Disabled schedule ${change.name}: no deliveries until "stepjobs resume ${job.id} --aws" enables it.`
          : `Schedule ${change.name} was already disabled.`,
      );
      if (change.startDateDropped) io.note(startDateNote(change.name));
    }
  } else {
    io.out(
      before
        ? `Resumed ${job.id} (it was paused by ${before.by ?? 'unknown'}: ${pauseText(before)}).`
        : `Resumed ${job.id} (it was not paused).`,
    );
    // A schedule disabled with the pause comes back with the resume; one deployed disabled stays so.
    if (target.setScheduleState && job.schedule.enabled !== false) {
      const change = await target.setScheduleState(job.id, true);
      if (change.changed) io.out(`Enabled schedule ${change.name} again.`);
      if (change.startDateDropped) io.note(startDateNote(change.name));
    }
  }
  return ExitCode.OK;
}

function startDateNote(name: string): string {
  return `Schedule ${name} had a start date in the past, which the Scheduler refuses on update: it now has none, so a rate() counts from this update.`;
}

/**
 * `stepjobs unlock <job> --reason R`: release the job lock whoever holds it, and keep who did it and why in
 * the ledger. For a lock the recovery pass or the sweep would not release (its run still looks alive).
 */
export async function unlockCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: { jobId: string; reason: string; now?: Date },
): Promise<number> {
  const job = jobDefinition(jobs, options.jobId);
  const reason = options.reason.trim();
  if (!reason) throw new CliError('--reason must say why the lock is released');
  const by = await target.principal();
  const at = (options.now ?? new Date()).toISOString();
  const held = await target.ledger.jobs.forceUnlock(job.id, at);
  if (!held) {
    io.out(`${job.id} is not locked; nothing to release.`);
    return ExitCode.OK;
  }
  const holder = await target.ledger.runs.find(held.runId);
  const holderStatus = holder?.status ?? 'unrecorded';
  await target.ledger.jobs.recordOperation({
    jobId: job.id,
    op: 'unlock',
    by,
    reason,
    at,
    holderRunId: held.runId,
    holderStatus,
    expiresAt: epochSeconds(at) + DEFAULT_RETENTION_DAYS * 86_400,
  });
  io.out(`Unlocked ${job.id}: released the lock of run ${held.runId} (${holderStatus}).`);
  io.out(`Recorded in the ledger: unlock by ${by} at ${at}: ${reason}`);
  if (holder?.status === RunStatus.RUNNING) {
    io.out(
      `Note: run ${held.runId} is still RUNNING. It ends without the lock, and another run may start beside it.`,
    );
  }
  return ExitCode.OK;
}
