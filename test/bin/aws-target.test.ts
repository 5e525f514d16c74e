import '../helpers/quiet';
import { DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsTarget, historyToProgress, type AwsClients } from '../../bin/cli/aws-target';
import { CliError } from '../../bin/cli/errors';
import type { ProgressEvent } from '../../bin/cli/progress';
import { awsError, entered, exited, historyEvent, newClients } from '../helpers/aws';
import { ACCOUNT, executionArn, stateMachineArn } from '../helpers/builders';

const STACK = 'StepJobs';
const TABLE = 'StepJobs-LedgerTable-ABC123';
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/Operator/jane`;

function stackOutputs(jobs: Array<{ id: string; stateMachineArn: string }>): Output[] {
  return [
    { OutputKey: 'LedgerTableName', OutputValue: TABLE },
    { OutputKey: 'StateMachineArnHeartbeat', OutputValue: stateMachineArn('heartbeat') },
    {
      OutputKey: 'Jobs',
      OutputValue: JSON.stringify(jobs.map((j) => ({ ...j, scheduleName: `s-${j.id}` }))),
    },
  ];
}

const DEPLOYED = [
  { id: 'heartbeat', stateMachineArn: stateMachineArn('heartbeat') },
  { id: 'clean-old-volumes', stateMachineArn: stateMachineArn('clean-old-volumes') },
];

/** Clients with mocks; the stack is deployed with DEPLOYED unless a test says otherwise. */
function mocked() {
  const clients = newClients();
  const cfn = mockClient(clients.cloudFormation);
  const sfn = mockClient(clients.sfn);
  const sts = mockClient(clients.sts);
  cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: stackOutputs(DEPLOYED),
      },
    ],
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: ACCOUNT, UserId: 'AROA:jane' });
  return { clients, cfn, sfn, sts };
}

async function openError(clients: AwsClients): Promise<CliError> {
  const error: unknown = await AwsTarget.open({ stackName: STACK, clients }).then(
    () => new Error('expected AwsTarget.open to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('AwsTarget.open', () => {
  it('discovers the jobs and the ledger table from the stack outputs', async () => {
    const { clients, cfn } = mocked();
    const target = await AwsTarget.open({ stackName: STACK, clients });
    expect(target.kind).toBe('aws');
    expect(target.jobIds).toEqual(['heartbeat', 'clean-old-volumes']);
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(1);

    // The ledger reads the table the output names (through a document client over the given client).
    const doc = mockClient(DynamoDBDocumentClient).on(GetCommand).resolves({});
    try {
      await expect(target.ledger.runs.find('some-run')).resolves.toBeUndefined();
      expect(doc.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ TableName: TABLE });
    } finally {
      doc.restore();
    }
    await target.close();
  });

  it('says there is no deployed stack when CloudFormation does not know it', async () => {
    const { clients, cfn } = mocked();
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', `Stack with id ${STACK} does not exist`));
    const error = await openError(clients);
    expect(error.message).toContain(`No deployed stack "${STACK}"`);
    expect(error.message).toContain('--stack');
  });

  it('explains missing credentials in one line', async () => {
    const { clients, cfn } = mocked();
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const error = await openError(clients);
    expect(error.message).toMatch(/^No AWS credentials found/);
    expect(error.message).toContain('AWS_PROFILE');
  });

  it('explains rejected credentials', async () => {
    const { clients, cfn } = mocked();
    cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('ExpiredTokenException', 'The security token included in the request is expired'));
    expect((await openError(clients)).message).toContain(
      'AWS rejected the credentials (ExpiredTokenException)',
    );
  });

  it('refuses a stack without the stepjobs outputs', async () => {
    const { clients, cfn } = mocked();
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'Other', OutputValue: 'x' }],
        },
      ],
    });
    const error = await openError(clients);
    expect(error.message).toContain('LedgerTableName/Jobs');
    expect(error.message).toContain('is it a stepjobs stack?');
  });

  it.each([
    ['not JSON', '{oops'],
    ['not a list of jobs', '{"id":"heartbeat"}'],
  ])('refuses a Jobs output that is %s', async (_what, value) => {
    const { clients, cfn } = mocked();
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [
            { OutputKey: 'LedgerTableName', OutputValue: TABLE },
            { OutputKey: 'Jobs', OutputValue: value },
          ],
        },
      ],
    });
    expect((await openError(clients)).message).toContain(`Stack "${STACK}" has a Jobs output that is not`);
  });
});

const LAMBDA_CAUSE = JSON.stringify({ errorType: 'Boom', errorMessage: 'the volume is gone' });

/** The execution's history as it grows: what GetExecutionHistory returns after each DescribeExecution. */
const HISTORY_BY_POLL: HistoryEvent[][] = [
  [historyEvent(1, 0, { type: 'ExecutionStarted' }), entered(2, 0, 'StartRun'), exited(3, 1, 'StartRun')],
  [
    entered(4, 1, 'Decide'),
    exited(5, 1, 'Decide'),
    entered(6, 1, 'Heartbeat'),
    historyEvent(7, 2, { type: 'TaskScheduled' }),
    historyEvent(8, 4, {
      type: 'TaskFailed',
      taskFailedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        error: 'Boom',
        cause: LAMBDA_CAUSE,
      },
    }),
  ],
  [entered(9, 4, 'FailRun'), exited(10, 5, 'FailRun'), historyEvent(11, 5, { type: 'ExecutionFailed' })],
];

describe('AwsTarget.startRun', () => {
  it('starts the job state machine with a CLI trigger naming the caller', async () => {
    const { clients, sfn } = mocked();
    sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
      executionArn: input.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${input.name}`,
      startDate: new Date(),
    }));
    const target = await AwsTarget.open({ stackName: STACK, clients });

    const started = await target.startRun({ jobId: 'heartbeat', input: { message: 'hi' }, wait: false });

    const [call] = sfn.commandCalls(StartExecutionCommand);
    const sent = call?.args[0].input;
    expect(sent?.stateMachineArn).toBe(stateMachineArn('heartbeat'));
    expect(sent?.name).toMatch(/^cli-/);
    expect(sent?.name?.length).toBeLessThanOrEqual(80);
    expect(sent?.name).not.toContain(':');
    expect(JSON.parse(sent?.input ?? '')).toEqual({
      message: 'hi',
      trigger: { type: 'cli', principal: CALLER },
    });
    expect(started).toEqual({
      runId: sent?.name,
      executionArn: executionArn('heartbeat', sent?.name ?? ''),
      status: 'RUNNING',
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    await target.close();
  });

  it('with wait, polls until the execution ends, reading only the new history events each poll', async () => {
    const { clients, sfn } = mocked();
    const name = 'cli-20261130T100000Z-abcdef01';
    const arn = executionArn('heartbeat', name);
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: new Date() });
    let polls = 0;
    sfn.on(DescribeExecutionCommand, { executionArn: arn }).callsFake(() => {
      polls += 1;
      return polls < HISTORY_BY_POLL.length
        ? { status: 'RUNNING' }
        : { status: 'FAILED', error: 'Boom', cause: LAMBDA_CAUSE };
    });
    // As Step Functions pages: a token marks where its page starts, and the last page has none.
    sfn.on(GetExecutionHistoryCommand).callsFake((input: { nextToken?: string; maxResults?: number }) => {
      const all = HISTORY_BY_POLL.slice(0, polls).flat();
      const from = input.nextToken ? Number(input.nextToken) : 0;
      const to = from + (input.maxResults ?? 100);
      return { events: all.slice(from, to), nextToken: to < all.length ? String(to) : undefined };
    });
    const target = await AwsTarget.open({ stackName: STACK, clients, pollMs: 1, historyPageSize: 2 });
    const progress: ProgressEvent[] = [];

    const result = await target.startRun({
      jobId: 'heartbeat',
      input: {},
      wait: true,
      onProgress: (e) => progress.push(e),
    });

    expect(result).toEqual({
      runId: name,
      executionArn: arn,
      status: 'FAILED',
      error: 'Boom',
      cause: LAMBDA_CAUSE,
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
    const historyCalls = sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input);
    expect(historyCalls.every((i) => i.executionArn === arn && i.maxResults === 2)).toBe(true);
    expect(historyCalls.every((i) => i.includeExecutionData === false)).toBe(true);
    // Each poll starts from the page where the one before stopped: never again from the first page.
    expect(historyCalls.map((i) => i.nextToken ?? null)).toEqual([
      null,
      '2', // poll 1: events 1-3, ends on the page at 2
      '2',
      '4',
      '6', // poll 2: events 4-8 (3 read again and skipped), ends on the page at 6
      '6',
      '8',
      '10', // poll 3: events 9-11
    ]);
    expect(progress.map((e) => `${e.kind} ${e.state}`)).toEqual([
      'entered StartRun',
      'exited StartRun',
      'entered Decide',
      'exited Decide',
      'entered Heartbeat',
      'failed Heartbeat',
      'entered FailRun',
      'exited FailRun',
    ]);
    expect(progress[1]?.durationMs).toBe(1000);
    expect(progress[5]).toMatchObject({ error: 'Boom', cause: LAMBDA_CAUSE });
    await target.close();
  });

  it('refuses a job the stack does not deploy, without calling AWS', async () => {
    const { clients, sfn, sts } = mocked();
    const target = await AwsTarget.open({ stackName: STACK, clients });
    await expect(target.startRun({ jobId: 'nojob', input: {}, wait: false })).rejects.toThrow(
      new CliError(`Job "nojob" is not deployed in stack ${STACK}`),
    );
    expect(sfn.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
    await target.close();
  });

  it('explains a credentials failure from StartExecution', async () => {
    const { clients, sts } = mocked();
    sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const target = await AwsTarget.open({ stackName: STACK, clients });
    await expect(target.startRun({ jobId: 'heartbeat', input: {}, wait: false })).rejects.toThrow(
      /^No AWS credentials found/,
    );
    await target.close();
  });
});

