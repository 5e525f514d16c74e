/**
 * The job definition API. One file in workflows/ declares one job with {@link defineJob}; workflows/index.ts
 * lists them. The JobWorkflow construct (stacks/constructs) turns a definition into a state machine wrapped
 * in the run lifecycle, a schedule, and its task functions.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type * as z from '../shared/zod';
import { NOTIFY_OUTCOMES, type NotifyOutcome } from '../tasks/notify/config';
import { DEFAULT_RETENTION_DAYS, OverlapPolicy } from '../shared/constants';
import type { ResolvedCalendar } from '../shared/calendar';
import { InvalidScheduleExpression, parseScheduleExpression } from '../shared/schedule-expression';
import { CalendarError, resolveCalendar, type JobCalendar } from './calendar';

export interface JobSchedule<I> {
  /** `rate(10 minutes)`, `cron(0 3 * * ? *)` or `at(2027-01-01T00:00:00)`. */
  expression: string;
  /** IANA time zone the expression is evaluated in. @default 'UTC' */
  timeZone?: string;
  /**
   * The schedule's StartDate, UTC (`2027-01-01T00:00:00Z`): a `rate()` counts from it, a cron fires nothing
   * before it. EventBridge Scheduler refuses a StartDate more than 5 minutes in the past when it creates the
   * schedule, so set it to a time after the first deploy. @default none: on AWS a rate counts from the
   * schedule's creation, which stepjobs does not read yet; `jobs`, `preview` and the simulator count from the
   * Unix epoch
   */
  startDate?: string;
  /** EventBridge Scheduler flexible time window, in minutes (1-1440); 0 turns it off. @default 0 */
  flexibleWindowMinutes?: number;
  /** Deploy the schedule enabled. @default true */
  enabled?: boolean;
  /** Job input that scheduled runs receive (merged with the trigger). @default {} */
  input?: Partial<I>;
  /** Scheduler delivery retries (0-185). @default 185 */
  retryAttempts?: number;
  /** Maximum age of an undelivered event. @default Duration.hours(24) */
  maxEventAge?: Duration;
  /**
   * How long after a slot (past its flexible window) the sweep waits for a delivery before it records the
   * slot MISSED. @default Duration.minutes(15)
   */
  missedGrace?: Duration;
  /**
   * What the sweep does about slots that did not run: missed ones (no delivery) and, once a pause is over,
   * the ones the pause skipped. `none` records them and starts nothing: an operational job run hours late can
   * surprise (a cleanup during business hours, a report sent twice), so making up is a choice, per job, or
   * by hand with `stepjobs backfill`. @default { mode: 'none' }
   */
  catchup?: CatchupPolicy;
}

export type CatchupMode = 'none' | 'latest' | 'all';

export interface CatchupPolicy {
  /** `latest` runs only the newest slot not run; `all` runs each, oldest first, one at a time unless overlap is `allow`. */
  mode: CatchupMode;
  /** Only slots this recent are made up. @default Duration.hours(24) */
  window?: Duration;
}

export const DEFAULT_MISSED_GRACE = Duration.minutes(15);
export const DEFAULT_CATCHUP_WINDOW = Duration.hours(24);
const MAX_CATCHUP_WINDOW = Duration.days(30);

