/**
 * The CLI commands. Each takes a target (local or AWS) and an output sink, so tests run them directly.
 */
import { DEFAULT_RETENTION_DAYS, RunStatus, type TriggerType } from '../../shared/constants';
import { epochSeconds } from '../../shared/ledger/dynamo';
import type { JobState, PauseInfo, RunRecord } from '../../shared/ledger/items';
import { executionConsoleUrl } from '../../shared/run-text';
import { expiredPause, isPausedAt, pauseInfo, pauseText } from '../../shared/ledger/pause';
import { RunNotFound } from '../../shared/errors';
import type { ResolvedCalendar } from '../../shared/calendar';
import { InvalidScheduleExpression, type Fire } from '../../shared/schedule-expression';
import { slots, type SlotSpec } from '../../shared/schedule-slots';
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
import type { DeployedSchedule, RunRequest, StartedRun, Target } from './target';

export type { Output } from './output';

export function jobDefinition(jobs: readonly JobDefinition[], jobId: string): JobDefinition {
  const job = jobs.find((j) => j.id === jobId);
  if (!job) throw new CliError(`Unknown job "${jobId}". Known jobs: ${jobs.map((j) => j.id).join(', ')}`);
  return job;
}

/**
 * `stepjobs jobs`: every job with its schedule, next fire times, pause state and last run. On a target that
 * knows its deployed schedules (`--aws`), the schedule, time zone, state and next fires are the deployed
 * schedule's (GetSchedule), each marked where it differs from the definition in this working copy.
 */
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
      const [state, deployed] = await Promise.all([
        target.ledger.jobs.getState(job.id),
        target.deployedSchedule?.(job.id),
      ]);
      const pause = isPausedAt(state, now.toISOString()) ? pauseInfo(state) : undefined;
      const calendar = jobCalendar(job, now);
      const around = { now, count, ...(pause ? { pause } : {}), ...(calendar ? { calendar } : {}) };
      const upcoming = deployed
        ? deployedUpcoming(deployed, around)
        : nextFires(
            {
              expression: job.schedule.expression,
              timeZone: tz,
              ...(scheduleStart(job.schedule) ? { start: scheduleStart(job.schedule) } : {}),
            },
            around,
          );
      return { job, tz, state, deployed, ...upcoming };
    }),
  );
  if (options.json) {
    io.out(
      JSON.stringify(
        rows.map(({ job, tz, next, skipped, state, deployed }) => ({
          id: job.id,
          description: job.description,
          schedule: job.schedule.expression,
          timeZone: tz,
          enabled: job.schedule.enabled ?? true,
          calendar: job.calendar ?? null,
          // With --aws: the deployed schedule's fires (none while it is disabled or missing).
          next: next.map((d) => d.toISOString()),
          skippedBefore: skipped.map((fire) => ({ time: fire.time.toISOString(), skipped: fire.skipped })),
          ...pauseFields(state, now),
          lastResume: state.lastResume ?? null,
          lastRun: state.lastRun ?? null,
          deployed: target.jobIds.includes(job.id),
          ...(deployed ? { deployedSchedule: deployedScheduleJson(job, deployed) } : {}),
        })),
        null,
        2,
      ),
    );
    return ExitCode.OK;
  }
  const onAws = rows.some((row) => row.deployed !== undefined);
  io.out(
    table(
      onAws
        ? ['job', 'schedule (deployed)', 'time zone', 'state', 'next runs', 'paused', 'last run']
        : ['job', 'schedule', 'time zone', 'next runs', 'paused', 'last run'],
      rows.map(({ job, tz, next, skipped, unlisted, state, deployed }) => {
        const zone = deployed?.status === 'found' ? deployed.timeZone : tz;
        const nextCell = [
          ...next.map((d) => zoned(d, zone)),
          ...skipped.slice(0, 3).map((fire) => `(not ${zoned(fire.time, zone)}: ${fire.skipped})`),
          ...(unlisted ? [unlisted] : []),
        ].join('\n');
        const calendarLine = job.calendar ? [`calendar: ${calendarSummary(job.calendar)}`] : [];
        const common = [nextCell, pausedText(state, now), lastRunText(state)];
        if (!deployed) {
          const schedule = [
            job.schedule.expression,
            ...(job.schedule.enabled === false ? ['(schedule disabled)'] : []),
            ...calendarLine,
          ];
          return [`${job.id}\n${job.description}`, schedule.join('\n'), tz, ...common];
        }
        const cells = deployedCells(job, tz, deployed);
        return [
          `${job.id}\n${job.description}`,
          [cells.schedule, ...calendarLine].join('\n'),
          cells.timeZone,
          cells.state,
          ...common,
        ];
      }),
      // The deployed schedule cell may hold a "not found" explanation: wrap it like the job's description.
      onAws ? [40, 40] : [40],
    ),
  );
  const local = new Set(jobs.map((job) => job.id));
  const elsewhere = onAws ? target.jobIds.filter((id) => !local.has(id)) : [];
  if (elsewhere.length > 0) io.note(`Deployed but not defined in this working copy: ${elsewhere.join(', ')}`);
  return ExitCode.OK;
}