describe('historyToProgress', () => {
  it('reports a Lambda function failure on the state entered last', () => {
    const progress = historyToProgress([
      entered(1, 0, 'Heartbeat'),
      historyEvent(2, 3, {
        type: 'LambdaFunctionFailed',
        lambdaFunctionFailedEventDetails: { error: 'Lambda.Unknown', cause: 'out of memory' },
      }),
    ]);
    expect(progress).toEqual([
      { kind: 'entered', state: 'Heartbeat', timestamp: Date.UTC(2026, 10, 30, 10, 0, 0) },
      {
        kind: 'failed',
        state: 'Heartbeat',
        timestamp: Date.UTC(2026, 10, 30, 10, 0, 3),
        error: 'Lambda.Unknown',
        cause: 'out of memory',
      },
    ]);
  });

  it('ignores events that are neither state changes nor failures', () => {
    expect(
      historyToProgress([
        historyEvent(1, 0, { type: 'ExecutionStarted' }),
        historyEvent(2, 0, { type: 'TaskScheduled' }),
      ]),
    ).toEqual([]);
  });
});

describe('principal', () => {
  it('is the caller’s IAM ARN, asked of STS once', async () => {
    const { clients, sts } = mocked();
    const target = await AwsTarget.open({ stackName: STACK, clients });
    expect(await target.principal()).toBe(CALLER);
    expect(await target.principal()).toBe(CALLER);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });
});