export interface TaskOptions {
  /** The handler file, relative to the repository root (e.g. `tasks/heartbeat/heartbeat.ts`); it exports `handler`. */
  entry: string;
  /**
   * JSONPath object passed to the step as `data`.
   * @default { 'input.$': '$.input', 'results.$': '$.results' }
   */
  data?: Record<string, unknown>;
  /** Where the step's output goes in the state data. @default `$.results.<id>` */
  resultPath?: string;
  /** Lambda and task timeout. @default Duration.minutes(1) */
  timeout?: Duration;
  /** @default 256 */
  memorySize?: number;
  /** Retries for the step's own errors, on top of the Lambda service retries every task gets. @default none */
  retry?: sfn.RetryProps[];
  /**
   * The task runs inside a Map iterator: it records its Map item index and is not caught to FailRun (the
   * Map's own catch is). @default false
   */
  inMap?: boolean;
  /**
   * A task invoked again and again in a loop records each invocation as its own step item: the JSONPath of
   * the invocation's index in the state data (it must resolve on every invocation). @default none
   */
  itemIndexPath?: string;
  /** Extra environment for this function. @default none */
  environment?: Record<string, string>;
  /**
   * What the function may do beyond the ledger (which every task can write). A statement whose resources
   * must hold a wildcard says why in `wildcardReason`; the construct records it as the cdk-nag
   * acknowledgement of exactly those resources. @default none
   */
  policies?: TaskPolicy[];
}

export interface TaskPolicy {
  statement: PolicyStatement;
  /** Why the statement's wildcard resources cannot be narrowed (required when it has any). */
  wildcardReason?: string;
}

/** What a job's `steps` function gets to build its chain with. */
export interface StepBuilder {
  readonly scope: Construct;
  readonly ledgerTable: ITable;
  /** A Lambda task step with the project's defaults: envelope payload, timeout, retries, catch to FailRun. */
  task(id: string, options: TaskOptions): sfn.TaskStateBase;
  /**
   * Catch every error of a state the job built itself (a Map or Parallel) into the run's FailRun path.
   * Every top-level state that can fail must be caught; synth fails otherwise.
   */
  catchFailures<T extends sfn.Map | sfn.DistributedMap | sfn.Parallel | sfn.TaskStateBase>(state: T): T;
  /** The JSONPath `run` reference to pass into Map items (`{'run.$': '$.run'}`) so their tasks can record steps. */
  readonly runPath: string;
  /** The id of every job of the app, this one included: for a job that reports on the others. */
  readonly allJobIds: readonly string[];
  /**
   * The job's report bucket, created in the job's scope on first call: S3-managed encryption, TLS only, no
   * public access, reports expired after the app's `reportRetentionDays` (cdk.json). The stack names it in
   * its `ReportBucketName` output, which `stepjobs reports --aws` reads; one job of the app may have one.
   * Grant the job's task what it needs on it (`policies`).
   */
  reportBucket(): IBucket;
}

/**
 * Who hears about a job's runs. Every final run becomes a "stepjobs Run Finished" event on the default bus;
 * the outcomes in `on` are also sent to people: a topic (chat channels through Amazon Q Developer, email) and,
 * optionally, a Slack incoming webhook. See docs/notifications.md.
 */
export interface JobNotify {
  /** The outcomes sent to people. `CHANGED` is a SUCCEEDED run whose `figures.changed` is above 0. @default DEFAULT_NOTIFY_ON */
  on?: NotifyOutcome[];
  /** `stack`: the stack's alarm topic. `job`: a topic of the job's own (an output names it). @default 'stack' */
  topic?: 'stack' | 'job';
  /** The key figures of a summary: fields of one step's output, by label, as dot paths. @default none */
  figures?: JobFigures;
  /**
   * A Secrets Manager secret (name or ARN) whose value is a Slack incoming-webhook URL; read at run time and
   * cached, never in the template or the logs. A secret encrypted with a key of your own also needs kms:Decrypt
   * for the notifier. @default no webhook
   */
  slackWebhookSecret?: string;
}

export interface JobFigures {
  /** The task whose output holds them. */
  step: string;
  /** Label → dot path into the output (`totals.released`); an object's leaves each become a figure. */
  fields: Record<string, string>;
  /** The dot path of a count of what the run changed: above 0 makes a SUCCEEDED run's outcome CHANGED. */
  changed?: string;
}

/** What a job's runs tell people about when its definition does not say. */
export const DEFAULT_NOTIFY_ON: readonly NotifyOutcome[] = ['FAILED', 'TIMED_OUT', 'ABORTED', 'MISSED'];

