import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import { DuplicateSlot, LockHeld } from '../../../shared/errors';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T11:00:00.000Z';
const T2 = '2026-11-30T12:00:00.000Z';

describe('JobsRepository', () => {
  it('gives a job that never ran an empty, unpaused state', async () => {
    const ledger = await db.fresh();
    await expect(ledger.jobs.getState('never')).resolves.toEqual({
      jobId: 'never',
      paused: false,
      counters: {},
    });
  });

  describe('claimSlot', () => {
    it('lets the same run claim a slot again (a Lambda retry) and refuses another run, naming the owner', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.claimSlot('heartbeat', T0, 'run-a', T2);
      await expect(ledger.jobs.claimSlot('heartbeat', T0, 'run-a', T2)).resolves.toEqual({});
      const duplicate = ledger.jobs.claimSlot('heartbeat', T0, 'run-b', T2);
      await expect(duplicate).rejects.toBeInstanceOf(DuplicateSlot);
      await expect(duplicate).rejects.toMatchObject({
        name: 'DuplicateSlot',
        ownerRunId: 'run-a',
        scheduledTime: T0,
      });
    });

    it('keeps slots per job and per scheduled time', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.claimSlot('heartbeat', T0, 'run-a', T2);
      await expect(ledger.jobs.claimSlot('heartbeat', T1, 'run-b', T2)).resolves.toEqual({});
      await expect(ledger.jobs.claimSlot('other', T0, 'run-c', T2)).resolves.toEqual({});
    });
  });

  describe('acquireLock', () => {
    it('takes a free lock', async () => {
      const ledger = await db.fresh();
      await expect(ledger.jobs.acquireLock('job', 'run-a', T0, T1)).resolves.toEqual({});
      const state = await ledger.jobs.getState('job');
      expect(state).toMatchObject({ lockRunId: 'run-a', lockExpiresAt: T1 });
    });

    it('refuses a live lease held by another run, naming the holder and the lease end', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.acquireLock('job', 'run-a', T0, T2);
      const held = ledger.jobs.acquireLock('job', 'run-b', T1, T2);
      await expect(held).rejects.toBeInstanceOf(LockHeld);
      await expect(held).rejects.toMatchObject({
        name: 'LockHeld',
        holderRunId: 'run-a',
        leaseExpiresAt: T2,
      });
      expect((await ledger.jobs.getState('job')).lockRunId).toBe('run-a');
    });

    it('lets the holder take its own lock again and extends the lease', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.acquireLock('job', 'run-a', T0, T1);
      await expect(ledger.jobs.acquireLock('job', 'run-a', T0, T2)).resolves.toEqual({});
      expect((await ledger.jobs.getState('job')).lockExpiresAt).toBe(T2);
    });

    it('takes over an expired lease and says from whom', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.acquireLock('job', 'run-a', T0, T1);
      await expect(ledger.jobs.acquireLock('job', 'run-b', T2, '2026-11-30T13:00:00.000Z')).resolves.toEqual({
        tookOverFrom: 'run-a',
      });
      expect((await ledger.jobs.getState('job')).lockRunId).toBe('run-b');
    });
  });

  describe('recordRunEnd', () => {
    it('releases the run’s own lock and records last run, last success and counters', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.acquireLock('job', 'run-a', T0, T2);
      const summary = { runId: 'run-a', status: RunStatus.SUCCEEDED, startedAt: T0, endedAt: T1 };
      await expect(ledger.jobs.recordRunEnd('job', summary, T1)).resolves.toBe(true);
      const state = await ledger.jobs.getState('job');
      expect(state.lockRunId).toBeUndefined();
      expect(state.lockExpiresAt).toBeUndefined();
      expect(state.lastRun).toEqual(summary);
      expect(state.lastSuccess).toEqual(summary);
      expect(state.counters).toEqual({ SUCCEEDED: 1 });
    });

    it('keeps a lock held by another run and does not move last success on a failure', async () => {
      const ledger = await db.fresh();
      const success = { runId: 'run-0', status: RunStatus.SUCCEEDED, startedAt: T0, endedAt: T0 };
      await ledger.jobs.recordRunEnd('job', success, T0);
      await ledger.jobs.acquireLock('job', 'run-b', T0, T2);
      const failure = { runId: 'run-a', status: RunStatus.FAILED, startedAt: T0, endedAt: T1 };
      await expect(ledger.jobs.recordRunEnd('job', failure, T1)).resolves.toBe(false);
      const state = await ledger.jobs.getState('job');
      expect(state).toMatchObject({ lockRunId: 'run-b', lastRun: failure, lastSuccess: success });
      expect(state.counters).toEqual({ SUCCEEDED: 1, FAILED: 1 });
    });

    it('counts every status separately', async () => {
      const ledger = await db.fresh();
      const statuses = [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT];
      for (const [i, status] of statuses.entries()) {
        await ledger.jobs.recordRunEnd('job', { runId: `run-${i}`, status, startedAt: T0, endedAt: T1 }, T1);
      }
      expect((await ledger.jobs.getState('job')).counters).toEqual({ SUCCEEDED: 2, FAILED: 1, TIMED_OUT: 1 });
    });
  });

  describe('countOutcome', () => {
    it('adds to the counter only: last run and lock stay as they were', async () => {
      const ledger = await db.fresh();
      const last = { runId: 'run-0', status: RunStatus.SUCCEEDED, startedAt: T0, endedAt: T0 };
      await ledger.jobs.recordRunEnd('job', last, T0);
      await ledger.jobs.acquireLock('job', 'run-a', T0, T2);
      await ledger.jobs.countOutcome('job', RunStatus.DUPLICATE, T1);
      await ledger.jobs.countOutcome('job', RunStatus.DUPLICATE, T1);
      await ledger.jobs.countOutcome('job', RunStatus.SKIPPED, T1);
      const state = await ledger.jobs.getState('job');
      expect(state.counters).toEqual({ SUCCEEDED: 1, DUPLICATE: 2, SKIPPED: 1 });
      expect(state).toMatchObject({ lastRun: last, lockRunId: 'run-a', lockExpiresAt: T2 });
    });

    it('creates the job state when it is the first thing recorded', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.countOutcome('fresh', RunStatus.SKIPPED, T0);
      expect(await ledger.jobs.getState('fresh')).toMatchObject({
        jobId: 'fresh',
        paused: false,
        counters: { SKIPPED: 1 },
      });
    });
  });

  it('releaseLock releases only the holder’s lock', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.acquireLock('job', 'run-a', T0, T2);
    await expect(ledger.jobs.releaseLock('job', 'run-b', T1)).resolves.toBe(false);
    expect((await ledger.jobs.getState('job')).lockRunId).toBe('run-a');
    await expect(ledger.jobs.releaseLock('job', 'run-a', T1)).resolves.toBe(true);
    expect((await ledger.jobs.getState('job')).lockRunId).toBeUndefined();
    await expect(ledger.jobs.releaseLock('job', 'run-a', T1)).resolves.toBe(false);
  });

  it('setPaused pauses with who, when and why, and resuming clears them', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.setPaused('job', true, 'arn:aws:iam::123456789012:user/ops', T0, 'maintenance');
    expect(await ledger.jobs.getState('job')).toMatchObject({
      paused: true,
      pausedBy: 'arn:aws:iam::123456789012:user/ops',
      pausedAt: T0,
      pauseReason: 'maintenance',
    });
    await ledger.jobs.setPaused('job', false, 'ops', T1);
    const resumed = await ledger.jobs.getState('job');
    expect(resumed.paused).toBe(false);
    expect(resumed).not.toHaveProperty('pausedBy');
    expect(resumed).not.toHaveProperty('pauseReason');
  });
});
