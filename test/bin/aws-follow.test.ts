/**
 * Following a run on AWS (`run --aws`, waiting by default) and the deployed schedules of `jobs --aws`, at the
 * SDK level with aws-sdk-client-mock: GetExecutionHistory read from where the last poll stopped, Distributed
 * Map progress from DescribeMapRun, and GetSchedule's expression, zone and state beside the local definition.
 */
import '../helpers/quiet';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { AwsTarget, ExecutionHistoryReader } from '../../bin/cli/aws-target';
import { jobsCommand, runCommand, type Output as Io } from '../../bin/cli/commands';
import { CliError, ExitCode } from '../../bin/cli/errors';
import { RunStatus } from '../../shared/constants';
import { jobs } from '../../workflows';
import { awsError, entered, exited, historyEvent, newClients } from '../helpers/aws';
import { ACCOUNT, REGION, executionArn, runningRecord, stateMachineArn } from '../helpers/builders';
import { runCli } from '../helpers/cli';

const STACK = 'StepJobs';
const TABLE = 'StepJobs-LedgerTable-ABC123';
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/Operator/jane`;
const RUN = 'cli-20261130T100000Z-abcdef01';
const EXECUTION = executionArn('heartbeat', RUN);
const MAP_RUN = `arn:aws:states:${REGION}:${ACCOUNT}:mapRun:release-idle-resources/Apply:0b1c2d3e`;

function stackOutputs(): Output[] {
  const deployed = ['heartbeat', 'release-idle-resources', 'old-job'].map((id) => ({
    id,
    stateMachineArn: stateMachineArn(id),
    scheduleName: `StepJobs-${id}`,
  }));
  return [
    { OutputKey: 'LedgerTableName', OutputValue: TABLE },
    { OutputKey: 'Jobs', OutputValue: JSON.stringify(deployed) },
  ];
}

const STACKS = {
  Stacks: [
    {
      StackName: STACK,
      StackStatus: 'UPDATE_COMPLETE' as const,
      CreationTime: new Date(),
      Outputs: stackOutputs(),
    },
  ],
};

/** An output sink that keeps the lines. */
function lines(): Io & { all: string[]; text(): string } {
  const all: string[] = [];
  const keep = (text: string) => all.push(...text.split('\n'));
  return { all, out: keep, note: keep, text: () => all.join('\n') };
}

/**
 * GetExecutionHistory over a history that grows: as Step Functions pages, a token marks where its page starts
 * (here: the index of its first event), and the last page for now comes without one.
 */
function pagedHistory(all: () => HistoryEvent[]) {
  return (input: GetExecutionHistoryCommandInput) => {
    const events = all();
    const from = input.nextToken ? Number(input.nextToken.replace('page-', '')) : 0;
    const to = from + (input.maxResults ?? 100);
    return { events: events.slice(from, to), nextToken: to < events.length ? `page-${to}` : undefined };
  };
}

/** The run record runCommand reads after the execution ends, as the ledger query returns it. */
function recordItems(status: RunStatus) {
  return {
    Items: [{ pk: `RUN#${RUN}`, sk: 'RUN', ...runningRecord({ runId: RUN, status, durationMs: 5000 }) }],
  };
}

