import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import { RunNotFound } from '../../../shared/errors';
import { runningRecord } from '../../helpers/builders';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T10:05:00.000Z';
const LEASE = '2026-11-30T12:00:00.000Z';

describe('Ledger.closeRun', () => {
  it('finalizes the run, records it on the job and releases its lock', async () => {
    const ledger = await db.fresh();
    const run = runningRecord({ runId: 'run-1', startedAt: T0 });
    await ledger.runs.create(run);
    await ledger.jobs.acquireLock(run.jobId, run.runId, T0, LEASE);

    const closed = await ledger.closeRun(run, { status: RunStatus.SUCCEEDED, endedAt: T1 }, T1);

    expect(closed).toMatchObject({ finalized: true, lockReleased: true });
    expect(closed.run).toMatchObject({ status: RunStatus.SUCCEEDED, endedAt: T1, durationMs: 300_000 });
    const state = await ledger.jobs.getState(run.jobId);
    expect(state.lockRunId).toBeUndefined();
    expect(state.lastRun).toEqual({
      runId: 'run-1',
      status: RunStatus.SUCCEEDED,
      startedAt: T0,
      endedAt: T1,
    });
    expect(state.counters).toEqual({ SUCCEEDED: 1 });
  });

  it('on a second close keeps the first outcome, counts once, and only releases a lock still held', async () => {
    const ledger = await db.fresh();
    const run = runningRecord({ runId: 'run-1', startedAt: T0 });
    await ledger.runs.create(run);
    await ledger.closeRun(run, { status: RunStatus.FAILED, endedAt: T1, error: { name: 'Boom' } }, T1);
    // The same run holds the lock again (a racing StartRun retry): the late finalizer gives it back.
    await ledger.jobs.acquireLock(run.jobId, run.runId, T1, LEASE);

    const late = await ledger.closeRun(run, { status: RunStatus.ABORTED, endedAt: T1 }, T1);

    expect(late).toMatchObject({ finalized: false, lockReleased: true });
    expect(late.run).toMatchObject({ status: RunStatus.FAILED, error: { name: 'Boom' } });
    const state = await ledger.jobs.getState(run.jobId);
    expect(state.counters).toEqual({ FAILED: 1 });
    expect(state.lockRunId).toBeUndefined();
  });

  it('leaves another run’s lock alone', async () => {
    const ledger = await db.fresh();
    const run = runningRecord({ runId: 'run-1', startedAt: T0 });
    await ledger.runs.create(run);
    await ledger.jobs.acquireLock(run.jobId, 'run-2', T0, LEASE);
    const closed = await ledger.closeRun(run, { status: RunStatus.SUCCEEDED, endedAt: T1 }, T1);
    expect(closed.lockReleased).toBe(false);
    expect((await ledger.jobs.getState(run.jobId)).lockRunId).toBe('run-2');
  });

  it('fails with RunNotFound for a run that was never recorded', async () => {
    const ledger = await db.fresh();
    const ghost = runningRecord({ runId: 'ghost' });
    await expect(
      ledger.closeRun(ghost, { status: RunStatus.FAILED, endedAt: T1 }, T1),
    ).rejects.toBeInstanceOf(RunNotFound);
  });
});
