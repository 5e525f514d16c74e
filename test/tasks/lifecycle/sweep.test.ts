import '../../helpers/quiet';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { RunStatus } from '../../../shared/constants';
import type { Ledger } from '../../../shared/ledger/ledger';
import { sweep, SWEEP_GRACE_MS as SWEEP_GRACE } from '../../../tasks/lifecycle/sweep';
import { executionArn, runningRecord, scheduledInput, stateMachineArn } from '../../helpers/builders';
import { clockAt, DAY, HOUR, MINUTE } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const NOW = '2026-11-30T12:00:00.000Z';
const ago = (ms: number) => new Date(Date.parse(NOW) - ms).toISOString();
const env = {
  STATE_MACHINES: JSON.stringify([
    { jobId: 'heartbeat', stateMachineArn: stateMachineArn('heartbeat'), timeoutSeconds: 3_600 },
    { jobId: 'cleanup', stateMachineArn: stateMachineArn('cleanup'), timeoutSeconds: 3_600 },
  ]),
};

/** A Step Functions client whose answers come from the test; ListExecutions lists nothing unless told. */
function fakeStepFunctions() {
  const sfn = new SFNClient({ region: 'us-east-1' });
  const mock = mockClient(sfn);
  mock.on(ListExecutionsCommand).resolves({ executions: [] });
  const described = () =>
    mock.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn);
  return { sfn, mock, described };
}

async function running(ledger: Ledger, runId: string, startedAt: string, jobId = 'heartbeat'): Promise<void> {
  await ledger.runs.create(runningRecord({ runId, jobId, startedAt }));
}