describe('stepjobs --aws run (the CLI)', () => {
  // The CLI makes its own clients, so these mock every instance of each client class.
  const mocks = () => {
    const cfn = mockClient(CloudFormationClient);
    const sfn = mockClient(SFNClient);
    const sts = mockClient(STSClient);
    const doc = mockClient(DynamoDBDocumentClient);
    cfn.on(DescribeStacksCommand).resolves(STACKS);
    sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER });
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    return { cfn, sfn, sts, doc, restore: () => [cfn, sfn, sts, doc].forEach((m) => m.restore()) };
  };

  it.each([[[]], [['--wait']]])(
    'waits by default (%j): follows the execution to its end and exits with the run status',
    async (flags: string[]) => {
      const { sfn, doc, restore } = mocks();
      try {
        sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
        sfn.on(GetExecutionHistoryCommand).resolves({
          events: [
            historyEvent(1, 0, { type: 'ExecutionStarted' }),
            entered(2, 0, 'StartRun'),
            exited(3, 1, 'StartRun'),
            historyEvent(4, 1, { type: 'ExecutionSucceeded' }),
          ],
        });
        doc.on(QueryCommand).resolves(recordItems(RunStatus.SUCCEEDED));

        const result = await runCli(['--aws', 'run', 'heartbeat', ...flags]);

        expect(result.stderr).toBe('');
        expect(result.code).toBe(ExitCode.OK);
        expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
        // The end event was read: no second look at the history.
        expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
        expect(result.stdout).toContain(`Started ${RUN}; following it (Ctrl-C stops following, not the run)`);
        expect(result.stdout).toContain('  ✔ StartRun (1000 ms)');
        expect(result.stdout).toContain(`Run ${RUN}: SUCCEEDED in 5000 ms`);
      } finally {
        restore();
      }
    },
  );

  it('exits 1 when the run it followed failed', async () => {
    const { sfn, doc, restore } = mocks();
    try {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'Boom' });
      sfn
        .on(GetExecutionHistoryCommand)
        .resolves({ events: [historyEvent(1, 0, { type: 'ExecutionFailed' })] });
      doc.on(QueryCommand).resolves(recordItems(RunStatus.FAILED));
      const result = await runCli(['--aws', 'run', 'heartbeat']);
      expect(result.code).toBe(ExitCode.RUN_FAILED);
      expect(result.stdout).toContain(`Run ${RUN}: FAILED`);
    } finally {
      restore();
    }
  });

  it('--no-wait returns after StartExecution with the run id, the ARN and how to follow it', async () => {
    const { sfn, doc, restore } = mocks();
    try {
      const result = await runCli(['--aws', 'run', 'heartbeat', '--no-wait']);
      expect(result.code).toBe(ExitCode.OK);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
      expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
      expect(doc.calls()).toHaveLength(0);
      expect(result.stdout).toContain(`Started ${RUN}\n  ${EXECUTION}\n`);
      expect(result.stdout).toContain(`Follow it with: stepjobs show ${RUN} --aws`);
      expect(result.stdout).toContain(
        `Console: https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/${EXECUTION}`,
      );
    } finally {
      restore();
    }
  });
});

describe('runCommand --no-wait locally', () => {
  it('is a usage error: a local run lives in the CLI process', async () => {
    const target = {
      kind: 'local' as const,
      jobIds: ['heartbeat'],
      ledger: undefined as never,
      principal: () => Promise.resolve('local:jane'),
      startRun: jest.fn(),
      close: () => Promise.resolve(),
    };
    const error: unknown = await runCommand(target, jobs, lines(), {
      jobId: 'heartbeat',
      input: {},
      wait: false,
    }).catch((e: unknown) => e);
    expect(error).toEqual(
      new CliError('--no-wait works with --aws only: a local run lives in this process and ends with it'),
    );
    expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
    expect(target.startRun).not.toHaveBeenCalled();
  });
});

/** An AwsTarget over mocked clients that polls without waiting; the ledger answers with `status`. */
async function followTarget(options: { historyPageSize?: number } = {}) {
  const clients = newClients();
  const cfn = mockClient(clients.cloudFormation);
  const sfn = mockClient(clients.sfn);
  const sts = mockClient(clients.sts);
  const scheduler = mockClient(clients.scheduler);
  cfn.on(DescribeStacksCommand).resolves(STACKS);
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER });
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
  const target = await AwsTarget.open({ stackName: STACK, clients, pollMs: 0, ...options });
  return { target, sfn, scheduler };
}

/** The ledger's document client, mocked for every instance; restored after each test. */
let doc: AwsClientStub<DynamoDBDocumentClient> | undefined;
function mockLedger() {
  doc = mockClient(DynamoDBDocumentClient);
  doc.on(QueryCommand).resolves(recordItems(RunStatus.SUCCEEDED));
  doc.on(GetCommand).resolves({});
  return doc;
}
afterEach(() => {
  doc?.restore();
  doc = undefined;
});

