import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeIsDeadLetterQueue } from '../nag';

/**
 * A queue that holds what could not be delivered or processed (a dead-letter queue, an on-failure
 * destination) for an operator: encrypted, TLS only, kept 14 days (the longest SQS allows: time to notice and
 * act). Nothing consumes it automatically, so it has no dead-letter queue of its own; `reason` says what it
 * holds, for the cdk-nag acknowledgement.
 */
export function holdingQueue(scope: Construct, id: string, reason: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    enforceSSL: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    retentionPeriod: Duration.days(14),
  });
  acknowledgeIsDeadLetterQueue(queue, reason);
  return queue;
}
