/**
 * Builders for the payloads and records tests need. Each call returns a new object, so no test can change
 * what another sees.
 */
import { OverlapPolicy, RunStatus } from '../../shared/constants';
import type { JobSettings, RunRef, StartRunEvent } from '../../shared/contracts';
import { storedJson, type StoredJson } from '../../shared/json';
import type { RunRecord } from '../../shared/ledger/items';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export function stateMachineArn(jobId: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:stepjobs-${jobId}`;
}

export function executionArn(jobId: string, name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:execution:stepjobs-${jobId}:${name}`;
}

export function jobSettings(overrides: Partial<JobSettings> = {}): JobSettings {
  return {
    id: 'heartbeat',
    overlap: OverlapPolicy.SKIP,
    leaseSeconds: 3_600,
    retentionDays: 400,
    destructive: false,
    queueMaxWaitSeconds: 600,
    ...overrides,
  };
}

/**
 * A StartRun event for execution `name` of `job`, started at `startTime`: `$$.Execution` as JSON text, as
 * `States.JsonToString` gives it, with `executionInput` (a value) or `inputText` (exact text) as its Input.
 */
export function startRunEvent(options: {
  name: string;
  startTime: string;
  executionInput?: unknown;
  inputText?: string;
  job?: Partial<JobSettings>;
}): StartRunEvent {
  const job = jobSettings(options.job);
  const id = executionArn(job.id, options.name);
  const input = options.inputText ?? JSON.stringify(options.executionInput ?? {});
  return {
    executionText: `{"Id":${JSON.stringify(id)},"Input":${input},"Name":${JSON.stringify(options.name)},"RoleArn":"arn:aws:iam::${ACCOUNT}:role/sm","StartTime":${JSON.stringify(options.startTime)}}`,
    execution: { id, name: options.name, startTime: options.startTime },
    job,
  };
}

/** How the ledger stores `value` as JSON text (whole). */
export function storedValue(value: unknown): StoredJson {
  return storedJson(JSON.stringify(value), Number.MAX_SAFE_INTEGER);
}

/** The Scheduler's execution input for a slot: the trigger plus the job input. */
export function scheduledInput(
  scheduledTime: string,
  jobInput: Record<string, unknown> = {},
  /** The Scheduler substitutes `<aws.scheduler.attempt-number>` as a string. */
  attempt: number | string = 1,
): Record<string, unknown> {
  const trigger = {
    type: 'schedule',
    scheduledTime,
    scheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/stepjobs-heartbeat`,
    attempt,
  };
  return { trigger, ...jobInput };
}

export function runRef(overrides: Partial<RunRef> & { runId: string }): RunRef {
  const jobId = overrides.jobId ?? 'heartbeat';
  return {
    jobId,
    executionArn: executionArn(jobId, overrides.runId),
    startedAt: '2026-11-30T10:00:00.000Z',
    trigger: { type: 'manual' },
    expiresAt: 1_900_000_000,
    ...overrides,
  };
}

/** A RUNNING run record, as StartRun writes it. */
export function runningRecord(overrides: Partial<RunRecord> & { runId: string }): RunRecord {
  return {
    ...runRef(overrides),
    status: RunStatus.RUNNING,
    rawInput: storedValue({}),
    input: storedValue({}),
    ...overrides,
  };
}
