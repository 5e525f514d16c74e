import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import { executionFailure } from '../../../shared/errors';
import { failOrResume, failRun } from '../../../tasks/lifecycle/fail-run';
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

describe('FailRun on a redrive', () => {
  const redrive = (count: number) => ({ count, overlap: 'skip' as const, leaseSeconds: 3_600 });
  const event = (count: number) => ({
    run: runRef({ runId: 'run-r', startedAt: T0 }),
    error: { Error: 'PermanentError', Cause: 'no such bucket' },
    failedState: 'Work',
    redrive: redrive(count),
  });

  it('reopens a FAILED run once per redrive and names the state to resume; the step failing again fails it again', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-r', startedAt: T0 }));
    await ledger.jobs.acquireLock('heartbeat', 'run-r', T0, LEASE);
    const deps = { ledger, env: {}, now: clockAt(T1).now };
    // The first failure: no redrive yet.
    expect(await failOrResume(event(0), deps)).toMatchObject({
      failed: { status: RunStatus.FAILED, finalized: true },
    });

    // Step Functions restarts FailRun with the same input and RedriveCount 1.
    expect(await failOrResume(event(1), deps)).toEqual({ resume: { resume: 'Work' } });
    const reopened = await ledger.runs.get('run-r');
    expect(reopened).toMatchObject({
      status: RunStatus.RUNNING,
      redriveCount: 1,
      redrivenAt: T1,
      redrives: [{ at: T1, status: RunStatus.FAILED, endedAt: T1, error: { name: 'PermanentError' } }],
    });
    expect(reopened.endedAt).toBeUndefined();
    expect(reopened.error).toBeUndefined();
    const state = await ledger.jobs.getState('heartbeat');
    expect(state).toMatchObject({ lockRunId: 'run-r', counters: { FAILED: 0 } });

    // The resumed step failed again: FailRun comes back with the same count and records the failure.
    expect(await failOrResume(event(1), deps)).toMatchObject({
      failed: { status: RunStatus.FAILED, finalized: true },
    });
    expect(await ledger.runs.get('run-r')).toMatchObject({ status: RunStatus.FAILED, redriveCount: 1 });
    expect((await ledger.jobs.getState('heartbeat')).counters.FAILED).toBe(1);
  });

  it('refuses to reopen while another run holds the lock, and changes nothing', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'run-r', startedAt: T0 }));
    const deps = { ledger, env: {}, now: clockAt(T1).now };
    await failOrResume(event(0), deps);
    await ledger.jobs.acquireLock('heartbeat', 'run-other', T1, LEASE);

    await expect(failOrResume(event(1), deps)).rejects.toMatchObject({
      name: 'RedriveBlocked',
      message: expect.stringContaining('run run-other holds the job lock'),
    });
    const run = await ledger.runs.get('run-r');
    expect(run.status).toBe(RunStatus.FAILED);
    expect(run.redriveCount).toBeUndefined();
  });
});

describe('the error FailRun fails the execution with', () => {
  it('is the step’s own, with where it failed; a name the lifecycle reserves becomes StepFailed', () => {
    expect(executionFailure('Plan', { name: 'BlastRadiusExceeded', cause: 'too many' })).toMatchObject({
      name: 'BlastRadiusExceeded',
      message: 'Plan failed: too many',
    });
    for (const name of ['States.Timeout', 'Lambda.Unknown', 'LedgerUnavailable', 'StepNotStarted']) {
      expect(executionFailure('Work', { name, cause: 'x' })).toMatchObject({
        name: 'StepFailed',
        message: `Work failed: ${name}: x`,
      });
    }
  });
});
