/**
 * Typed ledger items. Index attributes are listed on each item type; keys come from ./keys.ts.
 */
import type { RunStatus, SkipReason, StepStatus } from '../constants';
import type { Trigger } from '../contracts';
import type { StoredJson } from '../json';

export interface ErrorInfo {
  name: string;
  cause?: string;
}

/** The current state of one job. `pk=JOB#<jobId>`, `sk=STATE`. Never expires. */
export interface JobState {
  jobId: string;
  paused: boolean;
  pausedBy?: string;
  pausedAt?: string;
  pauseReason?: string;
  /** A pause with an end: from then on the job counts as resumed (the first scheduled run clears it). */
  pausedUntil?: string;
  /** The latest resume: by an operator (with their reason), or by a pause's own end (`expired`). */
  lastResume?: ResumeRecord;
  /** The run holding the job lock, if any, and when its lease ends. */
  lockRunId?: string;
  lockExpiresAt?: string;
  lastRun?: RunSummary;
  lastSuccess?: RunSummary;
  counters: Partial<Record<RunStatus, number>>;
  updatedAt?: string;
  /** The sweep has checked every execution of the job that started before this time for a run record. */
  sweptUntil?: string;
  /** The sweep has compared the job's expected slots with the claimed ones up to this time (MISSED runs). */
  slotsCheckedUntil?: string;
}

/** A pause as runs and listings show it: who, why, since and until when. */
export interface PauseInfo {
  by?: string;
  reason?: string;
  at?: string;
  until?: string;
}

export interface ResumeRecord {
  /** Who resumed it; `pause expiry` when the pause ended on its own. */
  by: string;
  at: string;
  reason?: string;
  /** The pause it ended. */
  pause?: PauseInfo;
  expired?: boolean;
}

/**
 * Something an operator did to a job outside a run, kept for audit: who, why, and what it changed.
 * `pk=JOB#<jobId>`, `sk=OP#<at>#<id>`.
 */
export interface OperatorAction {
  jobId: string;
  op: 'unlock' | 'pause' | 'resume';
  /** Who: the caller's IAM ARN on AWS, `local:<user>` locally. */
  by: string;
  reason: string;
  at: string;
  /** For a pause with an end. */
  until?: string;
  /** For an unlock: the run that held the lock, and its status then (`unrecorded` when it had no record). */
  holderRunId?: string;
  holderStatus?: string;
  expiresAt: number;
}

export interface RunSummary {
  runId: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
}

/**
 * One run. `pk=RUN#<runId>`, `sk=RUN`. Kept within 1 KB (one write unit per lifecycle write).
 * GSI1: `gsi1pk=JOB#<jobId>`, `gsi1sk=<startedAt>#<runId>`, from creation. Once final: GSI2
 * `gsi2pk=JOB#<jobId>#<status>#<trigger>` and GSI3 `gsi3pk=STATUS#<status>`, both sorted by `gsi1sk`.
 */
export interface RunRecord {
  runId: string;
  /** The execution; absent on a MISSED run, which never had one. */
  executionArn?: string;
  jobId: string;
  status: RunStatus;
  trigger: Trigger;
  /**
   * What the caller sent: the execution input as JSON text, whatever its content. On the run item it is cut to
   * INLINE_INPUT_BYTES (so the item stays within one write unit); then the run's {@link RunInputs} item holds
   * the whole text.
   */
  rawInput: StoredJson;
  /**
   * The job input as validated (trigger removed, defaults applied), as JSON text. Absent when the run never got
   * that far: invalid input, a duplicate slot, a paused job. Cut like `rawInput`.
   */
  input?: StoredJson;
  /** Why `rawInput` is empty: a record built from a Step Functions report that did not include the input. */
  inputUnavailable?: string;
  /**
   * JSON of the execution's output, cut to MAX_OUTPUT_SUMMARY_BYTES, for runs finalized from Step Functions'
   * report (reconciler, sweep). A run the state machine finalized itself has its results on its steps.
   */
  output?: string;
  outputTruncated?: boolean;
  error?: ErrorInfo;
  /** For SKIPPED runs. */
  skipReason?: SkipReason;
  /** For runs SKIPPED (paused): the pause, as it stood. */
  pause?: PauseInfo;
  /** For the first scheduled run after a pause that ended on its own: that pause. */
  resumedAfter?: PauseInfo;
  /**
   * The slot's calendar exclusion (`calendar: <name>`): why a scheduled run was SKIPPED, or, on a manual, CLI
   * or backfill run, the exclusion it ran in anyway.
   */
  calendarExclusion?: string;
  /**
   * For DUPLICATE runs: the run that owns the slot. For SKIPPED overlap: the run holding the lock. For a
   * catch-up or backfill run that took over a SKIPPED slot: that SKIPPED run.
   */
  relatedRunId?: string;
  /** Set when this run took over an expired lease from another run. */
  tookOverFrom?: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /** Epoch seconds; the table's TTL attribute. */
  expiresAt: number;
  /** Who finalized it when not the state machine itself (`reconciler`, `sweep`). */
  finalizedBy?: string;
  /** How many times Step Functions redrove the execution, as of the last attempt that reopened the run. */
  redriveCount?: number;
  /** When the last redrive reopened the run. */
  redrivenAt?: string;
  /** How each earlier attempt of a redriven run ended, oldest first (the record of those ends is kept). */
  redrives?: Array<{ at: string; status: RunStatus; endedAt?: string; error?: ErrorInfo }>;
  /** What an operator can do about this outcome (a DUPLICATE's way to run the slot's work again). */
  hint?: string;
  /**
   * What the run notifier sent about it to people (the topic, Slack) and what it could not send. Absent when
   * the run was only put on the event bus, which every final run is.
   */
  notification?: NotificationRecord;
}

