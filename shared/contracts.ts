/**
 * The payloads that cross the state machine / Lambda boundary. The CDK side (workflows/) builds these
 * shapes with JSONPath; the task side parses them with these schemas. Keep both in step.
 *
 * State data of every execution after StartRun:
 *   { decision, run: RunRef, input: <validated job input>, results: { <StepId>: <step output> }, error? }
 */
import * as z from './zod';
import { ResolvedCalendar } from './calendar';
import { Decision, OverlapPolicy, TriggerType } from './constants';

export const Trigger = z.strictObject({
  type: z.enum([
    TriggerType.SCHEDULE,
    TriggerType.MANUAL,
    TriggerType.CLI,
    TriggerType.CATCHUP,
    TriggerType.BACKFILL,
    TriggerType.RERUN,
  ]),
  /** ISO time of the scheduled slot (schedule, catch-up and backfill triggers; required for the last two). */
  scheduledTime: z.optional(z.string()),
  scheduleArn: z.optional(z.string()),
  /** The Scheduler's delivery attempt number, from 1 (the Scheduler substitutes it as a string). */
  attempt: z.optional(z.coerce.number().check(z.int(), z.positive())),
  /**
   * Who started a manual run, when known: the CLI sends the caller's identity ARN; for a console run it comes
   * later, from CloudTrail (`principalSource: cloudtrail`).
   */
  principal: z.optional(z.string()),
  /** Where `principal` came from when not from the caller itself: `cloudtrail`. */
  principalSource: z.optional(z.string()),
  /** A rerun's original run. */
  relatedRunId: z.optional(z.string()),
});
export type Trigger = z.infer<typeof Trigger>;

/** What every task needs to know about the run it belongs to. Small on purpose: it is copied into every payload. */
export const RunRef = z.object({
  runId: z.string(),
  jobId: z.string(),
  executionArn: z.string(),
  startedAt: z.string(),
  trigger: Trigger,
  /** Epoch seconds at which the run's ledger items expire. */
  expiresAt: z.int(),
});
export type RunRef = z.infer<typeof RunRef>;

/** Per-job lifecycle settings, baked into the StartRun payload by the JobWorkflow construct. */
export const JobSettings = z.object({
  id: z.string(),
  overlap: z.enum([OverlapPolicy.SKIP, OverlapPolicy.ALLOW, OverlapPolicy.QUEUE]),
  /** The lock lease; always longer than the state machine timeout, so an expired lease is a finished run. */
  leaseSeconds: z.int().check(z.positive()),
  retentionDays: z.number().check(z.positive()),
  /** Manual runs of a destructive job default to `dryRun: true`. */
  destructive: z.boolean(),
  /** `queue` policy only: how long StartRun keeps retrying for the lock before recording SKIPPED. */
  queueMaxWaitSeconds: z.int().check(z.nonnegative()),
  /** The job's calendar, resolved at synth into concrete dates (workflows/calendar.ts). */
  calendar: z.optional(ResolvedCalendar),
});
export type JobSettings = z.infer<typeof JobSettings>;

/** The `$$.Execution` fields StartRun needs. */
export const ExecutionRef = z.object({
  id: z.string(),
  name: z.string(),
  startTime: z.string(),
});
export type ExecutionRef = z.infer<typeof ExecutionRef>;

export const StartRunEvent = z.object({
  /**
   * `States.JsonToString($$.Execution)`: the execution's context object as JSON text, its `Input` member being
   * the raw execution input (console JSON, CLI input, the Scheduler's input: anything at all). Text, because a
   * Lambda event is parsed into JavaScript values, which round numbers beyond 2^53; and the context object,
   * because `$` does not resolve when the input is `null`, while `$$.Execution` always does.
   */
  executionText: z.string(),
  execution: ExecutionRef,
  job: JobSettings,
});
export type StartRunEvent = z.infer<typeof StartRunEvent>;

/** Step Functions' error object as a Catch puts it at its ResultPath. */
export const StatesError = z.object({
  Error: z.string(),
  Cause: z.optional(z.string()),
});
export type StatesError = z.infer<typeof StatesError>;

export const StartRunResult = z.object({
  decision: z.enum([Decision.RUN, Decision.SKIP, Decision.REJECT]),
  run: RunRef,
  input: z.record(z.string(), z.unknown()),
  results: z.record(z.string(), z.unknown()),
  /** Set when the decision is REJECT; the Rejected Fail state reads it. */
  error: z.optional(StatesError),
  /** A short human reason for SKIP decisions. */
  reason: z.optional(z.string()),
});
export type StartRunResult = z.infer<typeof StartRunResult>;

export const FinishRunEvent = z.object({
  run: RunRef,
  results: z.record(z.string(), z.unknown()),
});
export type FinishRunEvent = z.infer<typeof FinishRunEvent>;

/**
 * What a task needs to reopen its run when Step Functions redrives the execution: `$$.Execution.RedriveCount`
 * (0 until a redrive), and the job's lock settings, baked in at synth.
 */
export const RedriveRef = z.object({
  count: z.int().check(z.nonnegative()),
  overlap: z.enum([OverlapPolicy.SKIP, OverlapPolicy.ALLOW, OverlapPolicy.QUEUE]),
  leaseSeconds: z.int().check(z.positive()),
});
export type RedriveRef = z.infer<typeof RedriveRef>;

export const FailRunEvent = z.object({
  run: RunRef,
  error: StatesError,
  /** The state whose failure was caught (a job step, a Map): where a redrive of this execution resumes. */
  failedState: z.optional(z.string()),
  redrive: z.optional(RedriveRef),
});
export type FailRunEvent = z.infer<typeof FailRunEvent>;

/**
 * Which step this is. The name is baked into the definition at synth time (not read from `$$.State`), and
 * the attempt number comes from an atomic counter on the step item, so nothing depends on context fields
 * that the local engine does not provide.
 */
export const StepRef = z.object({
  name: z.string(),
  /** Index of the Map item, for steps that run inside a Map. */
  itemIndex: z.optional(z.int().check(z.nonnegative())),
});
export type StepRef = z.infer<typeof StepRef>;

/** The envelope every job step receives; `data` is validated by the step's own schema. */
export const StepEnvelope = z.object({
  run: RunRef,
  step: StepRef,
  data: z.unknown(),
  /** Absent inside a Distributed Map, whose Express children have no redrive of their own. */
  redrive: z.optional(RedriveRef),
});
export type StepEnvelope = z.infer<typeof StepEnvelope>;

/** The EventBridge "Step Functions Execution Status Change" detail fields the reconciler uses. */
export const ExecutionStatusChange = z.object({
  executionArn: z.string(),
  stateMachineArn: z.string(),
  name: z.string(),
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE; any other value is ignored. */
  status: z.string(),
  startDate: z.nullish(z.number()),
  stopDate: z.nullish(z.number()),
  input: z.nullish(z.string()),
  /** `included: false` when the input was too large for the event (then `input` is null). */
  inputDetails: z.nullish(z.looseObject({ included: z.optional(z.boolean()) })),
  error: z.nullish(z.string()),
  cause: z.nullish(z.string()),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChange>;
