import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { STACK_OUTPUT } from '../../shared/constants';
import { REPO_ROOT } from '../../stacks/constructs/task-function';
import {
  definitionOf,
  functionIdOf,
  HEARTBEAT_APP_ENTRIES,
  logicalIdOf,
  stateMachineIdOf,
  synth,
} from './synth';
import { heartbeat } from '../../workflows/heartbeat';

// The stack's own constructs, with the heartbeat job; the release job's resources have their own tests.
const { template } = synth({ jobs: [heartbeat] });
type FunctionResource = { Properties: { Environment: { Variables: Record<string, unknown> } } };
const functions = template.findResources('AWS::Lambda::Function') as Record<string, FunctionResource>;
const heartbeatMachine = stateMachineIdOf(template, 'heartbeat');

describe('ledger table', () => {
  test('has the keys and indexes of shared/ledger/keys.ts, on demand, with PITR, TTL and encryption', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    // Keys only; GSI2 and GSI3 sort on GSI1's sort key attribute.
    const gsi = (name: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: `${name}pk`, KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [gsi('gsi1'), gsi('gsi2'), gsi('gsi3')],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  test('is retained when the stack is deleted', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('task functions', () => {
  test('every function runs Node.js 24 on ARM64 with active tracing and JSON logs in its own log group', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', LogGroup: { Ref: Match.anyValue() } },
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'stepjobs',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          POWERTOOLS_METRICS_NAMESPACE: 'StepJobs',
          LEDGER_TABLE_NAME: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', () => true) },
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  test('every function names its entry and handler for the local runtime, and the entry exists', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const entries = Object.values(functions).map(
      (f) => (f.Metadata as Record<string, string>)['stepjobs:entry'],
    );
    expect(entries.sort()).toEqual(HEARTBEAT_APP_ENTRIES);
    for (const f of Object.values(functions)) {
      expect(f.Metadata).toMatchObject({ 'stepjobs:handler': 'handler' });
      expect(
        fs.existsSync(path.join(REPO_ROOT, (f.Metadata as Record<string, string>)['stepjobs:entry'] ?? '')),
      ).toBe(true);
    }
  });

  test('log groups have the configured retention', () => {
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('roles use no AWS managed policies', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('no policy allows a wildcard action', () => {
    // Publishing to an encrypted topic needs a data key of either kind: AWS documents the grant as
    // kms:GenerateDataKey*, on the topic's key only. Nothing else may use a wildcard.
    const allowed = new Set(['kms:GenerateDataKey*']);
    const keys = new Set(Object.keys(template.findResources('AWS::KMS::Key')));
    let keyGrants = 0;
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      const statements = policy.Properties.PolicyDocument.Statement as Array<{
        Action: string | string[];
        Resource: unknown;
      }>;
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) {
          if (!allowed.has(action)) {
            expect(action).not.toContain('*');
            continue;
          }
          // The wildcard is allowed on a key of this stack only, named one by one.
          keyGrants += 1;
          for (const resource of [statement.Resource].flat()) {
            const [logicalId, attribute] =
              (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'] ?? [];
            expect(keys.has(logicalId ?? '') && attribute === 'Arn').toBe(true);
          }
        }
      }
    }
    expect(keyGrants).toBeGreaterThan(0);
  });
});

describe('job state machine', () => {
  test('is Standard, traced, and logs everything to a vended log group', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
        ],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/StepJobs-heartbeat',
    });
  });

  test('the definition has the job timeout and its description', () => {
    const definition = definitionOf(template, 'heartbeat');
    expect(definition.TimeoutSeconds).toBe(300);
    expect(definition.Comment).toMatch(/heartbeat/);
  });
});

describe('job schedule', () => {
  test('starts the state machine in its time zone, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { Ref: heartbeatMachine },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
        Input: Match.serializedJson({
          trigger: {
            type: 'schedule',
            scheduledTime: '<aws.scheduler.scheduled-time>',
            scheduleArn: '<aws.scheduler.schedule-arn>',
            attempt: '<aws.scheduler.attempt-number>',
          },
        }),
      },
    });
  });

  test('dead-letter queues are encrypted, keep messages 14 days and refuse plain HTTP', () => {
    template.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86400,
    });
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('reconciler', () => {
  const reconcile = functionIdOf(template, 'tasks/lifecycle/reconcile.ts');
  const sweep = functionIdOf(template, 'tasks/lifecycle/sweep.ts');

  test('receives the failed, timed-out and aborted executions of our state machines', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'], stateMachineArn: [{ Ref: heartbeatMachine }] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [reconcile, 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
        }),
      ],
    });
  });

  test('the sweep runs every 15 minutes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweep, 'Arn'] } })],
    });
  });

  test('both know every job state machine and its timeout', () => {
    for (const id of [reconcile, sweep]) {
      const variables = functions[id]?.Properties.Environment.Variables ?? {};
      expect(JSON.stringify(variables.STATE_MACHINES)).toContain(heartbeatMachine);
      expect(JSON.stringify(variables.STATE_MACHINES)).toContain('\\"timeoutSeconds\\":300');
      expect(JSON.stringify(variables.STATE_MACHINES)).toContain('\\"retentionDays\\":400');
    }
  });

  test('the sweep may describe executions of our state machines only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ReconcilerSweepRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:DescribeExecution',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([':execution:', Match.objectLike({ 'Fn::Select': Match.anyValue() })]),
              ],
            },
          }),
        ]),
      },
    });
  });
});

describe('outputs', () => {
  test('let the CLI discover the table and every job', () => {
    template.hasOutput(STACK_OUTPUT.TABLE_NAME, {
      Value: { Ref: logicalIdOf(template, 'AWS::DynamoDB::Table', () => true) },
    });
    template.hasOutput(`${STACK_OUTPUT.STATE_MACHINE_ARN_PREFIX}Heartbeat`, {
      Value: { Ref: heartbeatMachine },
    });
    template.hasOutput(`${STACK_OUTPUT.SCHEDULE_NAME_PREFIX}Heartbeat`, {
      Value: { Ref: logicalIdOf(template, 'AWS::Scheduler::Schedule', () => true) },
    });
    template.hasOutput(STACK_OUTPUT.JOBS, {
      Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('"id":"heartbeat"')])] },
    });
  });
});

describe('log encryption', () => {
  const logGroups = (t: Template) => Object.values(t.findResources('AWS::Logs::LogGroup'));

  test('every log group is encrypted with a key the stack creates, rotated, usable by CloudWatch Logs only for its log groups', () => {
    const { template: t } = synth({ nag: false });
    // The other key the stack creates encrypts its SNS topics (stacks/constructs/secure-topic.ts).
    const keys = t.findResources('AWS::KMS::Key', {
      Properties: { Description: Match.stringLikeRegexp('log') },
    });
    const [keyId] = Object.keys(keys);
    expect(Object.keys(keys)).toHaveLength(1);
    expect(keys[keyId ?? '']?.Properties).toMatchObject({ EnableKeyRotation: true });
    const groups = logGroups(t);
    expect(groups.length).toBeGreaterThan(5);
    for (const group of groups) {
      expect(group.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  test('or with a key of your own, from logKmsKeyArn', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const config = (
      JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
        context: { stepjobs: object };
      }
    ).context.stepjobs;
    const { template: t } = synth({ nag: false, context: { stepjobs: { ...config, logKmsKeyArn: keyArn } } });
    // Only the topics' key is left.
    t.resourceCountIs('AWS::KMS::Key', 1);
    for (const group of logGroups(t)) expect(group.Properties?.KmsKeyId).toBe(keyArn);
  });
});
