/** Where CLI commands act: the embedded local runtime (default) or the deployed stack (`--aws`). */
import type { Trigger } from '../../shared/contracts';
import type { Ledger } from '../../shared/ledger/ledger';
import type { ProgressEvent } from './progress';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT' | 'PENDING_REDRIVE';

export interface StartedRun {
  runId: string;
  executionArn: string;
  /** RUNNING when started on AWS with `--no-wait`. */
  status: ExecutionStatus;
  error?: string;
  cause?: string;
  /** Locally: the reconciler could not be told how the execution ended (the ledger was unavailable). */
  statusEventError?: string;
  /** Locally: the run notifier could not be given the run's end (its record is complete either way). */
  notifyError?: string;
}

/** What enabling or disabling a job's schedule did. */
export interface ScheduleStateChange {
  name: string;
  before: 'ENABLED' | 'DISABLED';
  changed: boolean;
  /** The schedule's start date was in the past, and the update left it out (the Scheduler refuses it). */
  startDateDropped: boolean;
}

export interface RunRequest {
  jobId: string;
  input: Record<string, unknown>;
  /**
   * The run's trigger when it is not a plain CLI run: a backfill names its slot. The caller's identity is
   * added as its principal. @default { type: 'cli' }
   */
  trigger?: Pick<Trigger, 'type' | 'scheduledTime' | 'relatedRunId'>;
  wait: boolean;
  /** Called once the execution exists, before following it: the caller can say how to find it again. */
  onStarted?: (run: Pick<StartedRun, 'runId' | 'executionArn'>) => void;
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * A job's schedule as EventBridge Scheduler holds it, for `jobs --aws`. Not found and not deployed are states
 * of their own, not errors: a schedule deleted outside the stack is worth a cell, not a crash.
 */
export type DeployedSchedule =
  | {
      status: 'found';
      name: string;
      expression: string;
      /** @default UTC (the Scheduler's default when the schedule sets none) */
      timeZone: string;
      state: 'ENABLED' | 'DISABLED';
      startDate?: Date;
      endDate?: Date;
      /**
       * Where a `rate()` counts from: the start date, else the last change (an update without a start date
       * restarts the count), else the creation.
       */
      rateAnchor?: Date;
    }
  /** The stack output names the schedule, but the Scheduler has no such schedule. */
  | { status: 'missing'; name: string }
  /** The stack names no schedule for the job (not deployed, or deployed before schedules were named). */
  | { status: 'none' };

export interface Target {
  readonly kind: 'local' | 'aws';
  /** The job ids this target has state machines for. */
  readonly jobIds: readonly string[];
  readonly ledger: Ledger;
  /** Who acts: the caller's IAM ARN on AWS, `local:<user>` locally. Recorded with pauses and unlocks. */
  principal(): Promise<string>;
  /**
   * Enable or disable the job's Scheduler schedule (AWS only: locally a schedule fires only when the simulator
   * runs it).
   */
  setScheduleState?(jobId: string, enabled: boolean): Promise<ScheduleStateChange>;
  /** The job's schedule as deployed (AWS only: locally the definition is the schedule). */
  deployedSchedule?(jobId: string): Promise<DeployedSchedule>;
  /** Start a run of a job; follows it to the end when `wait` (always, locally). */
  startRun(request: RunRequest): Promise<StartedRun>;
  /**
   * Redrive a failed, aborted or timed-out execution (RedriveExecution): it restarts from the state that
   * failed, with the same ARN. AWS only: the local engine has no redrive.
   */
  redrive?(
    executionArn: string,
    request: Pick<RunRequest, 'wait' | 'onStarted' | 'onProgress'>,
  ): Promise<StartedRun>;
  close(): Promise<void>;
}
