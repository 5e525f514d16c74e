/**
 * Typed ledger items. Index attributes are listed on each item type; keys come from ./keys.ts.
 */
import type { RunStatus, SkipReason, StepStatus } from '../constants';
import type { Trigger } from '../contracts';

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
  /** The run holding the job lock, if any, and when its lease ends. */
  lockRunId?: string;
  lockExpiresAt?: string;
  lastRun?: RunSummary;
  lastSuccess?: RunSummary;
  counters: Partial<Record<RunStatus, number>>;
  updatedAt?: string;
}

export interface RunSummary {
  runId: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
}

/**
 * One run. `pk=RUN#<runId>`, `sk=RUN`.
 * GSI1: `gsi1pk=JOB#<jobId>`, `gsi1sk=<startedAt>#<runId>`. GSI2: `gsi2pk=DAY#<yyyy-mm-dd>`, `gsi2sk` as GSI1.
 */
export interface RunRecord {
  runId: string;
  executionArn: string;
  jobId: string;
  status: RunStatus;
  trigger: Trigger;
  /** The input as validated (defaults applied), or the raw input when validation failed. */
  input: unknown;
  /** JSON of the step results, cut to MAX_OUTPUT_SUMMARY_BYTES. */
  output?: string;
  outputTruncated?: boolean;
  error?: ErrorInfo;
  /** For SKIPPED runs. */
  skipReason?: SkipReason;
  /** For DUPLICATE runs: the run that owns the slot. For SKIPPED overlap: the run holding the lock. */
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
  expiresAt: number;
}

/** Was the action only planned (dry run), or carried out, and how did it end. */
export type ActionOutcome =
  'PLANNED' | 'DONE' | 'ALREADY_GONE' | 'FAILED' | 'MARKED' | 'CANCELLED' | 'SKIPPED';

/**
 * One action a job took (or planned) on one resource. `pk=RUN#<runId>`, `sk=ACTION#<type>#<resourceId>`.
 * GSI1: `gsi1pk=RES#<resourceId>`, `gsi1sk=<at>#<runId>`: "who released vol-123, and when".
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

/** A stored batch of a plan: `pk=RUN#<runId>`, `sk=PLAN#<batch>`. `T` is the job's planned-action type. */
export interface PlanBatch<T> {
  runId: string;
  batch: number;
  actions: T[];
  expiresAt: number;
}

/** A page of items plus the cursor for the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  cursor?: string;
}
