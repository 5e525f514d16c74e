import { Match } from 'aws-cdk-lib/assertions';
import { jobs } from '../../workflows';
import { synth } from './synth';

const CONFIG = {
  stackName: 'StepJobs',
  serviceName: 'stepjobs',
  metricsNamespace: 'StepJobs',
  logLevel: 'INFO',
  logRetentionDays: 90,
  tableDeletionProtection: true,
  logKmsKeyArn: null,
};

describe('without an alarm email', () => {
  const { template } = synth({ nag: false, context: { stepjobs: { ...CONFIG, alarmEmail: null } } });

  test('one topic, encrypted with a key of the stack that CloudWatch may use, TLS only, and no subscription', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopicEncryptionKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasOutput('AlarmTopicArn', {});
  });

  test('per job: an alarm on failed, timed-out or aborted executions, one on missed slots and one on undelivered triggers', () => {
    // Three per job, plus the reconciler's dead-letter and failure queues, the sweep's repairs and its errors,
    // and the run notifier's failure queue.
    template.resourceCountIs('AWS::CloudWatch::Alarm', jobs.length * 3 + 5);
    for (const job of jobs) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(`A scheduled slot of ${job.id} did not run`),
        MetricName: 'MissedRuns',
        Statistic: 'Sum',
        Period: 900,
        Threshold: 1,
        Dimensions: Match.arrayWith([{ Name: 'job', Value: job.id }]),
        AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmsTopic') })],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(`A run of ${job.id} failed`),
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'failed + timedOut + aborted' }),
          Match.objectLike({
            Id: 'failed',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsFailed' }) }),
          }),
          Match.objectLike({
            Id: 'timedOut',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsTimedOut' }) }),
          }),
          Match.objectLike({
            Id: 'aborted',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsAborted' }) }),
          }),
        ]),
        AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmsTopic') })],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(`could not start ${job.id}`),
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmsTopic') })],
      });
    }
  });
});

test('the reconciler sends what it failed on to an encrypted queue, and an alarm watches it', () => {
  const { template } = synth({ nag: false });
  const configs = template.findResources('AWS::Lambda::EventInvokeConfig');
  const [config] = Object.values(configs);
  expect(Object.keys(configs)).toHaveLength(1);
  const queueRef = (
    config?.Properties as { DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': string[] } } } }
  ).DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0] as string;
  expect(queueRef).toMatch(/ReconcilerFailureQueue/);
  expect(template.toJSON().Resources[queueRef].Properties).toMatchObject({ SqsManagedSseEnabled: true });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmDescription: Match.stringLikeRegexp('The reconciler failed on a status event'),
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueRef, 'QueueName'] } }],
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmDescription: Match.stringLikeRegexp('The sweep had to end or record runs'),
    Metrics: Match.arrayWith([Match.objectLike({ Expression: 'finalized + recorded' })]),
  });
});

test('an alarm email subscribes to the topic', () => {
  const { template } = synth({
    nag: false,
    context: { stepjobs: { ...CONFIG, alarmEmail: 'oncall@example.com' } },
  });
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'oncall@example.com',
  });
});
