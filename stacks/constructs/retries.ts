/**
 * Retry policies of the lifecycle and job tasks. They are explicit lists, not CDK's defaults, so the
 * definition shows exactly what is retried and the local engine (which matches error names exactly) agrees.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ErrorName } from '../../shared/constants';

/**
 * Errors of the Lambda service itself, not of the handler: safe to retry for any task. CDK's default list lacks
 * TooManyRequestsException (throttling), which a burst of scheduled jobs can hit.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * At most 62 s of pauses in all (2 + 4 + 8 + 16 + 32 s over 5 retries; full jitter makes each pause a random
 * part of that): longer than a throttling burst usually lasts.
 */
export const LAMBDA_TRANSIENT_RETRY: sfn.RetryProps = {
  errors: [...LAMBDA_TRANSIENT_ERRORS],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 5,
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * The lifecycle states (StartRun, FinishRun, FailRun) when the ledger is unavailable: DynamoDB throttled,
 * answered 5xx or dropped the connection after the SDK's own 5 attempts (shared/aws-clients.ts).
 * At most 63 s of pauses in all (1 + 2 + 4 + 8 + 16 + 16 + 16 s over 7 retries, each a random part of that),
 * so the state is tried 8 times, each try with up to 5 SDK attempts: a DynamoDB outage of about a minute
 * passes unnoticed. What happens after that is the failure model's business (docs/architecture.md).
 */
export const LEDGER_RETRY: sfn.RetryProps = {
  errors: [ErrorName.LEDGER_UNAVAILABLE],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxDelay: Duration.seconds(16),
  maxAttempts: 7,
  jitterStrategy: sfn.JitterType.FULL,
};

/** A job step that could not record its start did not run its logic, so it is retried like the lifecycle. */
export const STEP_NOT_STARTED_RETRY: sfn.RetryProps = {
  ...LEDGER_RETRY,
  errors: [ErrorName.STEP_NOT_STARTED],
};

/** The longest pause before each retry of `retry` (the pause itself is a random part of it with full jitter). */
export function retryPausesSeconds(retry: sfn.RetryProps): number[] {
  const interval = (retry.interval ?? Duration.seconds(1)).toSeconds();
  const rate = retry.backoffRate ?? 2;
  const max = retry.maxDelay?.toSeconds() ?? Number.POSITIVE_INFINITY;
  return Array.from({ length: retry.maxAttempts ?? 3 }, (_, n) => Math.min(interval * rate ** n, max));
}

const LOCK_INTERVAL = Duration.seconds(10);
const LOCK_BACKOFF = 1.5;
const LOCK_MAX_DELAY = Duration.seconds(60);

/**
 * The StartRun retry of a `queue` job while another run holds the lock. StartRun itself records SKIPPED
 * (queue-timeout) once `queueMaxWait` has passed, so the attempts must outlast that wait: the count is the
 * number of backoff delays needed to exceed it, plus one attempt after StartRun's deadline.
 */
export function lockHeldRetry(queueMaxWait: Duration): sfn.RetryProps {
  return {
    errors: [ErrorName.LOCK_HELD],
    interval: LOCK_INTERVAL,
    backoffRate: LOCK_BACKOFF,
    maxDelay: LOCK_MAX_DELAY,
    maxAttempts: lockRetryAttempts(queueMaxWait),
  };
}

/** Attempts whose cumulative delay (10 s, 15 s, 22.5 s, ... capped at 60 s) exceeds `maxWait`, plus one. */
export function lockRetryAttempts(maxWait: Duration): number {
  const limit = maxWait.toSeconds();
  let waited = 0;
  let delay = LOCK_INTERVAL.toSeconds();
  let attempts = 0;
  while (waited <= limit) {
    waited += Math.min(delay, LOCK_MAX_DELAY.toSeconds());
    delay *= LOCK_BACKOFF;
    attempts += 1;
  }
  return attempts + 1;
}
