import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import type { Ledger } from '../../../shared/ledger/ledger';
import { outputSummary } from '../../../tasks/lifecycle/execution-record';
import { finishRun } from '../../../tasks/lifecycle/finish-run';
import { runningRecord, runRef } from '../../helpers/builders';
import { clockAt } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T10:00:42.000Z';

async function runningWithLock(ledger: Ledger, runId: string): Promise<void> {
  await ledger.runs.create(runningRecord({ runId, startedAt: T0 }));
  await ledger.jobs.acquireLock('heartbeat', runId, T0, '2026-11-30T12:00:00.000Z');
}

describe('FinishRun', () => {
  it('marks the run SUCCEEDED with its results, releases the lock and records the success on the job', async () => {
    const ledger = await db.fresh();
    await runningWithLock(ledger, 'run-1');
    const results = { Heartbeat: { message: 'hi', lagMs: 120 } };

    const result = await finishRun(
      { run: runRef({ runId: 'run-1', startedAt: T0 }), results },
      { ledger, env: {}, now: clockAt(T1).now },
    );

    expect(result).toEqual({
      runId: 'run-1',
      status: RunStatus.SUCCEEDED,
      durationMs: 42_000,
      finalized: true,
    });
    const run = await ledger.runs.get('run-1');
    expect(run).toMatchObject({ status: RunStatus.SUCCEEDED, endedAt: T1, durationMs: 42_000 });
    // The results stay on the step records: the run item does not grow with them.
    expect(run).not.toHaveProperty('output');
    const state = await ledger.jobs.getState('heartbeat');
    expect(state.lockRunId).toBeUndefined();
    expect(state.lastSuccess).toEqual({
      runId: 'run-1',
      status: RunStatus.SUCCEEDED,
      startedAt: T0,
      endedAt: T1,
    });
    expect(state.counters).toEqual({ SUCCEEDED: 1 });
  });

  it('keeps the run item small whatever the results: they are on the steps', async () => {
    const ledger = await db.fresh();
    await runningWithLock(ledger, 'run-1');
    const results = {
      Scan: { ids: Array.from({ length: 5_000 }, (_, i) => `vol-${i.toString(16).padStart(17, '0')}`) },
    };

    await finishRun(
      { run: runRef({ runId: 'run-1', startedAt: T0 }), results },
      { ledger, env: {}, now: clockAt(T1).now },
    );

    const run = await ledger.runs.get('run-1');
    expect(run.status).toBe(RunStatus.SUCCEEDED);
    expect(Buffer.byteLength(JSON.stringify(run), 'utf8')).toBeLessThan(1024);
  });

  it('on a retry after the run was finalized only releases the lock and counts nothing twice', async () => {
    const ledger = await db.fresh();
    await runningWithLock(ledger, 'run-1');
    const event = { run: runRef({ runId: 'run-1', startedAt: T0 }), results: {} };
    await finishRun(event, { ledger, env: {}, now: clockAt(T1).now });
    await ledger.jobs.acquireLock('heartbeat', 'run-1', T1, '2026-11-30T12:00:00.000Z');

    const retry = await finishRun(event, { ledger, env: {}, now: clockAt('2026-11-30T10:01:00.000Z').now });

    expect(retry).toMatchObject({ status: RunStatus.SUCCEEDED, durationMs: 42_000, finalized: false });
    const state = await ledger.jobs.getState('heartbeat');
    expect(state.lockRunId).toBeUndefined();
    expect(state.counters).toEqual({ SUCCEEDED: 1 });
  });
});

describe('outputSummary', () => {
  it('keeps small results whole', () => {
    expect(outputSummary({ a: 1 })).toEqual({ text: '{"a":1}', truncated: false });
  });

  it('never splits a multi-byte character', () => {
    const { text, truncated } = outputSummary({ s: 'ééééé' }, 10);
    expect(truncated).toBe(true);
    expect(text).toBe('{"s":"éé');
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(10);
  });
});