describe('AwsTarget.setScheduleState (pause --disable-schedule, resume)', () => {
  const deployedSchedule = {
    Name: 's-heartbeat',
    GroupName: 'default',
    Description: 'heartbeat: every 10 minutes',
    ScheduleExpression: 'rate(10 minutes)',
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    Target: {
      Arn: stateMachineArn('heartbeat'),
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/SchedulerRole`,
      Input: '{"trigger":{"type":"schedule"}}',
      RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
    },
    State: 'ENABLED' as const,
  };

  it('sends the whole schedule back with only its state changed, leaving out a start date in the past', async () => {
    const { clients } = mocked();
    const scheduler = mockClient(clients.scheduler);
    scheduler
      .on(GetScheduleCommand, { Name: 's-heartbeat' })
      .resolves({ ...deployedSchedule, StartDate: new Date('2026-01-01T00:00:00Z') });
    scheduler.on(UpdateScheduleCommand).resolves({});
    const target = await AwsTarget.open({ stackName: STACK, clients });

    const change = await target.setScheduleState('heartbeat', false);
    expect(change).toEqual({ name: 's-heartbeat', before: 'ENABLED', changed: true, startDateDropped: true });
    const sent = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({ ...deployedSchedule, State: 'DISABLED' });
    expect(sent).not.toHaveProperty('StartDate');
  });

  it('changes nothing when the schedule is already in the state asked for, and keeps a future start date', async () => {
    const { clients } = mocked();
    const scheduler = mockClient(clients.scheduler);
    const future = new Date(Date.now() + 86_400_000);
    scheduler.on(GetScheduleCommand).resolves({ ...deployedSchedule, StartDate: future });
    scheduler.on(UpdateScheduleCommand).resolves({});
    const target = await AwsTarget.open({ stackName: STACK, clients });

    await expect(target.setScheduleState('heartbeat', true)).resolves.toMatchObject({ changed: false });
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
    await target.setScheduleState('heartbeat', false);
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input.StartDate).toEqual(future);
  });

  it('names a job without a schedule, and explains a refused call', async () => {
    const { clients } = mocked();
    const scheduler = mockClient(clients.scheduler);
    scheduler
      .on(GetScheduleCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform: scheduler:GetSchedule'));
    const target = await AwsTarget.open({ stackName: STACK, clients });
    await expect(target.setScheduleState('nope', false)).rejects.toThrow('Job "nope" has no schedule');
    await expect(target.setScheduleState('heartbeat', false)).rejects.toBeInstanceOf(CliError);
  });
});
