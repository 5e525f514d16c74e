/** Where CLI commands act: the embedded local runtime (default) or the deployed stack (`--aws`). */
import type { Trigger } from '../../shared/contracts';
import type { Ledger } from '../../shared/ledger/ledger';
import type { ProgressEvent } from './progress';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT' | 'PENDING_REDRIVE';

export interface StartedRun {
  runId: string;
  executionArn: string;
  /** RUNNING when started on AWS without `--wait`. */
  status: ExecutionStatus;
  error?: string;
  cause?: string;
  /** Locally: the reconciler could not be told how the execution ended (the ledger was unavailable). */
  statusEventError?: string;
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
  trigger?: Pick<Trigger, 'type' | 'scheduledTime'>;
  wait: boolean;
  onProgress?: (event: ProgressEvent) => void;
}

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
  /** Start a run of a job; waits for the end when `wait` (always, locally). */
  startRun(request: RunRequest): Promise<StartedRun>;
  close(): Promise<void>;
}
