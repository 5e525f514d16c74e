import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import type { ExecutionStatusChange } from '../../../shared/contracts';
import { reconcile, type ReconcileEvent } from '../../../tasks/lifecycle/reconcile';
import { executionArn, runningRecord, stateMachineArn } from '../../helpers/builders';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { storedJson } from '../../../shared/json';
import { clockAt } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:00.000Z';
const STOP = '2026-11-30T10:07:30.000Z';
const NOW = '2026-11-30T10:07:31.000Z';
const env = {
  STATE_MACHINES: JSON.stringify([
    {
      jobId: 'heartbeat',
      stateMachineArn: stateMachineArn('heartbeat'),
      timeoutSeconds: 600,
      retentionDays: 10,
    },
  ]),
};

/** The EventBridge event for execution `name` of the heartbeat machine. */
function statusChange(name: string, detail: Partial<ExecutionStatusChange>): ReconcileEvent {
  return {
    version: '0',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    detail: {
      executionArn: executionArn('heartbeat', name),
      stateMachineArn: stateMachineArn('heartbeat'),
      name,
      status: 'ABORTED',
      startDate: Date.parse(T0),
      stopDate: Date.parse(STOP),
      input: '{}',
      ...detail,
    },
  };
}

/** Step Functions is asked only for inputs an event left out; a test that expects that passes its own. */
const noStepFunctions = () => {
  throw new Error('the reconciler asked Step Functions although the event had everything');
};
const deps = (ledger: Awaited<ReturnType<typeof db.fresh>>) => ({
  ledger,
  env,
  now: clockAt(NOW).now,
  sfn: noStepFunctions,
});