/**
 * One metric of a job's own, in the app's metrics namespace. The dashboard adds the `service` and `job`
 * dimensions, so a figure cannot name another job's metric by mistake.
 */
export interface JobFigureMetric {
  readonly metricName: string;
  /** Dimensions beside `service` and `job`, e.g. `{ action: 'release', mode: 'applied' }`. @default none */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** @default 'Sum' */
  readonly statistic?: string;
  /**
   * The unit the metric is emitted with. Graphs ignore it; an alarm made from the metric would filter on it.
   * @default no unit
   */
  readonly unit?: cloudwatch.Unit;
  /** The line's legend. @default the metric name and its extra dimension values */
  readonly label?: string;
}

/** A graph of figures only one job emits (the release job's actions and savings), after its standard row. */
export interface JobFigure {
  readonly title: string;
  readonly metrics: readonly JobFigureMetric[];
  /** Stack the lines, for parts of one total. @default false */
  readonly stacked?: boolean;
  /** The left axis label, e.g. `USD`. @default none */
  readonly axisLabel?: string;
}

export interface JobDefinition<S extends z.ZodMiniObject = z.ZodMiniObject> {
  /** Lower-case id: letters, digits and dashes (it names resources and ledger keys). */
  id: string;
  description: string;
  schedule: JobSchedule<z.input<S>>;
  /**
   * When scheduled runs do not run: dates, named ranges (a change freeze), weekdays, public holidays and
   * `only` windows, in the schedule's time zone. A scheduled slot in an exclusion is recorded SKIPPED
   * (`calendar: <name>`); a manual or CLI run still runs and its record says it fell in one. @default none
   */
  calendar?: JobCalendar;
  /** What to do when a run starts while another holds the lock. @default 'skip' */
  overlap?: OverlapPolicy;
  /** `queue` only: how long to wait for the lock before recording SKIPPED. @default Duration.minutes(10) */
  queueMaxWait?: Duration;
  /** The state machine's TimeoutSeconds (at most one year). */
  timeout: Duration;
  /** How long run records are kept in the ledger. @default 400 days */
  retentionDays?: number;
  /** The input schema, with defaults. Register it in tasks/lifecycle/job-inputs.ts so StartRun can validate. */
  input: S;
  /** Destructive jobs default manual runs to `dryRun: true`. @default false */
  destructive?: boolean;
  /** Who hears about its runs, and with which figures. @default { on: DEFAULT_NOTIFY_ON, topic: 'stack' } */
  notify?: JobNotify;
  /** Graphs of the job's own metrics on the stack's dashboard, after its standard row. @default none */
  dashboard?: readonly JobFigure[];
  /** The job's steps. */
  steps: (builder: StepBuilder) => sfn.IChainable;
}

export function defineJob<S extends z.ZodMiniObject>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

export { DEFAULT_RETENTION_DAYS } from '../shared/constants';
export type { JobCalendar } from './calendar';
export const DEFAULT_QUEUE_MAX_WAIT = Duration.minutes(10);

/** The lease outlives the state machine timeout by this much, so an expired lease belongs to a finished run. */
export const LEASE_MARGIN = Duration.minutes(15);

/** A job's lock lease: no run of the job is RUNNING longer than this. */
export function leaseSeconds(job: Pick<JobDefinition, 'timeout'>): number {
  return job.timeout.toSeconds() + LEASE_MARGIN.toSeconds();
}

/** The earliest start a still-RUNNING run of `job` can have at `now` (ISO), for listings of RUNNING runs. */
export function runningSince(job: Pick<JobDefinition, 'timeout'>, now: Date): string {
  return new Date(now.getTime() - leaseSeconds(job) * 1000).toISOString();
}
const MAX_TIMEOUT = Duration.days(365);

/** Whether an ISO time names a real calendar instant (not 2027-02-30). */
function isRealDate(iso: string): boolean {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 19) === iso.slice(0, 19);
}

