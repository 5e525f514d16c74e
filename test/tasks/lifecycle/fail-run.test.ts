import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import { failRun } from '../../../tasks/lifecycle/fail-run';
import { runningRecord, runRef } from '../../helpers/builders';
import { clockAt } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T10:00:05.000Z';
const LEASE = '2026-11-30T12:00:00.000Z';

describe('FailRun', () => {
  it('keeps the error name and the message of a Lambda error’s JSON Cause, without its stack trace', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-1', startedAt: T0 }));
    await ledger.jobs.acquireLock('heartbeat', 'run-1', T0, LEASE);
    const Cause = JSON.stringify({
      errorType: 'TransientError',
      errorMessage: 'EC2 throttled DescribeVolumes',
      trace: ['TransientError: EC2 throttled DescribeVolumes', '    at scan (/var/task/index.js:10:5)'],
    });

    const result = await failRun(
      { run: runRef({ runId: 'run-1', startedAt: T0 }), error: { Error: 'TransientError', Cause } },
      { ledger, env: {}, now: clockAt(T1).now },
    );

    const error = { name: 'TransientError', cause: 'EC2 throttled DescribeVolumes' };
    expect(result).toEqual({
      runId: 'run-1',
      status: RunStatus.FAILED,
      durationMs: 5_000,
      finalized: true,
      error,
    });
    const run = await ledger.runs.get('run-1');
    expect(run).toMatchObject({ status: RunStatus.FAILED, error, endedAt: T1 });
    expect(JSON.stringify(run)).not.toContain('/var/task');
    const state = await ledger.jobs.getState('heartbeat');
    expect(state).toMatchObject({
      lastRun: { runId: 'run-1', status: RunStatus.FAILED },
      counters: { FAILED: 1 },
    });
    expect(state.lockRunId).toBeUndefined();
    expect(state.lastSuccess).toBeUndefined();
  });

  it('keeps a plain-text Cause as it is', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-1', startedAt: T0 }));
    const Cause = 'Map state failed: 3 of 10 items failed, tolerated 0';

    await failRun(
      {
        run: runRef({ runId: 'run-1', startedAt: T0 }),
        error: { Error: 'States.ExceedToleratedFailureThreshold', Cause },
      },
      { ledger, env: {}, now: clockAt(T1).now },
    );

    expect((await ledger.runs.get('run-1')).error).toEqual({
      name: 'States.ExceedToleratedFailureThreshold',
      cause: Cause,
    });
  });

  it('on a retry keeps the first outcome and counts it once', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-1', startedAt: T0 }));
    const event = { run: runRef({ runId: 'run-1', startedAt: T0 }), error: { Error: 'States.Timeout' } };
    await failRun(event, { ledger, env: {}, now: clockAt(T1).now });
    const retry = await failRun(event, { ledger, env: {}, now: clockAt(T1).now });
    expect(retry).toMatchObject({ status: RunStatus.FAILED, finalized: false });
    expect((await ledger.jobs.getState('heartbeat')).counters).toEqual({ FAILED: 1 });
  });
});
