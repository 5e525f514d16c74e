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
};

describe('without an alarm email', () => {
  const { template } = synth({ nag: false, context: { stepjobs: { ...CONFIG, alarmEmail: null } } });

  test('one encrypted, TLS-only topic and no subscription', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::Join': ['', Match.arrayWith([':alias/aws/sns'])] },
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

  test('per job: an alarm on failed, timed-out or aborted executions, and one on undelivered triggers', () => {
    // Two per job plus the reconciler's dead-letter queue.
    template.resourceCountIs('AWS::CloudWatch::Alarm', jobs.length * 2 + 1);
    for (const job of jobs) {
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