describe('Sweep', () => {
  it('ends a run whose execution has ended with its real status, error and cause, and releases its lock', async () => {
    const ledger = await db.fresh();
    await running(ledger, 'run-1', ago(30 * MINUTE));
    await ledger.jobs.acquireLock('heartbeat', 'run-1', ago(30 * MINUTE), ago(-HOUR));
    const { sfn, mock } = fakeStepFunctions();
    mock.on(DescribeExecutionCommand, { executionArn: executionArn('heartbeat', 'run-1') }).resolves({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: 'The JSONPath $.items could not be found',
      stopDate: new Date(ago(20 * MINUTE)),
    });

    const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

    expect(result).toEqual({
      jobs: 2,
      checked: 1,
      stillRunning: 0,
      finalized: 1,
      notFound: 0,
      alreadyFinal: 0,
      recorded: 0,
      locksReleased: 1,
      repaired: [{ runId: 'run-1', jobId: 'heartbeat', status: RunStatus.FAILED, how: 'finalized' }],
      releasedLocks: [],
      // Without a Scheduler client the sweep checks no slots (tasks/lifecycle/missed-runs.test.ts does).
      expected: 0,
      missed: [],
      caughtUp: [],
    });
    expect(await ledger.runs.get('run-1')).toMatchObject({
      status: RunStatus.FAILED,
      error: { name: 'States.Runtime', cause: 'The JSONPath $.items could not be found' },
      endedAt: ago(20 * MINUTE),
      durationMs: 10 * MINUTE,
      finalizedBy: 'sweep',
    });
    const state = await ledger.jobs.getState('heartbeat');
    expect(state.lockRunId).toBeUndefined();
    expect(state.counters).toEqual({ FAILED: 1 });
  });

  it('records SUCCEEDED and ABORTED executions as such, across jobs', async () => {
    const ledger = await db.fresh();
    await running(ledger, 'run-1', ago(HOUR));
    await running(ledger, 'run-2', ago(HOUR), 'cleanup');
    const { sfn, mock } = fakeStepFunctions();
    mock
      .on(DescribeExecutionCommand, { executionArn: executionArn('heartbeat', 'run-1') })
      .resolves({ status: 'SUCCEEDED', stopDate: new Date(ago(50 * MINUTE)) })
      .on(DescribeExecutionCommand, { executionArn: executionArn('cleanup', 'run-2') })
      .resolves({ status: 'ABORTED', stopDate: new Date(ago(50 * MINUTE)) });

    const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

    expect(result).toMatchObject({ checked: 2, finalized: 2 });
    const succeeded = await ledger.runs.get('run-1');
    expect(succeeded.status).toBe(RunStatus.SUCCEEDED);
    expect(succeeded).not.toHaveProperty('error');
    expect(await ledger.runs.get('run-2')).toMatchObject({
      status: RunStatus.ABORTED,
      error: { name: 'ABORTED' },
    });
    expect((await ledger.jobs.getState('heartbeat')).lastSuccess?.runId).toBe('run-1');
  });

  it('records a run whose execution Step Functions does not know as FAILED (ExecutionNotFound)', async () => {
    const ledger = await db.fresh();
    await running(ledger, 'run-1', ago(30 * MINUTE));
    const { sfn, mock } = fakeStepFunctions();
    mock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

    expect(result).toMatchObject({ checked: 1, finalized: 1, notFound: 1 });
    expect(await ledger.runs.get('run-1')).toMatchObject({
      status: RunStatus.FAILED,
      error: {
        name: 'ExecutionNotFound',
        cause: expect.stringContaining(executionArn('heartbeat', 'run-1')),
      },
      endedAt: NOW,
      finalizedBy: 'sweep',
    });
  });

  it('leaves running executions, young runs and runs beyond the look-back window alone', async () => {
    const ledger = await db.fresh();
    await running(ledger, 'still-running', ago(30 * MINUTE));
    await running(ledger, 'young', ago(2 * MINUTE));
    await running(ledger, 'ancient', ago(3 * DAY));
    const { sfn, mock, described } = fakeStepFunctions();
    mock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

    expect(result).toMatchObject({ checked: 1, stillRunning: 1, finalized: 0 });
    expect(described()).toEqual([executionArn('heartbeat', 'still-running')]);
    for (const runId of ['still-running', 'young', 'ancient']) {
      expect((await ledger.runs.get(runId)).status).toBe(RunStatus.RUNNING);
    }
  });

  it('does not count a run twice when FinishRun ends it while the sweep looks', async () => {
    const ledger = await db.fresh();
    const run = runningRecord({ runId: 'run-1', startedAt: ago(30 * MINUTE) });
    await ledger.runs.create(run);
    const { sfn, mock } = fakeStepFunctions();
    mock.on(DescribeExecutionCommand).callsFake(async () => {
      await ledger.closeRun(run, { status: RunStatus.SUCCEEDED, endedAt: NOW }, NOW);
      return { status: 'SUCCEEDED', stopDate: new Date(NOW) };
    });

    const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

    expect(result).toMatchObject({ checked: 1, finalized: 0, alreadyFinal: 1 });
    expect((await ledger.jobs.getState('heartbeat')).counters).toEqual({ SUCCEEDED: 1 });
  });

  it('records SUCCEEDED, with the output summary, a run whose FinishRun could not write', async () => {
    const ledger = await db.fresh();
    await running(ledger, 'run-1', ago(30 * MINUTE));
    await ledger.jobs.acquireLock('heartbeat', 'run-1', ago(30 * MINUTE), ago(-HOUR));
    const { sfn, mock } = fakeStepFunctions();
    const results = { Heartbeat: { message: 'tick' } };
    mock.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      stopDate: new Date(ago(29 * MINUTE)),
      output: JSON.stringify({ run: {}, results, finishRunError: { Error: 'LedgerUnavailable' } }),
    });

    await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

    expect(await ledger.runs.get('run-1')).toMatchObject({
      status: RunStatus.SUCCEEDED,
      output: JSON.stringify(results),
      finalizedBy: 'sweep',
    });
    expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
  });

  describe('executions with no run record', () => {
    const slot = '2026-11-30T11:00:00Z';
    const orphan = {
      executionArn: executionArn('heartbeat', 'orphan'),
      stateMachineArn: stateMachineArn('heartbeat'),
      name: 'orphan',
      status: 'FAILED' as const,
      startDate: new Date(ago(HOUR)),
      stopDate: new Date(ago(50 * MINUTE)),
    };

    it('records an ended execution StartRun never recorded, with its input, trigger and error', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.claimSlot('heartbeat', slot, 'orphan', NOW);
      await ledger.jobs.acquireLock('heartbeat', 'orphan', ago(HOUR), ago(-HOUR));
      const { sfn, mock } = fakeStepFunctions();
      const input = JSON.stringify(scheduledInput(slot, { n: 1 }));
      mock
        .on(ListExecutionsCommand, { stateMachineArn: stateMachineArn('heartbeat') })
        .resolves({ executions: [orphan] })
        .on(DescribeExecutionCommand)
        .resolves({ ...orphan, input, error: 'LedgerUnavailable', cause: 'DynamoDB was down' });

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(result).toMatchObject({ recorded: 1, locksReleased: 1 });
      expect(await ledger.runs.get('orphan')).toMatchObject({
        status: RunStatus.FAILED,
        trigger: { type: 'schedule', scheduledTime: slot },
        rawInput: { text: input },
        error: { name: 'LedgerUnavailable', cause: 'DynamoDB was down' },
        finalizedBy: 'sweep',
      });
      const state = await ledger.jobs.getState('heartbeat');
      expect(state.lockRunId).toBeUndefined();
      expect(state.sweptUntil).toBe(ago(SWEEP_GRACE));
    });

    it('leaves recorded, running and just-ended executions alone, and keeps its mark before the running one', async () => {
      const ledger = await db.fresh();
      await running(ledger, 'recorded', ago(2 * HOUR));
      const { sfn, mock } = fakeStepFunctions();
      mock.on(ListExecutionsCommand, { stateMachineArn: stateMachineArn('heartbeat') }).resolves({
        executions: [
          {
            ...orphan,
            name: 'just-ended',
            startDate: new Date(ago(10 * MINUTE)),
            stopDate: new Date(ago(MINUTE)),
          },
          {
            ...orphan,
            name: 'running',
            status: 'RUNNING',
            startDate: new Date(ago(40 * MINUTE)),
            stopDate: undefined,
          },
          { ...orphan, name: 'recorded', status: 'FAILED' },
        ],
      });
      mock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(result.recorded).toBe(0);
      expect(await ledger.runs.find('just-ended')).toBeUndefined();
      expect(await ledger.runs.find('running')).toBeUndefined();
      expect((await ledger.jobs.getState('heartbeat')).sweptUntil).toBe(ago(40 * MINUTE));
    });

    it('stops listing at its mark', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.setSweptUntil('heartbeat', ago(HOUR / 2));
      const { sfn, mock } = fakeStepFunctions();
      mock
        .on(ListExecutionsCommand, { stateMachineArn: stateMachineArn('heartbeat') })
        .resolves({ executions: [orphan], nextToken: 'more' });

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(result.recorded).toBe(0);
      const listed = mock.commandCalls(ListExecutionsCommand, {
        stateMachineArn: stateMachineArn('heartbeat'),
      });
      expect(listed).toHaveLength(1);
    });
  });

  describe('stale locks', () => {
    it('releases at once a lock whose run is final, even within its lease', async () => {
      const ledger = await db.fresh();
      const done = runningRecord({ runId: 'done', startedAt: ago(3 * HOUR) });
      await ledger.runs.create(done);
      await ledger.runs.finalize(done, { status: RunStatus.SUCCEEDED, endedAt: ago(2 * HOUR) });
      await ledger.jobs.acquireLock('heartbeat', 'done', ago(3 * HOUR), ago(-HOUR));
      const { sfn } = fakeStepFunctions();

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(result.releasedLocks).toEqual([{ jobId: 'heartbeat', holderRunId: 'done' }]);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
    });

    it('keeps the lock of an unrecorded holder whose execution is still running (StartRun deciding)', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.acquireLock('heartbeat', 'deciding', ago(MINUTE), ago(-HOUR));
      const { sfn, mock } = fakeStepFunctions();
      mock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(result.locksReleased).toBe(0);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBe('deciding');
    });

    it('releases an expired lock whose run is final, and keeps a live one', async () => {
      const ledger = await db.fresh();
      const done = runningRecord({ runId: 'done', startedAt: ago(3 * HOUR) });
      await ledger.runs.create(done);
      await ledger.runs.finalize(done, { status: RunStatus.SUCCEEDED, endedAt: ago(2 * HOUR) });
      await ledger.jobs.acquireLock('heartbeat', 'done', ago(3 * HOUR), ago(MINUTE));
      await ledger.jobs.acquireLock('cleanup', 'busy', ago(MINUTE), ago(-HOUR));
      const { sfn, mock } = fakeStepFunctions();
      mock.on(DescribeExecutionCommand, { executionArn: executionArn('cleanup', 'busy') }).resolves({
        status: 'RUNNING',
      });

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(result.locksReleased).toBe(1);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
      expect((await ledger.jobs.getState('cleanup')).lockRunId).toBe('busy');
    });

    it('releases the lock of a holder that was never recorded and whose execution does not exist', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.acquireLock('heartbeat', 'ghost', ago(3 * HOUR), ago(-HOUR));
      const { sfn, mock } = fakeStepFunctions();
      mock
        .on(DescribeExecutionCommand)
        .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });
      expect(result.locksReleased).toBe(1);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
    });

    it('settles the RUNNING holder of an expired lock even when it is older than the look-back window', async () => {
      const ledger = await db.fresh();
      await running(ledger, 'old', ago(3 * DAY));
      await ledger.jobs.acquireLock('heartbeat', 'old', ago(3 * DAY), ago(2 * DAY));
      const { sfn, mock, described } = fakeStepFunctions();
      mock
        .on(DescribeExecutionCommand)
        .resolves({ status: 'TIMED_OUT', stopDate: new Date(ago(3 * DAY - HOUR)) });

      const result = await sweep({}, { ledger, env, now: clockAt(NOW).now, sfn });

      expect(described()).toEqual([executionArn('heartbeat', 'old')]);
      expect(result).toMatchObject({ finalized: 1, locksReleased: 1 });
      expect((await ledger.runs.get('old')).status).toBe(RunStatus.TIMED_OUT);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
    });
  });
});
