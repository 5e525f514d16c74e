import { Match } from 'aws-cdk-lib/assertions';
import { jobInputs } from '../../tasks/lifecycle/job-inputs';
import { RUN_FINISHED_PATTERNS } from '../../tasks/notify/stream-filter';
import { heartbeat } from '../../workflows/heartbeat';
import { releaseIdleResources } from '../../workflows/release-idle-resources';
import { FixtureInput } from '../fixtures/tasks/fixture-input';
import { FIXTURE_JOB_ID, fixtureJob } from '../fixtures/workflows/fixture-job';
import { functionIdOf, synth } from './synth';

const { template } = synth({ nag: false });
const notifier = functionIdOf(template, 'tasks/notify/run-finished.ts');

test('the ledger table streams new and old images, and the notifier reads only the records where a run became final', () => {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionName: { Ref: notifier },
    EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('LedgerTable'), 'StreamArn'] },
    StartingPosition: 'LATEST',
    BisectBatchOnFunctionError: true,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    MaximumRetryAttempts: 5,
    DestinationConfig: {
      OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('NotifierFailureQueue'), 'Arn'] } },
    },
    FilterCriteria: {
      Filters: RUN_FINISHED_PATTERNS.map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
    },
  });
});

test('it may put events on the default bus and publish to the alarm topic, and nothing else of either', () => {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('NotifierRunFinished') }] },
  });
  const statements = Object.values(policies).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
  );
  const of = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
  expect(of('events:PutEvents')).toEqual([
    expect.objectContaining({
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':events:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':event-bus/default',
          ],
        ],
      },
    }),
  ]);
  expect(of('sns:Publish')).toEqual([
    { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: expect.stringMatching(/^AlarmsTopic/) } },
  ]);
});

test('its environment says where each job’s summaries go and with which outcomes', () => {
  const fn = template.toJSON().Resources[notifier] as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  };
  const rendered = JSON.stringify(fn.Properties.Environment.Variables.NOTIFY_JOBS);
  expect(rendered).toContain(
    '\\"jobId\\":\\"heartbeat\\",\\"on\\":[\\"FAILED\\",\\"TIMED_OUT\\",\\"ABORTED\\",\\"MISSED\\"]',
  );
  expect(rendered).toContain(
    '\\"jobId\\":\\"release-idle-resources\\",\\"on\\":[\\"FAILED\\",\\"TIMED_OUT\\",\\"ABORTED\\",\\"MISSED\\",\\"CHANGED\\"]',
  );
  expect(rendered).toContain('\\"changed\\":\\"totals.released\\"');
  expect(fn.Properties.Environment.Variables.EVENT_BUS_NAME).toBe('default');
});

test('a job with a topic of its own gets one, encrypted and TLS-only, named in an output', () => {
  const own = { ...fixtureJob, notify: { topic: 'job' as const, on: ['FAILED' as const] } };
  const { template: t } = synth({
    nag: false,
    jobs: [heartbeat, releaseIdleResources, own],
    jobInputs: { ...jobInputs, [FIXTURE_JOB_ID]: FixtureInput },
  });
  t.resourceCountIs('AWS::SNS::Topic', 2);
  t.hasResourceProperties('AWS::SNS::Topic', {
    DisplayName: 'fixture run summaries',
    KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopicEncryptionKey'), 'Arn'] },
  });
  t.hasOutput('NotifyTopicArnFixture', { Value: { Ref: Match.stringLikeRegexp('FixtureJobNotifyTopic') } });
});

test('a bad notify setting stops synth, naming the job and the field', () => {
  const bad = (notify: unknown) => () =>
    synth({
      nag: false,
      jobs: [heartbeat, { ...fixtureJob, notify } as typeof fixtureJob],
      jobInputs: { ...jobInputs, [FIXTURE_JOB_ID]: FixtureInput },
    });
  expect(bad({ on: ['EXPLODED'] })).toThrow(/fixture.*notify\.on.*EXPLODED/);
  expect(bad({ topic: 'mine' })).toThrow(/fixture.*notify\.topic/);
  expect(bad({ figures: { step: 'Nope', fields: { n: 'a.b' } } })).toThrow(
    /fixture.*notify\.figures\.step.*Nope/,
  );
  expect(bad({ figures: { step: 'Work', fields: { n: 'a..b' } } })).toThrow(
    /fixture.*notify\.figures\.fields\.n/,
  );
  expect(bad({ slackWebhookSecret: 'https://hooks.slack.com/services/x' })).toThrow(
    /fixture.*notify\.slackWebhookSecret/,
  );
});