/**
 * A job's calendar resolved into concrete dates (holidays from the year of `today` on), or undefined when it
 * has none. Throws a {@link JobDefinitionError} naming the field.
 */
export function jobCalendar(
  job: Pick<JobDefinition, 'id' | 'calendar' | 'schedule'>,
  today = new Date(),
): ResolvedCalendar | undefined {
  if (!job.calendar) return undefined;
  try {
    return resolveCalendar(job.calendar, job.schedule.timeZone ?? 'UTC', today);
  } catch (error) {
    if (error instanceof CalendarError)
      throw new JobDefinitionError(job.id, `calendar.${error.field}`, error.message);
    throw error;
  }
}

/** A job's schedule start, as a Date (undefined without one). */
export function scheduleStart(schedule: Pick<JobSchedule<unknown>, 'startDate'>): Date | undefined {
  return schedule.startDate === undefined ? undefined : new Date(schedule.startDate);
}

export class JobDefinitionError extends Error {
  constructor(jobId: string, field: string, problem: string) {
    super(`Job "${jobId}": ${field} ${problem}`);
    this.name = 'JobDefinitionError';
  }
}

/**
 * Check every definition and the list as a whole. Throws a {@link JobDefinitionError} naming the job and the
 * field, so `cdk synth` stops with a message a person can act on.
 */
export function validateJobs(
  jobs: readonly JobDefinition[],
  registeredInputs: Readonly<Record<string, z.ZodMiniType>>,
): void {
  const seen = new Set<string>();
  for (const job of jobs) {
    const id = job.id;
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(id)) {
      throw new JobDefinitionError(
        id,
        'id',
        'must be 1-40 lower-case letters, digits or dashes, starting with a letter',
      );
    }
    if (seen.has(id)) throw new JobDefinitionError(id, 'id', 'is used by more than one job');
    seen.add(id);
    try {
      parseScheduleExpression(job.schedule.expression, job.schedule.timeZone ?? 'UTC');
    } catch (error) {
      if (!(error instanceof InvalidScheduleExpression)) throw error;
      const field = error.message.startsWith('unknown time zone')
        ? 'schedule.timeZone'
        : 'schedule.expression';
      throw new JobDefinitionError(id, field, `is invalid: ${error.message}`);
    }
    const start = job.schedule.startDate;
    if (start !== undefined && !(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(start) && isRealDate(start))) {
      throw new JobDefinitionError(
        id,
        'schedule.startDate',
        `must be a UTC time like 2027-01-01T00:00:00Z (got "${start}")`,
      );
    }
    jobCalendar(job);
    const window = job.schedule.flexibleWindowMinutes ?? 0;
    if (!Number.isInteger(window) || window < 0 || window > 1440) {
      throw new JobDefinitionError(
        id,
        'schedule.flexibleWindowMinutes',
        `must be a whole number from 0 to 1440 (got ${window})`,
      );
    }
    const catchup = job.schedule.catchup;
    if (catchup !== undefined) {
      if (!['none', 'latest', 'all'].includes(catchup.mode)) {
        throw new JobDefinitionError(
          id,
          'schedule.catchup.mode',
          `must be none, latest or all (got "${catchup.mode}")`,
        );
      }
      const seconds = (catchup.window ?? DEFAULT_CATCHUP_WINDOW).toSeconds();
      if (seconds < 60 || seconds > MAX_CATCHUP_WINDOW.toSeconds()) {
        throw new JobDefinitionError(
          id,
          'schedule.catchup.window',
          `must be from 1 minute to 30 days (got ${seconds} s)`,
        );
      }
    }
    const grace = (job.schedule.missedGrace ?? DEFAULT_MISSED_GRACE).toSeconds();
    if (grace < 60 || grace > 86_400) {
      throw new JobDefinitionError(
        id,
        'schedule.missedGrace',
        `must be from 1 minute to 24 hours (got ${grace} s)`,
      );
    }
    const retries = job.schedule.retryAttempts ?? 185;
    if (!Number.isInteger(retries) || retries < 0 || retries > 185) {
      throw new JobDefinitionError(id, 'schedule.retryAttempts', `must be 0-185 (got ${retries})`);
    }
    const timeoutSeconds = job.timeout.toSeconds();
    if (timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT.toSeconds()) {
      throw new JobDefinitionError(
        id,
        'timeout',
        `must be between 1 second and 365 days (got ${timeoutSeconds} s)`,
      );
    }
    const retention = job.retentionDays ?? DEFAULT_RETENTION_DAYS;
    if (!(retention >= 1)) {
      throw new JobDefinitionError(id, 'retentionDays', `must be at least 1 day (got ${retention})`);
    }
    const overlap = job.overlap ?? OverlapPolicy.SKIP;
    if (!Object.values(OverlapPolicy).includes(overlap)) {
      throw new JobDefinitionError(
        id,
        'overlap',
        `must be one of ${Object.values(OverlapPolicy).join(', ')} (got "${overlap}")`,
      );
    }
    validateNotify(job);
    if (registeredInputs[id] !== job.input) {
      throw new JobDefinitionError(
        id,
        'input',
        'is not the schema registered for it in tasks/lifecycle/job-inputs.ts',
      );
    }
    const scheduled = job.input.safeParse({ ...(job.schedule.input ?? {}) });
    if (!scheduled.success) {
      const issue = scheduled.error.issues[0];
      throw new JobDefinitionError(
        id,
        `schedule.input.${issue?.path.join('.') ?? ''}`,
        `is invalid: ${issue?.message ?? ''}`,
      );
    }
  }
}