/** The run notifier's record on a run: where its summary went, and what could not be sent (never fatal). */
export interface NotificationRecord {
  at: string;
  /** The outcome the summary was sent as (FAILED, MISSED, CHANGED, ...). */
  outcome: string;
  /** Channels that took it: `topic`, `slack`, `events`. */
  sent: string[];
  /** Channels that did not, with the error. */
  failures?: Array<{ channel: string; error: ErrorInfo }>;
}

/**
 * The whole input texts of a run whose inputs do not fit its run item. `pk=RUN#<runId>`, `sk=INPUT`. Written
 * before the run item; never indexed.
 */
export interface RunInputs {
  runId: string;
  rawInput: StoredJson;
  input?: StoredJson;
  expiresAt: number;
}

/**
 * One step of a run (one item per step, or per Map item). `pk=RUN#<runId>`, `sk=STEP#<name>[#<itemIndex>]`.
 * Each attempt increments `attempts`; failed attempts are kept in `failures`.
 */
export interface StepRecord {
  runId: string;
  name: string;
  itemIndex?: number;
  status: StepStatus;
  attempts: number;
  /** When the first attempt started; steps are listed in this order. */
  startedAt: string;
  /** When the latest attempt started. */
  lastStartedAt: string;
  endedAt?: string;
  /** Duration of the latest attempt. */
  durationMs?: number;
  error?: ErrorInfo;
  failures?: Array<{ attempt: number; at: string; error: ErrorInfo }>;
  /** What the latest successful attempt returned, as JSON text cut to MAX_STEP_OUTPUT_BYTES. */
  output?: StoredJson;
  expiresAt: number;
}

/** Was the action only planned (dry run), or carried out, and how did it end. */
export type ActionOutcome =
  'PLANNED' | 'DONE' | 'ALREADY_GONE' | 'FAILED' | 'MARKED' | 'CANCELLED' | 'SKIPPED';

/**
 * One action a job carried out on one resource. `pk=RUN#<runId>`, `sk=ACTION#<type>#<resourceId>`.
 * GSI1: `gsi1pk=RES#<resourceId>`, `gsi1sk=<at>#<runId>`: "who released vol-123, and when". A dry run writes no
 * action items: its planned actions stay in its plan pages (`PLAN#`), listed per run.
 */
export interface ActionRecord {
  runId: string;
  jobId: string;
  resourceId: string;
  resourceArn?: string;
  resourceType: string;
  /** What the job decided (`mark`, `release`, `cancel` for the release job). */
  action: string;
  /** The concrete operation (`stop`, `snapshot-and-delete`, `tag`, ...). */
  operation?: string;
  /** For a `mark`: the release date written to the resource. */
  releaseAfter?: string;
  dryRun: boolean;
  outcome: ActionOutcome;
  reason: string;
  /** Estimated monthly saving in USD (list prices; an estimate). */
  estimatedMonthlySavingUsd?: number;
  error?: ErrorInfo;
  at: string;
  expiresAt: number;
}

/** One planned action as a plan batch keeps it: an {@link ActionRecord} without what the batch says once. */
export type PlanEntry = Pick<
  ActionRecord,
  | 'resourceId'
  | 'resourceArn'
  | 'resourceType'
  | 'action'
  | 'operation'
  | 'releaseAfter'
  | 'reason'
  | 'estimatedMonthlySavingUsd'
>;

/**
 * A stored batch of a run's plan: `pk=RUN#<runId>`, `sk=PLAN#<batch>`. Every planned action of a run is in one
 * batch, dry run or not; a run that applies also records each action's outcome as an {@link ActionRecord}.
 */
export interface PlanBatch {
  runId: string;
  jobId: string;
  batch: number;
  dryRun: boolean;
  /** When the plan was made. */
  at: string;
  actions: PlanEntry[];
  expiresAt: number;
}

/** A page of items plus the cursor for the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  cursor?: string;
}
