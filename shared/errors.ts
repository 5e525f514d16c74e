/**
 * Named domain errors. Step Functions Retry/Catch and the local engine match on `error.name`, so every class
 * sets it explicitly (minifiers rename classes).
 */
import type { ErrorInfo, PauseInfo } from './ledger/items';
import { pauseText } from './ledger/pause';

export class StepJobsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StepJobsError';
  }
}

/** A field-level problem found while validating input. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `trigger.type` or `maxActions`; `(root)` for the whole input. */
  path: string;
  message: string;
}

export class InvalidInput extends StepJobsError {
  constructor(
    readonly issues: FieldIssue[],
    what = 'input',
  ) {
    super(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidInput';
  }
}

export class LockHeld extends StepJobsError {
  constructor(
    readonly jobId: string,
    readonly holderRunId: string,
    readonly leaseExpiresAt: string,
  ) {
    super(`Job ${jobId} is locked by run ${holderRunId} until ${leaseExpiresAt}`);
    this.name = 'LockHeld';
  }
}

/** The job is paused: a scheduled run asked for the lock with `unlessPaused`. */
export class JobPaused extends StepJobsError {
  constructor(
    readonly jobId: string,
    readonly pause?: PauseInfo,
  ) {
    super(`Job ${jobId} is paused${pause ? `: ${pauseText(pause)}` : ''}`);
    this.name = 'JobPaused';
  }
}

export class DuplicateSlot extends StepJobsError {
  constructor(
    readonly jobId: string,
    readonly scheduledTime: string,
    readonly ownerRunId: string,
  ) {
    super(`Slot ${scheduledTime} of job ${jobId} already belongs to run ${ownerRunId}`);
    this.name = 'DuplicateSlot';
  }
}

export class RunNotFound extends StepJobsError {
  constructor(readonly runId: string) {
    super(`No run ${runId} in the ledger`);
    this.name = 'RunNotFound';
  }
}

export class RunAlreadyExists extends StepJobsError {
  constructor(readonly runId: string) {
    super(`Run ${runId} is already recorded`);
    this.name = 'RunAlreadyExists';
  }
}

export class RunAlreadyFinal extends StepJobsError {
  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super(`Run ${runId} is already final (${status})`);
    this.name = 'RunAlreadyFinal';
  }
}

/** A redriven execution cannot reopen its run: another run holds the job lock (the run is left as it was). */
export class RedriveBlocked extends StepJobsError {
  constructor(
    readonly runId: string,
    readonly holderRunId: string,
  ) {
    super(
      `Run ${runId} cannot be redriven now: run ${holderRunId} holds the job lock; redrive again when it has ended`,
    );
    this.name = 'RedriveBlocked';
  }
}

/**
 * FailRun's failure of the execution after it recorded the run FAILED: FailRun is then the state that failed,
 * which is where Step Functions restarts a redrive (and FailRun resumes the failed step from there). It carries
 * the step's error name, or StepFailed when that name is reserved (see {@link executionFailure}).
 */
export class ExecutionFailure extends StepJobsError {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Error names FailRun must not raise as they are: the state machine retries or catches them itself. */
const RESERVED_ERROR = /^(States\.|Lambda\.|LedgerUnavailable$|StepNotStarted$|LockHeld$)/;

/** The error FailRun fails the execution with, for the step's error `{ name, cause }`. */
export function executionFailure(failedState: string | undefined, error: ErrorInfo): ExecutionFailure {
  const where = failedState ? `${failedState} failed: ` : '';
  if (RESERVED_ERROR.test(error.name)) {
    return new ExecutionFailure(
      'StepFailed',
      `${where}${error.name}${error.cause ? `: ${error.cause}` : ''}`,
    );
  }
  return new ExecutionFailure(error.name, `${where}${error.cause ?? error.name}`);
}

export class ConfigError extends StepJobsError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export class UnknownJob extends StepJobsError {
  constructor(
    readonly jobId: string,
    known: readonly string[],
  ) {
    super(`Unknown job "${jobId}". Known jobs: ${known.join(', ') || '(none)'}`);
    this.name = 'UnknownJob';
  }
}

/** A failure worth retrying (throttling, a dependency briefly unavailable). Jobs add a Retry on this name. */
export class TransientError extends StepJobsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/**
 * The ledger could not be read or written: DynamoDB throttled, answered 5xx, or the connection failed, after
 * the SDK's own retries. The lifecycle states retry on this name with backoff (stacks/constructs/retries.ts).
 */
export class LedgerUnavailable extends StepJobsError {
  constructor(cause: unknown) {
    const { name, message } = describeError(cause);
    super(`The ledger (DynamoDB) is unavailable: ${name}: ${message}`, { cause });
    this.name = 'LedgerUnavailable';
  }
}

/** A job step could not record its start in the ledger, so its logic did not run and a retry is safe. */
export class StepNotStarted extends StepJobsError {
  constructor(step: string, cause: unknown) {
    super(`Step ${step} did not start: ${describeError(cause).message}`, { cause });
    this.name = 'StepNotStarted';
  }
}

/** Describe any thrown value as `{name, message}` without losing what it was. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'NonError', message: typeof error === 'string' ? error : JSON.stringify(error) };
}

/**
 * The `{name, cause}` the ledger keeps for a Step Functions error. A Lambda error's `Cause` is JSON
 * (`{"errorType","errorMessage","trace"}`): keep the type and message and drop the stack trace, which is
 * long and belongs in the function's logs. Any other cause (States.* errors, Map failures) is kept as text.
 */
export function errorFromStates(error: string, cause?: string | null): { name: string; cause?: string } {
  if (!cause) return { name: error };
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return { name: error, cause };
  }
  if (typeof parsed !== 'object' || parsed === null || !('errorMessage' in parsed))
    return { name: error, cause };
  const { errorType, errorMessage } = parsed as { errorType?: unknown; errorMessage?: unknown };
  const message = typeof errorMessage === 'string' ? errorMessage : JSON.stringify(errorMessage);
  return {
    name: error,
    cause: typeof errorType === 'string' && errorType !== error ? `${errorType}: ${message}` : message,
  };
}
