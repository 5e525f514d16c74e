import { Match } from 'aws-cdk-lib/assertions';
import { jobs } from '../../workflows';
import { functionIdOf, synth } from './synth';

const { template } = synth({ nag: false });

test('a rule sends CloudTrail’s successful StartExecution calls of the job state machines to RecordCaller, with retries and a dead-letter queue', () => {
  const recorder = functionIdOf(template, 'tasks/lifecycle/record-caller.ts');
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.states'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['states.amazonaws.com'],
        eventName: ['StartExecution'],
        errorCode: [{ exists: false }],
        requestParameters: {
          stateMachineArn: jobs.map(() => ({ Ref: Match.stringLikeRegexp('StateMachine') })),
        },
      },
    },
    Targets: [
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [recorder, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 30, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CallersDeadLetterQueue'), 'Arn'] },
        },
      }),
    ],
  });
});