/** The next fires of a schedule: `count` that run, and those before them that will not, with why. */
interface Upcoming {
  next: Date[];
  skipped: Fire[];
  /** Why no fire is listed, when the schedule has none to list (disabled, missing, not deployed). */
  unlisted?: string;
}

interface Around {
  now: Date;
  count: number;
  pause?: PauseInfo;
  calendar?: ResolvedCalendar;
}

function nextFires(schedule: SlotSpec, around: Around, until?: Date): Upcoming {
  const listed = slots(
    {
      ...schedule,
      ...(around.pause ? { pause: around.pause } : {}),
      ...(around.calendar ? { calendar: around.calendar } : {}),
    },
    { from: around.now, count: around.count, maxSkipped: 50, ...(until ? { until } : {}) },
  );
  return {
    next: listed.filter((fire) => !fire.skipped).map((fire) => fire.time),
    skipped: listed.filter((fire) => fire.skipped),
  };
}

/**
 * The fires of the deployed schedule: its expression, zone, rate anchor and end date, with the job's pause
 * (from the ledger) and calendar (from the definition here: the deployed StartRun applies its own copy).
 */
function deployedUpcoming(deployed: DeployedSchedule, around: Around): Upcoming {
  if (deployed.status === 'missing') return { next: [], skipped: [], unlisted: 'none: no schedule' };
  if (deployed.status === 'none') return { next: [], skipped: [], unlisted: 'none: not deployed' };
  if (deployed.state === 'DISABLED')
    return { next: [], skipped: [], unlisted: 'none: the schedule is DISABLED' };
  try {
    return nextFires(
      {
        expression: deployed.expression,
        timeZone: deployed.timeZone,
        ...(deployed.rateAnchor ? { start: deployed.rateAnchor } : {}),
      },
      around,
      deployed.endDate,
    );
  } catch (error) {
    // The Scheduler holds an expression this CLI cannot evaluate: say so in the cell, keep the other jobs.
    if (!(error instanceof InvalidScheduleExpression)) throw error;
    return { next: [], skipped: [], unlisted: `(cannot list fires: ${error.message})` };
  }
}

/** Where the deployed schedule differs from the job's definition in this working copy. */
function scheduleDifferences(
  job: JobDefinition,
  deployed: Extract<DeployedSchedule, { status: 'found' }>,
): Array<'expression' | 'timeZone' | 'state'> {
  const differs: Array<'expression' | 'timeZone' | 'state'> = [];
  if (deployed.expression !== job.schedule.expression) differs.push('expression');
  if (deployed.timeZone !== (job.schedule.timeZone ?? 'UTC')) differs.push('timeZone');
  if (deployed.state !== localState(job)) differs.push('state');
  return differs;
}

function localState(job: JobDefinition): 'ENABLED' | 'DISABLED' {
  return job.schedule.enabled === false ? 'DISABLED' : 'ENABLED';
}

/** `jobs --aws --json`'s `deployedSchedule`: the Scheduler's fields, and which differ from the definition. */
function deployedScheduleJson(job: JobDefinition, deployed: DeployedSchedule) {
  if (deployed.status !== 'found') return deployed;
  return {
    status: deployed.status,
    name: deployed.name,
    expression: deployed.expression,
    timeZone: deployed.timeZone,
    state: deployed.state,
    startDate: deployed.startDate?.toISOString() ?? null,
    endDate: deployed.endDate?.toISOString() ?? null,
    differsFromLocal: scheduleDifferences(job, deployed),
  };
}

