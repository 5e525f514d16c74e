/**
 * Enums shared by the state machine definitions (Choice conditions, payload keys) and the task code,
 * so that a rename cannot leave one side behind.
 */

/** Final and in-flight statuses of a run record. */
export const RunStatus = {
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  /** The run did not start its steps: the job was paused, or another run held the lock. */
  SKIPPED: 'SKIPPED',
  /** A second delivery of a scheduled slot that already has a run. */
  DUPLICATE: 'DUPLICATE',
  ABORTED: 'ABORTED',
  TIMED_OUT: 'TIMED_OUT',
  /**
   * A scheduled slot no delivery arrived for: recorded by the sweep, with no execution. It does not claim the
   * slot, so a late delivery or a catch-up run may still run it.
   */
  MISSED: 'MISSED',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  RunStatus.SUCCEEDED,
  RunStatus.FAILED,
  RunStatus.SKIPPED,
  RunStatus.DUPLICATE,
  RunStatus.ABORTED,
  RunStatus.TIMED_OUT,
  RunStatus.MISSED,
];

/** What StartRun tells the state machine's `Decide` Choice state to do. */
export const Decision = {
  /** Run the job's steps. */
  RUN: 'RUN',
  /** End the execution successfully without running the steps (duplicate, paused, overlap). */
  SKIP: 'SKIP',
  /** End the execution as failed without running the steps (invalid input). */
  REJECT: 'REJECT',
} as const;
export type Decision = (typeof Decision)[keyof typeof Decision];

/** Who or what started a run. */
export const TriggerType = {
  SCHEDULE: 'schedule',
  /** The Step Functions console or any StartExecution call that does not say who it is. */
  MANUAL: 'manual',
  CLI: 'cli',
  /** A run the sweep started for a missed or paused slot (the job's `catchup`), through the slot claim. */
  CATCHUP: 'catchup',
  /** A run `stepjobs backfill` started for a past slot, through the slot claim. */
  BACKFILL: 'backfill',
  /** A new run of an earlier run's input (`stepjobs rerun`); `relatedRunId` names the earlier run. */
  RERUN: 'rerun',
} as const;
export type TriggerType = (typeof TriggerType)[keyof typeof TriggerType];

export const OverlapPolicy = {
  /** Record a SKIPPED run when another run holds a live lease (the default). */
  SKIP: 'skip',
  /** No lock: runs may overlap. */
  ALLOW: 'allow',
  /** Wait with backoff for the lock, up to a limit, then record SKIPPED. */
  QUEUE: 'queue',
} as const;
export type OverlapPolicy = (typeof OverlapPolicy)[keyof typeof OverlapPolicy];

/** Why a run was SKIPPED. */
export const SkipReason = {
  PAUSED: 'paused',
  OVERLAP: 'overlap',
  QUEUE_TIMEOUT: 'queue-timeout',
  /** The slot falls in the job's calendar exclusions (a holiday, a freeze, a weekday, outside its windows). */
  CALENDAR: 'calendar',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export const StepStatus = {
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** Lifecycle state ids. They are part of the contract with the local runtime, the CLI and the docs. */
export const LifecycleState = {
  START_RUN: 'StartRun',
  DECIDE: 'Decide',
  FINISH_RUN: 'FinishRun',
  FAIL_RUN: 'FailRun',
  /** FinishRun could not write after its retries: the execution succeeds anyway, and the sweep records the run. */
  SUCCEEDED_UNRECORDED: 'SucceededUnrecorded',
  SKIPPED: 'Skipped',
  REJECTED: 'Rejected',
  /** FailRun could not record the failure: the execution fails here with the step's error. */
  FAILED: 'Failed',
  /** After FailRun reopened a redriven run: back to the state whose failure was caught. */
  RESUME: 'Resume',
} as const;

/** Where the catch of a job state puts that state's name for FailRun (a Pass state `<state>Caught`). */
export const FAILED_STATE_PATH = '$.failedState';
/** Where FailRun puts the state to resume, when a redrive reopened the run. */
export const RESUME_PATH = '$.redrive.resume';

/** Error names that cross the Lambda / Step Functions boundary; Retry and Catch match on them exactly. */
export const ErrorName = {
  INVALID_INPUT: 'InvalidInput',
  LOCK_HELD: 'LockHeld',
  TRANSIENT: 'TransientError',
  /** The ledger (DynamoDB) failed with throttling, a 5xx or a network error after the SDK's own retries. */
  LEDGER_UNAVAILABLE: 'LedgerUnavailable',
  /** A job step could not record its start, so its logic did not run: safe to retry. */
  STEP_NOT_STARTED: 'StepNotStarted',
  /**
   * FailRun's own failure of the execution, when the step's error name is one the lifecycle reserves (a
   * `States.` or `Lambda.` error, a ledger error) and so cannot be raised again as it is.
   */
  STEP_FAILED: 'StepFailed',
  /** A redrive cannot reopen its run: another run holds the job lock. */
  REDRIVE_BLOCKED: 'RedriveBlocked',
} as const;

/** Tag and attribute names that deployments and the CLI agree on. */
export const STACK_OUTPUT = {
  TABLE_NAME: 'LedgerTableName',
  /** Per job: `<prefix><JobIdPascal>`, with the job id in the output description. */
  STATE_MACHINE_ARN_PREFIX: 'StateMachineArn',
  SCHEDULE_NAME_PREFIX: 'ScheduleName',
  JOBS: 'Jobs',
  /** The bucket job reports are written to (the audit digest's); `stepjobs reports --aws` reads it. */
  REPORT_BUCKET: 'ReportBucketName',
} as const;

/** Step Functions refuses a larger execution input (StartExecution); local mode refuses it the same way. */
export const MAX_EXECUTION_INPUT_BYTES = 256 * 1024;

/**
 * Deepest nesting of objects and arrays that local mode accepts in an execution input, as StartExecution's JSON
 * parser would (Jackson's default nesting limit is 1,000). Deeper input never reaches the local engine, which
 * clones the input recursively.
 */
export const MAX_EXECUTION_INPUT_DEPTH = 1000;

/** Deepest nesting StartRun accepts in a job input; deeper input is an InvalidInput, recorded with the raw text. */
export const MAX_JOB_INPUT_DEPTH = 64;

/**
 * The run record keeps at most this much of each input text (raw and validated). A longer input is also kept
 * whole in the run's INPUT item, so the run item, which every lifecycle write rewrites, stays small.
 */
export const INLINE_INPUT_BYTES = 320;

/** How much of the raw and validated input texts the INPUT item keeps (the whole of any input AWS accepts). */
export const STORED_RAW_INPUT_BYTES = MAX_EXECUTION_INPUT_BYTES;
export const STORED_VALIDATED_INPUT_BYTES = 128 * 1024;

/**
 * Bound on the JSON output summary stored on a run record finalized from Step Functions' own report (the
 * reconciler, the sweep); DynamoDB items are at most 400 KB.
 */
export const MAX_OUTPUT_SUMMARY_BYTES = 16 * 1024;

/** Bound on the output stored on a step record: what the step returned, as JSON text. */
export const MAX_STEP_OUTPUT_BYTES = 16 * 1024;

/** How long run records are kept when a job does not say: far beyond Step Functions' own 90 days of history. */
export const DEFAULT_RETENTION_DAYS = 400;
