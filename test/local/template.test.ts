/**
 * Reading the synthesized template for local mode: intrinsic functions resolved into local placeholders, and
 * the functions, tables and schedules the runtime needs, read from the real synthesized app.
 */
import '../helpers/quiet';
import { synthesizeTemplate } from '../../local/synth';
import {
  lambdaFunctions,
  localArn,
  resolve,
  schedules,
  stateMachines,
  tableInputs,
  TemplateError,
  type CfnTemplate,
} from '../../local/template';
import { INDEXES, TABLE_KEYS } from '../../shared/ledger/keys';
import { heartbeat } from '../../workflows/heartbeat';
import { HEARTBEAT_APP_ENTRIES } from '../stacks/synth';

const PREFIX = 'arn:aws:lambda:us-east-1:000000000000:function';

/** One resource of each type the resolver treats differently. */
const HAND_WRITTEN: CfnTemplate = {
  Resources: {
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    Schedule: { Type: 'AWS::Scheduler::Schedule', Properties: {} },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
  },
};
const r = (value: unknown) => resolve(HAND_WRITTEN, value);

describe('resolve', () => {
  it('resolves Ref to the name of named resources and the local ARN of the others', () => {
    expect(r({ Ref: 'Fn' })).toBe('Fn');
    expect(r({ Ref: 'Table' })).toBe('Table');
    expect(r({ Ref: 'Schedule' })).toBe('Schedule');
    expect(r({ Ref: 'Logs' })).toBe('Logs');
    expect(r({ Ref: 'Machine' })).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:Machine');
    expect(r({ Ref: 'Topic' })).toBe('arn:aws:sns:us-east-1:000000000000:Topic');
  });

  it('resolves pseudo parameters to the local account and region', () => {
    const pseudo = ['Region', 'AccountId', 'Partition', 'URLSuffix', 'StackName'].map((name) =>
      r({ Ref: `AWS::${name}` }),
    );
    expect(pseudo).toEqual(['us-east-1', '000000000000', 'aws', 'amazonaws.com', 'StepJobsLocal']);
  });

  it('resolves Fn::GetAtt in both its array and its dotted form', () => {
    expect(r({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe(`${PREFIX}:Fn`);
    expect(r({ 'Fn::GetAtt': 'Table.Arn' })).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/Table');
    expect(r({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/Table/stream/local',
    );
    expect(r({ 'Fn::GetAtt': ['Machine', 'Name'] })).toBe('Machine');
    expect(r({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe('arn:aws:sqs:us-east-1:000000000000:Queue');
  });

  it('resolves Fn::Join, nested tokens included', () => {
    const joined = {
      'Fn::Join': ['-', ['a', { Ref: 'AWS::Region' }, { 'Fn::Join': ['', ['x', { Ref: 'Fn' }]] }]],
    };
    expect(r(joined)).toBe('a-us-east-1-xFn');
  });

  it('resolves Fn::Sub of pseudo parameters, Refs and attributes, and keeps ${!Literal} literal', () => {
    const sub =
      'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:x ${Table} ${Fn.Arn} ${!Literal}';
    expect(r({ 'Fn::Sub': sub })).toBe(
      `arn:aws:states:us-east-1:000000000000:x Table ${PREFIX}:Fn \${Literal}`,
    );
  });

  it('resolves inside objects and arrays and leaves plain values alone', () => {
    expect(r({ a: [{ Ref: 'Fn' }, 1, null, true], b: { c: 'text', d: { Ref: 'Table' } } })).toEqual({
      a: ['Fn', 1, null, true],
      b: { c: 'text', d: 'Table' },
    });
  });

  it('refuses what it cannot resolve instead of passing a token on', () => {
    expect(() => r({ Ref: 'Missing' })).toThrow(new TemplateError('Ref to unknown resource Missing'));
    expect(() => r({ 'Fn::Select': [0, ['a']] })).toThrow(TemplateError);
    // The two-argument form of Fn::Sub (with its own variables) is not supported.
    expect(() => r({ 'Fn::Sub': ['${X}', { X: 'x' }] })).toThrow('Local mode cannot resolve Fn::Sub');
  });

  it('names local ARNs by logical id', () => {
    expect(localArn(HAND_WRITTEN, 'Schedule')).toBe(
      'arn:aws:scheduler:us-east-1:000000000000:schedule/default/Schedule',
    );
    expect(() => localArn(HAND_WRITTEN, 'Missing')).toThrow(TemplateError);
  });
});

describe('lambdaFunctions', () => {
  it('skips functions without stepjobs:entry metadata (the ones CDK adds itself)', () => {
    const template: CfnTemplate = {
      Resources: {
        Ours: {
          Type: 'AWS::Lambda::Function',
          Metadata: { 'stepjobs:entry': 'tasks/x/y.ts' },
          Properties: { Environment: { Variables: { TABLE: { Ref: 'Ours' }, N: 5 } } },
        },
        LogRetention: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 900 } },
      },
    };
    expect(lambdaFunctions(template)).toEqual([
      {
        logicalId: 'Ours',
        arn: `${PREFIX}:Ours`,
        entry: 'tasks/x/y.ts',
        handler: 'handler',
        environment: { TABLE: 'Ours', N: '5' },
        timeoutSeconds: 3,
      },
    ]);
  });
});

describe('the synthesized app', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthesizeTemplate({ jobs: [heartbeat] });
  });
  const tableName = () => {
    const [table] = tableInputs(template);
    if (!table?.TableName) throw new Error('The template has no table');
    return table.TableName;
  };
  const machineArn = () => {
    const [machine] = stateMachines(template);
    if (!machine) throw new Error('The template has no state machine');
    return machine.arn;
  };

  it('has a function for every lifecycle handler and job step, read from stepjobs:entry with its own environment', () => {
    const functions = lambdaFunctions(template);
    expect(functions.map((f) => f.entry).sort()).toEqual(HEARTBEAT_APP_ENTRIES);
    for (const fn of functions) {
      expect(fn).toMatchObject({ handler: 'handler', arn: `${PREFIX}:${fn.logicalId}` });
      expect(fn.environment).toMatchObject({
        LEDGER_TABLE_NAME: tableName(),
        POWERTOOLS_SERVICE_NAME: 'stepjobs',
      });
      // Every token resolved: the handlers get plain strings.
      expect(JSON.stringify(fn.environment)).not.toMatch(/"(Ref|Fn::)/);
    }
    const step = functions.find((f) => f.entry === 'tasks/heartbeat/heartbeat.ts');
    expect(step?.timeoutSeconds).toBe(60);
    expect(step?.environment).not.toHaveProperty('STATE_MACHINES');

    // The reconciler's job list points at the same local ARN the runtime runs the state machine under.
    const reconcile = functions.find((f) => f.entry === 'tasks/lifecycle/reconcile.ts');
    expect(JSON.parse(reconcile?.environment.STATE_MACHINES ?? '')).toEqual([
      {
        jobId: 'heartbeat',
        stateMachineArn: machineArn(),
        timeoutSeconds: 300,
        retentionDays: 400,
        overlap: 'skip',
        // The schedule as the sweep checks its slots; its name is the one the local Scheduler answers to.
        schedule: {
          name: schedules(template)[0]?.logicalId,
          expression: 'rate(10 minutes)',
          timeZone: 'UTC',
          enabled: true,
          flexibleWindowMinutes: 0,
          graceSeconds: 900,
        },
      },
    ]);
  });

  it('gives every Task of the definition a function the template has', () => {
    const arns = new Set(lambdaFunctions(template).map((f) => f.arn));
    const [machine] = stateMachines(template);
    const states = Object.entries(
      (machine?.definition.States ?? {}) as Record<string, { Type: string; Resource?: string }>,
    );
    const tasks = states.filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(['FailRun', 'FinishRun', 'Heartbeat', 'StartRun']);
    for (const [, task] of tasks) expect(arns).toContain(task.Resource);
  });

  it('creates the ledger table with its keys and three GSIs, without the settings dynalite lacks', () => {
    const inputs = tableInputs(template);
    expect(inputs).toHaveLength(1);
    const [table] = inputs;
    const keySchema = (hash: string, range: string) => [
      { AttributeName: hash, KeyType: 'HASH' },
      { AttributeName: range, KeyType: 'RANGE' },
    ];
    expect(table?.KeySchema).toEqual(keySchema(TABLE_KEYS.pk, TABLE_KEYS.sk));
    expect(table?.GlobalSecondaryIndexes).toEqual(
      INDEXES.map((gsi) => ({
        IndexName: gsi.name,
        KeySchema: keySchema(gsi.pk, gsi.sk),
        Projection: { ProjectionType: 'KEYS_ONLY' },
      })),
    );
    expect(table?.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual(
      [
        TABLE_KEYS.pk,
        TABLE_KEYS.sk,
        TABLE_KEYS.gsi1.pk,
        TABLE_KEYS.gsi1.sk,
        TABLE_KEYS.gsi2.pk,
        TABLE_KEYS.gsi3.pk,
      ].sort(),
    );
    expect(Object.keys(table ?? {}).sort()).toEqual([
      'AttributeDefinitions',
      'BillingMode',
      'GlobalSecondaryIndexes',
      'KeySchema',
      'TableName',
    ]);
  });

  it("finds the heartbeat schedule, its target and the Scheduler's input template with its placeholders", () => {
    const found = schedules(template);
    expect(found).toHaveLength(1);
    const [schedule] = found;
    expect(schedule).toMatchObject({
      arn: expect.stringMatching(/^arn:aws:scheduler:us-east-1:000000000000:schedule\/default\//),
      expression: 'rate(10 minutes)',
      timeZone: 'UTC',
      enabled: true,
      targetArn: machineArn(),
    });
    expect(JSON.parse(schedule?.inputTemplate ?? '')).toEqual({
      trigger: {
        type: 'schedule',
        scheduledTime: '<aws.scheduler.scheduled-time>',
        scheduleArn: '<aws.scheduler.schedule-arn>',
        attempt: '<aws.scheduler.attempt-number>',
      },
    });
  });

  it('reads a disabled schedule as disabled', () => {
    const [[id, resource] = []] = Object.entries(template.Resources).filter(
      ([, res]) => res.Type === 'AWS::Scheduler::Schedule',
    );
    if (!id || !resource) throw new Error('The template has no schedule');
    const disabled: CfnTemplate = {
      ...template,
      Resources: {
        ...template.Resources,
        [id]: { ...resource, Properties: { ...resource.Properties, State: 'DISABLED' } },
      },
    };
    expect(schedules(disabled)[0]?.enabled).toBe(false);
  });
});
