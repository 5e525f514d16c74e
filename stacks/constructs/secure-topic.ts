import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * The customer-managed key the app's SNS topics are encrypted with. Not the AWS-managed `alias/aws/sns`: its
 * policy cannot be changed, and CloudWatch alarms cannot publish to a topic encrypted with it. This key's
 * policy lets CloudWatch (the alarms) use it, for this account only; the run notifier's role gets its own
 * grant when it is allowed to publish.
 */
export class TopicKey extends Construct {
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', {
      description: `${stack.stackName}: encrypts its SNS topics (alarms and run summaries)`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.key = key;
  }
}

/** An SNS topic encrypted with `key` that refuses every action without TLS. */
export function secureTopic(scope: Construct, id: string, displayName: string, key: kms.IKey): sns.Topic {
  const topic = new sns.Topic(scope, id, { displayName, masterKey: key });
  // `enforceSSL` denies only sns:Publish without TLS; deny every action (subscribe, set attributes, ...).
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyWithoutTls',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:*'],
      resources: [topic.topicArn],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
  );
  return topic;
}
