/** CLI failures: one clear line for the user and an exit code; never a stack trace. */

export const ExitCode = {
  OK: 0,
  /** The run failed (FAILED, ABORTED, TIMED_OUT). */
  RUN_FAILED: 1,
  /** Bad usage or input: unknown job or run, malformed JSON, invalid flags, no stack or credentials. */
  USAGE: 2,
  /** The run did not execute its steps: SKIPPED or DUPLICATE. */
  RUN_SKIPPED: 3,
  /** An unexpected internal error: one line on stderr (STEPJOBS_DEBUG=1 adds the stack trace). */
  INTERNAL: 70,
  /** The ledger (DynamoDB, embedded or on AWS) could not be reached; try again. */
  UNAVAILABLE: 75,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.USAGE,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
