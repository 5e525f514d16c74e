/**
 * Retry policies of the lifecycle and job tasks. They are explicit lists, not CDK's defaults, so the
 * definition shows exactly what is retried and the local engine (which matches error names exactly) agrees.
 */
import { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
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
] as const;

/** About a minute of backoff in total (2 + 4 + ... + 32 s): longer than a throttling burst usually lasts. */
export const LAMBDA_TRANSIENT_RETRY: sfn.RetryProps = {
  errors: [...LAMBDA_TRANSIENT_ERRORS],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 6,
};

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