describe('following an execution on AWS', () => {
  /** What each poll adds to the history. */
  const ADDED_BY_POLL: HistoryEvent[][] = [
    [historyEvent(1, 0, { type: 'ExecutionStarted' }), entered(2, 0, 'StartRun'), exited(3, 1, 'StartRun')],
    [entered(4, 1, 'Decide'), exited(5, 2, 'Decide'), entered(6, 2, 'Heartbeat')],
    [exited(7, 4, 'Heartbeat'), entered(8, 4, 'FinishRun'), exited(9, 5, 'FinishRun')],
    [historyEvent(10, 5, { type: 'ExecutionSucceeded' })],
  ];

  it('continues each poll from the previous nextToken and prints no event twice', async () => {
    mockLedger();
    const { target, sfn } = await followTarget({ historyPageSize: 2 });
    let polls = 0;
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION }).callsFake(() => {
      polls += 1;
      return { status: polls < ADDED_BY_POLL.length ? 'RUNNING' : 'SUCCEEDED' };
    });
    sfn.on(GetExecutionHistoryCommand).callsFake(pagedHistory(() => ADDED_BY_POLL.slice(0, polls).flat()));
    const io = lines();

    const code = await runCommand(target, jobs, io, { jobId: 'heartbeat', input: {}, wait: true });

    expect(code).toBe(ExitCode.OK);
    expect(polls).toBe(4);
    const tokens = sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.nextToken ?? null);
    expect(tokens).toEqual([
      null,
      'page-2', // poll 1: events 1-3; the page at 2 is the last for now
      'page-2',
      'page-4', // poll 2: on from the page at 2 (event 3 skipped), events 4-6
      'page-4',
      'page-6',
      'page-8', // poll 3: events 7-9
      'page-8', // poll 4: event 10
    ]);
    // Never back to the first page once past it.
    expect(tokens.slice(1)).not.toContain(null);
    const progress = io.all.filter((line) => /^ {2}[▶✔]/.test(line));
    expect(progress).toEqual([
      '  ▶ StartRun',
      '  ✔ StartRun (1000 ms)',
      '  ▶ Decide',
      '  ✔ Decide (1000 ms)',
      '  ▶ Heartbeat',
      '  ✔ Heartbeat (2000 ms)', // entered in poll 2, exited in poll 3: the duration spans polls
      '  ▶ FinishRun',
      '  ✔ FinishRun (1000 ms)',
    ]);
    expect(new Set(progress).size).toBe(progress.length);
    expect(io.text()).toContain(`Run ${RUN}: SUCCEEDED`);
    await target.close();
  });

  it('prints the Distributed Map item counts from DescribeMapRun, only when they change', async () => {
    mockLedger();
    const { target, sfn } = await followTarget();
    const added: HistoryEvent[][] = [
      [
        historyEvent(1, 0, { type: 'ExecutionStarted' }),
        historyEvent(2, 0, { type: 'MapStateEntered', stateEnteredEventDetails: { name: 'Apply' } }),
        historyEvent(3, 0, { type: 'MapStateStarted' }),
        historyEvent(4, 0, { type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn: MAP_RUN } }),
      ],
      [],
      [historyEvent(5, 9, { type: 'MapRunSucceeded' })],
      [
        historyEvent(6, 9, { type: 'MapStateExited', stateExitedEventDetails: { name: 'Apply' } }),
        historyEvent(7, 9, { type: 'ExecutionSucceeded' }),
      ],
    ];
    let polls = 0;
    sfn.on(DescribeExecutionCommand).callsFake(() => {
      polls += 1;
      return { status: polls < added.length ? 'RUNNING' : 'SUCCEEDED' };
    });
    sfn.on(GetExecutionHistoryCommand).callsFake(pagedHistory(() => added.slice(0, polls).flat()));
    const counts = (succeeded: number, failed: number, running: number) => ({
      succeeded,
      failed,
      running,
      pending: 100 - succeeded - failed - running,
      timedOut: 0,
      aborted: 0,
      total: 100,
      resultsWritten: succeeded,
    });
    sfn
      .on(DescribeMapRunCommand, { mapRunArn: MAP_RUN })
      .resolvesOnce({ status: 'RUNNING', itemCounts: counts(10, 0, 4) })
      .resolvesOnce({ status: 'RUNNING', itemCounts: counts(10, 0, 4) })
      .resolvesOnce({ status: 'SUCCEEDED', itemCounts: counts(98, 2, 0) });
    const io = lines();

    await runCommand(target, jobs, io, { jobId: 'heartbeat', input: {}, wait: true });

    expect(io.all.filter((line) => line.includes('items:'))).toEqual([
      '  ▦ Apply items: 10 succeeded, 0 failed, 4 running, 86 pending of 100',
      '  ▦ Apply items: 98 succeeded, 2 failed, 0 running, 0 pending of 100',
    ]);
    // Asked each poll until the Map run ended, then no more.
    expect(sfn.commandCalls(DescribeMapRunCommand)).toHaveLength(3);
    expect(io.all).toContain('  ▶ Apply');
    expect(io.all.indexOf('  ▶ Apply')).toBeLessThan(io.all.findIndex((l) => l.includes('items:')));
    await target.close();
  });

  it('names the refused action and says the run goes on when following fails', async () => {
    mockLedger();
    const { target, sfn } = await followTarget();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        historyEvent(1, 0, { type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn: MAP_RUN } }),
      ],
    });
    sfn
      .on(DescribeMapRunCommand)
      .rejects(awsError('AccessDeniedException', 'User is not authorized to perform: states:DescribeMapRun'));

    const error = (await target.startRun({ jobId: 'heartbeat', input: {}, wait: true }).then(
      () => new Error('expected following to fail'),
      (e: unknown) => e,
    )) as CliError;

    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toMatch(/^AWS refused states:DescribeMapRun \(AccessDeniedException\)/);
    expect(error.message).toContain(`Run ${RUN} goes on in AWS: "stepjobs show ${RUN} --aws" shows it.`);
    expect(error.exitCode).toBe(ExitCode.USAGE);
    await target.close();
  });
});