const DOT_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const SECRET_ID =
  /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/;

/** The job's `notify` setting; its figures' step is checked against the job's tasks when the steps are built. */
function validateNotify(job: JobDefinition): void {
  const notify = job.notify;
  if (notify === undefined) return;
  const id = job.id;
  const on = notify.on ?? DEFAULT_NOTIFY_ON;
  if (!Array.isArray(on)) throw new JobDefinitionError(id, 'notify.on', 'must be a list of outcomes');
  for (const outcome of on) {
    if (!(NOTIFY_OUTCOMES as readonly string[]).includes(outcome)) {
      throw new JobDefinitionError(
        id,
        'notify.on',
        `has "${String(outcome)}"; the outcomes are ${NOTIFY_OUTCOMES.join(', ')}`,
      );
    }
  }
  if (new Set(on).size !== on.length) throw new JobDefinitionError(id, 'notify.on', 'names an outcome twice');
  if (notify.topic !== undefined && notify.topic !== 'stack' && notify.topic !== 'job') {
    throw new JobDefinitionError(
      id,
      'notify.topic',
      `must be "stack" or "job" (got "${String(notify.topic)}")`,
    );
  }
  const figures = notify.figures;
  if (figures) {
    const entries = Object.entries(figures.fields ?? {});
    if (entries.length === 0)
      throw new JobDefinitionError(id, 'notify.figures.fields', 'must name at least one field');
    for (const [label, path] of [
      ...entries,
      ...(figures.changed === undefined ? [] : [['changed', figures.changed]]),
    ]) {
      if (typeof path !== 'string' || !DOT_PATH.test(path)) {
        throw new JobDefinitionError(
          id,
          label === 'changed' && path === figures.changed
            ? 'notify.figures.changed'
            : `notify.figures.fields.${label}`,
          `must be a dot path like totals.released (got "${String(path)}")`,
        );
      }
    }
  }
  if (notify.slackWebhookSecret !== undefined && !SECRET_ID.test(notify.slackWebhookSecret)) {
    throw new JobDefinitionError(
      id,
      'notify.slackWebhookSecret',
      'must be a Secrets Manager secret name or ARN (the secret holds the webhook URL, never the URL itself)',
    );
  }
}