describe('Reconcile', () => {
  it('finalizes an ABORTED run that was still RUNNING and releases its lock', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-1', startedAt: T0 }));
    await ledger.jobs.acquireLock('heartbeat', 'run-1', T0, '2026-11-30T12:00:00.000Z');

    const result = await reconcile(statusChange('run-1', { status: 'ABORTED' }), deps(ledger));

    expect(result).toEqual({
      action: 'finalized',
      jobId: 'heartbeat',
      runId: 'run-1',
      status: RunStatus.ABORTED,
      lockReleased: true,
    });
    expect(await ledger.runs.get('run-1')).toMatchObject({
      status: RunStatus.ABORTED,
      error: { name: 'ABORTED' },
      endedAt: STOP,
      durationMs: 450_000,
      finalizedBy: 'reconciler',
    });
    const state = await ledger.jobs.getState('heartbeat');
    expect(state.lockRunId).toBeUndefined();
    expect(state).toMatchObject({
      lastRun: { runId: 'run-1', status: RunStatus.ABORTED },
      counters: { ABORTED: 1 },
    });
  });

  it('finalizes TIMED_OUT and FAILED with the error and cause Step Functions reports', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-1', startedAt: T0 }));
    await ledger.runs.create(runningRecord({ runId: 'run-2', startedAt: T0 }));

    await reconcile(statusChange('run-1', { status: 'TIMED_OUT', error: 'States.Timeout' }), deps(ledger));
    await reconcile(
      statusChange('run-2', {
        status: 'FAILED',
        error: 'States.Runtime',
        cause:
          "An error occurred while executing the state 'Fanout'. The JSONPath '$.items' could not be found",
      }),
      deps(ledger),
    );

    expect(await ledger.runs.get('run-1')).toMatchObject({
      status: RunStatus.TIMED_OUT,
      error: { name: 'States.Timeout' },
    });
    expect((await ledger.runs.get('run-2')).error).toEqual({
      name: 'States.Runtime',
      cause: expect.stringContaining("The JSONPath '$.items' could not be found"),
    });
  });

  it('leaves a run that FailRun already finalized as it is, but releases a lock it still holds', async () => {
    const ledger = await db.fresh();
    const run = runningRecord({ runId: 'run-1', startedAt: T0 });
    await ledger.runs.create(run);
    await ledger.closeRun(run, { status: RunStatus.FAILED, endedAt: STOP, error: { name: 'Boom' } }, STOP);
    await ledger.jobs.acquireLock('heartbeat', 'run-1', STOP, '2026-11-30T12:00:00.000Z');

    const result = await reconcile(statusChange('run-1', { status: 'FAILED', error: 'Boom' }), deps(ledger));

    expect(result).toMatchObject({ action: 'already-final', status: RunStatus.FAILED, lockReleased: true });
    expect(await ledger.runs.get('run-1')).not.toHaveProperty('finalizedBy');
    const state = await ledger.jobs.getState('heartbeat');
    expect(state.lockRunId).toBeUndefined();
    expect(state.counters).toEqual({ FAILED: 1 });
  });

  it('records a run that StartRun never recorded, from the event, and counts it', async () => {
    const ledger = await db.fresh();
    // StartRun took the lock and died before recording the run.
    await ledger.jobs.acquireLock('heartbeat', 'run-9', T0, '2026-11-30T12:00:00.000Z');
    const input = JSON.stringify({
      trigger: { type: 'schedule', scheduledTime: '2026-11-30T10:00:00Z', attempt: '1' },
      message: 'tick',
    });
    const cause = JSON.stringify({ errorType: 'Error', errorMessage: 'Cannot find module', trace: ['x'] });

    const result = await reconcile(
      statusChange('run-9', { status: 'FAILED', input, error: 'Lambda.Unknown', cause }),
      deps(ledger),
    );

    expect(result).toEqual({
      action: 'created',
      jobId: 'heartbeat',
      runId: 'run-9',
      status: RunStatus.FAILED,
      lockReleased: true,
    });
    expect(await ledger.runs.get('run-9')).toEqual({
      runId: 'run-9',
      executionArn: executionArn('heartbeat', 'run-9'),
      jobId: 'heartbeat',
      status: RunStatus.FAILED,
      trigger: { type: 'schedule', scheduledTime: '2026-11-30T10:00:00Z', attempt: 1 },
      rawInput: storedJson(input, 1024),
      error: { name: 'Lambda.Unknown', cause: 'Error: Cannot find module' },
      startedAt: T0,
      endedAt: STOP,
      durationMs: 450_000,
      expiresAt: Date.parse(T0) / 1000 + 10 * 86_400,
      finalizedBy: 'reconciler',
    });
    const state = await ledger.jobs.getState('heartbeat');
    expect(state.counters).toEqual({ FAILED: 1 });
    expect(state.lockRunId).toBeUndefined();
    const { items } = await ledger.runs.listByJob('heartbeat');
    expect(items.map((run) => run.runId)).toEqual(['run-9']);
  });

  it('records a missing run of a console execution as manual, keeping unparseable input as text', async () => {
    const ledger = await db.fresh();
    await reconcile(statusChange('run-1', { status: 'ABORTED', input: 'not json' }), deps(ledger));
    expect(await ledger.runs.get('run-1')).toMatchObject({
      trigger: { type: 'manual' },
      rawInput: { text: 'not json' },
    });
  });

  it.each([
    ['a constructor key', '{"constructor":1}'],
    ['a __proto__ key', '{"__proto__":{"polluted":true}}'],
    ['a number beyond 2^53', '{"n":12345678901234567890}'],
    ['deep nesting', `${'['.repeat(5_000)}${']'.repeat(5_000)}`],
    ['odd unicode and an empty key', '{"":"\\ud800\\u0000 \\u2028"}'],
  ])('records a missing run from an event whatever its input holds: %s', async (_what, input) => {
    const ledger = await db.fresh();
    const result = await reconcile(statusChange('run-1', { status: 'FAILED', input }), deps(ledger));
    expect(result).toMatchObject({ action: 'created' });
    const { run } = await ledger.runs.detail('run-1');
    expect(run.rawInput).toEqual({ text: input });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads the input from Step Functions when the event left it out (too large for an event)', async () => {
    const ledger = await db.fresh();
    const input = JSON.stringify({ big: 'x'.repeat(250 * 1024) });
    const sfn = new SFNClient({ region: 'us-east-1' });
    mockClient(sfn)
      .on(DescribeExecutionCommand, { executionArn: executionArn('heartbeat', 'run-1') })
      .resolves({ status: 'FAILED', input, inputDetails: { included: true } });
    await reconcile(
      statusChange('run-1', { status: 'FAILED', input: null, inputDetails: { included: false } }),
      { ...deps(ledger), sfn: () => sfn },
    );
    const { run } = await ledger.runs.detail('run-1');
    expect(run.rawInput).toEqual(storedJson(input, 256 * 1024));
    expect(run).not.toHaveProperty('inputUnavailable');
  });

  it('ignores state machines that are not ours, and executions that are not final', async () => {
    const ledger = await db.fresh();
    const foreign = await reconcile(
      statusChange('run-1', {
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:someone-else',
      }),
      deps(ledger),
    );
    expect(foreign).toMatchObject({ action: 'ignored', reason: expect.stringContaining('someone-else') });
    const running = await reconcile(statusChange('run-1', { status: 'RUNNING' }), deps(ledger));
    expect(running).toMatchObject({ action: 'ignored' });
    await expect(ledger.runs.find('run-1')).resolves.toBeUndefined();
  });

  it('names STATE_MACHINES when it is missing', async () => {
    const ledger = await db.fresh();
    await expect(
      reconcile(statusChange('run-1', {}), { ledger, env: {}, now: clockAt(NOW).now, sfn: noStepFunctions }),
    ).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('STATE_MACHINES'),
    });
  });
});