describe('ExecutionHistoryReader', () => {
  it('lists from the start again when its token expired, returning only the events not returned yet', async () => {
    const all = [1, 2, 3, 4, 5].map((id) => historyEvent(id, id, {}));
    let size = 3;
    // Tokens carry the day they were handed out; those of an earlier day have expired.
    let day = 1;
    const paged = pagedHistory(() => all.slice(0, size));
    const calls: Array<string | null> = [];
    const reader = new ExecutionHistoryReader(
      async (input) => {
        calls.push(input.nextToken ?? null);
        const [issued, token] = input.nextToken?.split('/') ?? [String(day), undefined];
        if (Number(issued) < day) throw awsError('InvalidToken', 'Invalid Token: expired');
        const page = paged({ ...input, nextToken: token });
        return { ...page, nextToken: page.nextToken && `${day}/${page.nextToken}` };
      },
      EXECUTION,
      2,
    );
    expect((await reader.read()).map((e) => e.id)).toEqual([1, 2, 3]);
    size = 5;
    day = 2;
    expect((await reader.read()).map((e) => e.id)).toEqual([4, 5]);
    expect(calls).toEqual([null, '1/page-2', '1/page-2', null, '2/page-2', '2/page-4']);
    expect(reader.ended).toBe(false);
  });

  it('throws a refused token it was just handed, rather than listing again and again', async () => {
    const reader = new ExecutionHistoryReader(
      async (input) => {
        if (input.nextToken) throw awsError('InvalidToken', 'Invalid Token');
        return { events: [historyEvent(1, 0, {}), historyEvent(2, 0, {})], nextToken: 'next' };
      },
      EXECUTION,
      2,
    );
    await expect(reader.read()).rejects.toThrow('Invalid Token');
  });

  it('reread lists from the start and returns only the events not returned yet', async () => {
    const all = [1, 2, 3, 4, 5].map((id) => historyEvent(id, id, {}));
    let size = 3;
    const paged = pagedHistory(() => all.slice(0, size));
    const calls: Array<string | null> = [];
    const reader = new ExecutionHistoryReader(
      async (input) => {
        calls.push(input.nextToken ?? null);
        return paged(input);
      },
      EXECUTION,
      2,
    );
    expect((await reader.read()).map((e) => e.id)).toEqual([1, 2, 3]);
    size = 5;
    expect((await reader.reread()).map((e) => e.id)).toEqual([4, 5]);
    expect(calls).toEqual([null, 'page-2', null, 'page-2', 'page-4']);
  });

  it('knows the history is complete once it has read the execution end', async () => {
    const all = [
      historyEvent(1, 0, { type: 'ExecutionStarted' }),
      historyEvent(2, 1, { type: 'ExecutionTimedOut' }),
    ];
    const reader = new ExecutionHistoryReader(async () => ({ events: all }), EXECUTION, 100);
    await reader.read();
    expect(reader.ended).toBe(true);
  });
});