/** The schedule, time zone and state cells of `jobs --aws`: deployed values, the local one beside a difference. */
function deployedCells(
  job: JobDefinition,
  tz: string,
  deployed: DeployedSchedule,
): { schedule: string; timeZone: string; state: string } {
  const local = job.schedule.expression;
  if (deployed.status === 'none')
    return {
      schedule: `not in the deployed stack\n(local: ${local})`,
      timeZone: `(local: ${tz})`,
      state: '-',
    };
  if (deployed.status === 'missing') {
    return {
      schedule: `schedule ${deployed.name} not found in EventBridge Scheduler (deleted outside the stack? a deploy restores it)\n(local: ${local})`,
      timeZone: `(local: ${tz})`,
      state: 'MISSING',
    };
  }
  const differs = scheduleDifferences(job, deployed);
  return {
    schedule: differs.includes('expression')
      ? `deployed: ${deployed.expression}\n(local: ${local})`
      : deployed.expression,
    timeZone: differs.includes('timeZone')
      ? `deployed: ${deployed.timeZone}\n(local: ${tz})`
      : deployed.timeZone,
    state: differs.includes('state') ? `${deployed.state}\n(local: ${localState(job)})` : deployed.state,
  };
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
    /** A rerun's trigger (`stepjobs rerun`). @default a CLI run */
    trigger?: RunRequest['trigger'];
  },
): Promise<number> {
  const job = jobDefinition(jobs, options.jobId);
  if (!target.jobIds.includes(job.id))
    throw new CliError(`Job "${job.id}" is not deployed on the ${target.kind} target`);
  if ('dryRun' in options.input && !('dryRun' in job.input.shape)) {
    throw new CliError(`Job "${job.id}" has no dry-run mode; drop --dry-run/--no-dry-run`);
  }
  if (!options.wait && target.kind === 'local') throw new CliError(NO_WAIT_LOCALLY);
  if (!options.json)
    io.out(`Starting ${job.id} on ${target.kind === 'local' ? 'the local runtime' : 'AWS'}…`);
  const started = await target.startRun({
    jobId: job.id,
    input: options.input,
    wait: options.wait,
    ...(options.trigger ? { trigger: options.trigger } : {}),
    // Following can be stopped (Ctrl-C) while the run goes on in AWS: say first how to find it again.
    onStarted:
      options.json || target.kind === 'local'
        ? undefined
        : (run) =>
            io.out(
              `Started ${run.runId}; following it (Ctrl-C stops following, not the run)\n  ${run.executionArn}`,
            ),
    onProgress: options.json ? undefined : (event) => io.out(progressLine(event)),
  });
  return reportRun(target, job, io, started, options);
}

/** Refused before anything opens (bin/stepjobs.ts) and, for other callers, by {@link runCommand}. */
export const NO_WAIT_LOCALLY =
  '--no-wait works with --aws only: a local run lives in this process and ends with it';

/**
 * What `run` prints once the execution has ended (or, with `--no-wait`, started): the ledger's record of the
 * run, the job's own report, and the exit code its status means. `rerun` and `redrive` print the same.
 */
export async function reportRun(
  target: Target,
  job: JobDefinition,
  io: Output,
  started: StartedRun,
  options: { json?: boolean; showRecord?: boolean },
): Promise<number> {
  if (started.status === 'RUNNING') {
    io.out(
      options.json
        ? JSON.stringify(started)
        : [
            `Started ${started.runId}`,
            `  ${started.executionArn}`,
            `Follow it with: stepjobs show ${started.runId} --aws`,
            ...consoleLink(started.executionArn),
          ].join('\n'),
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
      for (const line of deliveryNotes(started)) io.note(line);
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

/** What local mode could not deliver once the run ended; the run's record stands either way. */
function deliveryNotes(started: StartedRun): string[] {
  const notes: string[] = [];
  if (started.statusEventError)
    notes.push(
      `The run's end did not reach the reconciler (${started.statusEventError}); the next stepjobs command's recovery pass records it.`,
    );
  if (started.notifyError)
    notes.push(`The run notifier was not told of this run's end (${started.notifyError}).`);
  return notes;
}

/** The execution's page in the Step Functions console, as one "Console:" line (none for an odd ARN). */
function consoleLink(executionArn: string): string[] {
  const [, partition, , region] = executionArn.split(':');
  if (partition !== 'aws' || !region) return [];
  return [`Console: ${executionConsoleUrl(executionArn, region)}`];
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
