/**
 * `rerun --aws` and `redrive --aws` at the SDK level: Step Functions, CloudFormation and STS are mocked with
 * aws-sdk-client-mock; the ledger the commands read is a real one (the embedded DynamoDB) under the table name
 * the stack outputs give.
 */
import '../helpers/quiet';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsTarget } from '../../bin/cli/aws-target';
import { CliError, ExitCode } from '../../bin/cli/errors';
import { redriveCommand, rerunCommand } from '../../bin/cli/rerun-command';
import { createTables, ledgerTableInput } from '../../local/embedded-dynamodb';
import { RunStatus } from '../../shared/constants';
import { storedJson } from '../../shared/json';
import { Ledger } from '../../shared/ledger/ledger';
import { reopenRun } from '../../shared/ledger/run-redrive';
import { jobs } from '../../workflows';
import { newClients } from '../helpers/aws';
import { ACCOUNT, executionArn, runningRecord, stateMachineArn } from '../helpers/builders';
import { useEmbeddedLedger } from '../helpers/ledger';

const STACK = 'StepJobs';
const TABLE = 'StepJobs-LedgerTable-RERUN';
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/Operator/jane`;
const fixture = useEmbeddedLedger();
beforeAll(async () => {
  await createTables(fixture.client(), [ledgerTableInput(TABLE)]);
});

async function target() {
  const clients = newClients(fixture.client());
  mockClient(clients.cloudFormation)
    .on(DescribeStacksCommand)
    .resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [
            { OutputKey: 'LedgerTableName', OutputValue: TABLE },
            {
              OutputKey: 'Jobs',
              OutputValue: JSON.stringify([
                {
                  id: 'heartbeat',
                  stateMachineArn: stateMachineArn('heartbeat'),
                  scheduleName: 's-heartbeat',
                },
              ]),
            },
          ],
        },
      ],
    });
  mockClient(clients.sts).on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: ACCOUNT });
  const sfn = mockClient(clients.sfn);
  const aws = await AwsTarget.open({ stackName: STACK, clients, pollMs: 1 });
  return { aws, sfn };
}

function io() {
  const out: string[] = [];
  return { out, io: { out: (t: string) => out.push(t), note: (t: string) => out.push(t) } };
}

/** A FAILED run with the raw input the caller sent (numbers beyond 2^53 included). */
async function failedRun(runId: string, endedAt = new Date().toISOString()) {
  const ledger = Ledger.fromClient(fixture.client(), TABLE);
  const raw =
    '{"message":"hi","big":123456789012345678901234567890,"trigger":{"type":"cli","principal":"arn:aws:iam::1:user/ann"}}';
  await ledger.runs.create({
    ...runningRecord({ runId, startedAt: new Date(Date.parse(endedAt) - 5_000).toISOString() }),
    rawInput: storedJson(raw, 1_000_000),
    status: RunStatus.FAILED,
    endedAt,
    error: { name: 'PermanentError', cause: 'boom' },
  });
  return ledger;
}

test('rerun --aws starts a new execution with the run’s input (every digit kept), trigger "rerun" naming it, and the caller', async () => {
  await failedRun('cli-rerun-1');
  const { aws, sfn } = await target();
  sfn
    .on(StartExecutionCommand)
    .resolves({ executionArn: executionArn('heartbeat', 'rerun-x'), startDate: new Date() });
  const { io: output, out } = io();

  const code = await rerunCommand(aws, jobs, output, { runId: 'cli-rerun-1', wait: false });

  expect(code).toBe(ExitCode.OK);
  const call = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
  expect(call?.stateMachineArn).toBe(stateMachineArn('heartbeat'));
  expect(call?.name).toMatch(/^rerun-/);
  expect(call?.input).toBe(
    `{"message":"hi","big":123456789012345678901234567890,"trigger":{"type":"rerun","relatedRunId":"cli-rerun-1","principal":"${CALLER}"}}`,
  );
  expect(out.join('\n')).toContain('Rerunning cli-rerun-1 (FAILED) of heartbeat as a new run');
});

test('rerun --input replaces the input', async () => {
  await failedRun('cli-rerun-2');
  const { aws, sfn } = await target();
  sfn
    .on(StartExecutionCommand)
    .resolves({ executionArn: executionArn('heartbeat', 'rerun-y'), startDate: new Date() });
  await rerunCommand(aws, jobs, io().io, { runId: 'cli-rerun-2', wait: false, input: { message: 'again' } });
  expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toEqual({
    message: 'again',
    trigger: { type: 'rerun', relatedRunId: 'cli-rerun-2', principal: CALLER },
  });
});

test('redrive --aws calls RedriveExecution for the run’s execution, follows only what comes after the redrive, and reports the run', async () => {
  const ledger = await failedRun('cli-redrive-1');
  const { aws, sfn } = await target();
  const arn = executionArn('heartbeat', 'cli-redrive-1');
  sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
  const at = new Date();
  const events: HistoryEvent[] = [
    { id: 1, type: 'ExecutionStarted', timestamp: at },
    { id: 2, type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name: 'OldAttempt' } },
    { id: 3, type: 'ExecutionFailed', timestamp: at },
    { id: 4, type: 'ExecutionRedriven', timestamp: at },
    { id: 5, type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name: 'FailRun' } },
    { id: 6, type: 'TaskStateExited', timestamp: at, stateExitedEventDetails: { name: 'FailRun' } },
    { id: 7, type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name: 'Heartbeat' } },
    { id: 8, type: 'TaskStateExited', timestamp: at, stateExitedEventDetails: { name: 'Heartbeat' } },
  ];
  let polls = 0;
  sfn.on(DescribeExecutionCommand).callsFake(async () => {
    polls += 1;
    // Asked once before the redrive (which redrive it is), then by the follow.
    if (polls === 1) return { status: 'FAILED', redriveCount: 0 };
    if (polls === 2) return { status: 'RUNNING', redriveCount: 1 };
    // What the redriven execution did in AWS: FailRun reopened the run, the step ran, FinishRun closed it.
    const now = new Date().toISOString();
    await reopenRun(
      ledger,
      runningRecord({ runId: 'cli-redrive-1' }),
      { count: 1, overlap: 'allow', leaseSeconds: 60 },
      new Date(now),
    );
    await ledger.runs.finalize(runningRecord({ runId: 'cli-redrive-1' }), {
      status: RunStatus.SUCCEEDED,
      endedAt: now,
    });
    return { status: 'SUCCEEDED', redriveCount: 1 };
  });
  sfn.on(GetExecutionHistoryCommand).resolves({ events });
  const { io: output, out } = io();

  const code = await redriveCommand(aws, jobs, output, { runId: 'cli-redrive-1', wait: true });

  const redrive = sfn.commandCalls(RedriveExecutionCommand)[0]?.args[0].input;
  expect(redrive).toEqual({ executionArn: arn, clientToken: expect.any(String) });
  const text = out.join('\n');
  expect(text).toContain('Redriving cli-redrive-1 (FAILED)');
  expect(text).not.toContain('OldAttempt');
  expect(text).toMatch(/FailRun/);
  expect(text).toMatch(/Heartbeat/);
  expect(text).toMatch(/Run cli-redrive-1: SUCCEEDED/);
  expect(code).toBe(ExitCode.OK);
});

test('a second redrive is followed from its own ExecutionRedriven, not the first one’s', async () => {
  await failedRun('cli-redrive-3');
  const { aws, sfn } = await target();
  sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
  const at = new Date();
  const before: HistoryEvent[] = [
    { id: 1, type: 'ExecutionStarted', timestamp: at },
    { id: 2, type: 'ExecutionFailed', timestamp: at },
    { id: 3, type: 'ExecutionRedriven', timestamp: at },
    { id: 4, type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name: 'FirstRedrive' } },
    { id: 5, type: 'ExecutionFailed', timestamp: at },
  ];
  const after: HistoryEvent[] = [
    { id: 6, type: 'ExecutionRedriven', timestamp: at },
    { id: 7, type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name: 'SecondRedrive' } },
    { id: 8, type: 'TaskStateExited', timestamp: at, stateExitedEventDetails: { name: 'SecondRedrive' } },
  ];
  // The service has not applied the redrive yet at the first poll: the execution still says FAILED, and
  // the history ends with the first redrive's attempt.
  sfn
    .on(DescribeExecutionCommand)
    .resolvesOnce({ status: 'FAILED', redriveCount: 1 })
    .resolvesOnce({ status: 'FAILED', redriveCount: 1 })
    .resolves({ status: 'SUCCEEDED', redriveCount: 2 });
  sfn.on(GetExecutionHistoryCommand).resolvesOnce({ events: before }).resolves({ events: after });
  const { io: output, out } = io();

  await redriveCommand(aws, jobs, output, { runId: 'cli-redrive-3', wait: true });

  const text = out.join('\n');
  expect(text).not.toContain('FirstRedrive');
  expect(text).toMatch(/SecondRedrive/);
  // Once before the redrive, then each poll until the second redrive's attempt had ended.
  expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(4);
});

test('redrive refuses, in one line each: a run that did not fail, one past the 14-day window, one Step Functions will not redrive, and local mode', async () => {
  const ledger = await failedRun('cli-redrive-2');
  await ledger.runs.create({
    ...runningRecord({ runId: 'cli-ok' }),
    status: RunStatus.SUCCEEDED,
    endedAt: new Date().toISOString(),
  });
  await failedRun('cli-old', new Date(Date.now() - 15 * 86_400_000).toISOString());
  const { aws, sfn } = await target();
  sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
  const refused = (runId: string) =>
    redriveCommand(aws, jobs, io().io, { runId, wait: false }).then(
      () => undefined,
      (e: unknown) => e as CliError,
    );
  expect((await refused('cli-ok'))?.message).toMatch(/is SUCCEEDED: only a FAILED, ABORTED or TIMED_OUT run/);
  expect((await refused('cli-old'))?.message).toMatch(/more than 14 days ago.*stepjobs rerun cli-old/);
  expect((await refused('nope'))?.message).toMatch(/No run "nope" in the aws ledger/);
  sfn
    .on(RedriveExecutionCommand)
    .rejects(
      Object.assign(new Error('Execution history event limit exceeded'), { name: 'ExecutionNotRedrivable' }),
    );
  expect((await refused('cli-redrive-2'))?.message).toBe(
    'Step Functions cannot redrive this execution: Execution history event limit exceeded',
  );

  const local = {
    kind: 'local' as const,
    jobIds: ['heartbeat'],
    ledger,
    principal: async () => 'x',
    startRun: jest.fn(),
    close: jest.fn(),
  };
  await expect(redriveCommand(local, jobs, io().io, { runId: 'cli-redrive-2', wait: true })).rejects.toThrow(
    'Local mode cannot redrive: its engine has no redrive. Run the work again as a new run: stepjobs rerun cli-redrive-2',
  );
});