describe('jobs --aws: the deployed schedules', () => {
  const NOW = new Date('2026-11-30T10:05:00Z');
  const found = (name: string, fields: Record<string, unknown>) => ({
    Name: name,
    GroupName: 'default',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    CreationDate: new Date('2026-01-01T00:00:00Z'),
    LastModificationDate: new Date('2026-11-01T00:00:00Z'),
    ...fields,
  });

  async function deployedJobs(heartbeat: Record<string, unknown> | Error, json = false) {
    mockLedger();
    const { target, scheduler } = await followTarget();
    if (heartbeat instanceof Error)
      scheduler.on(GetScheduleCommand, { Name: 'StepJobs-heartbeat' }).rejects(heartbeat);
    else
      scheduler
        .on(GetScheduleCommand, { Name: 'StepJobs-heartbeat' })
        .resolves(found('StepJobs-heartbeat', heartbeat));
    scheduler.on(GetScheduleCommand, { Name: 'StepJobs-release-idle-resources' }).resolves(
      found('StepJobs-release-idle-resources', {
        ScheduleExpression: 'cron(0 6 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'UTC',
        State: 'ENABLED',
      }),
    );
    const io = lines();
    try {
      const code = await jobsCommand(target, jobs, io, { now: NOW, json });
      return { code, io, scheduler };
    } finally {
      await target.close();
    }
  }

  it('shows the deployed expression, zone and state, flags what differs, and lists the deployed fires', async () => {
    const { code, io, scheduler } = await deployedJobs({
      ScheduleExpression: 'rate(5 minutes)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'DISABLED',
    });
    expect(code).toBe(ExitCode.OK);
    expect(
      scheduler
        .commandCalls(GetScheduleCommand)
        .map((c) => c.args[0].input.Name)
        .sort(),
    ).toEqual(['StepJobs-heartbeat', 'StepJobs-release-idle-resources']);
    const text = io.text();
    expect(text).toContain('schedule (deployed)');
    expect(text).toContain('deployed: rate(5 minutes)');
    expect(text).toContain('(local: rate(10 minutes))');
    expect(text).toContain('deployed: Europe/Berlin');
    expect(text).toContain('(local: UTC)');
    expect(text).toContain('DISABLED');
    expect(text).toContain('(local: ENABLED)');
    expect(text).toContain('none: the schedule is DISABLED');
    // The release job is deployed as defined: its deployed cron, no marks, next fires from it.
    expect(text).toContain('cron(0 6 ? * MON-FRI *)');
    expect(text).not.toContain('(local: cron(0 6 ? * MON-FRI *))');
    expect(text).toContain('2026-12-01 06:00 UTC');
    // A job the stack has and this working copy does not.
    expect(text).toContain('Deployed but not defined in this working copy: old-job');
  });

  it('lists the next fires of a deployed rate from its start date, in its zone', async () => {
    const { io } = await deployedJobs({
      ScheduleExpression: 'rate(15 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      StartDate: new Date('2026-11-30T10:02:00Z'),
      State: 'ENABLED',
    });
    expect(io.text()).toContain('2026-11-30 10:17 UTC');
    expect(io.text()).toContain('2026-11-30 10:32 UTC');
  });

  it('gives a schedule deleted outside the stack a clear cell, not a crash', async () => {
    const { code, io } = await deployedJobs(
      awsError('ResourceNotFoundException', 'Schedule StepJobs-heartbeat does not exist.'),
    );
    expect(code).toBe(ExitCode.OK);
    expect(io.text()).toContain('MISSING');
    expect(io.text()).toContain('none: no schedule');
    expect(io.text()).toContain('schedule StepJobs-heartbeat not found');
    expect(io.text()).toContain('in EventBridge Scheduler');

    const { io: json } = await deployedJobs(
      awsError('ResourceNotFoundException', 'Schedule StepJobs-heartbeat does not exist.'),
      true,
    );
    expect(JSON.parse(json.text())).toContainEqual(
      expect.objectContaining({
        id: 'heartbeat',
        next: [],
        deployedSchedule: { status: 'missing', name: 'StepJobs-heartbeat' },
      }),
    );
  });

  it('keeps the deployed fields, and what differs, in --json', async () => {
    const { io } = await deployedJobs(
      { ScheduleExpression: 'rate(10 minutes)', ScheduleExpressionTimezone: 'UTC', State: 'DISABLED' },
      true,
    );
    const parsed = JSON.parse(io.text()) as Array<Record<string, unknown>>;
    expect(parsed[0]).toMatchObject({
      id: 'heartbeat',
      schedule: 'rate(10 minutes)',
      next: [],
      deployedSchedule: {
        status: 'found',
        name: 'StepJobs-heartbeat',
        expression: 'rate(10 minutes)',
        timeZone: 'UTC',
        state: 'DISABLED',
        startDate: null,
        differsFromLocal: ['state'],
      },
    });
    expect(parsed[1]).toMatchObject({
      id: 'release-idle-resources',
      deployedSchedule: { state: 'ENABLED', differsFromLocal: [] },
    });
    expect((parsed[1]?.next as string[])[0]).toBe('2026-12-01T06:00:00.000Z');
  });

  it('names scheduler:GetSchedule when AWS refuses it', async () => {
    await expect(
      deployedJobs(awsError('AccessDeniedException', 'not authorized to perform: scheduler:GetSchedule')),
    ).rejects.toThrow(/^AWS refused scheduler:GetSchedule \(AccessDeniedException\)/);
  });
});
