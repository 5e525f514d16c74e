import '../helpers/quiet';
import {
  exitCodeFor,
  historyCommand,
  jobsCommand,
  pauseCommand,
  runCommand,
  unlockCommand,
  type Output,
} from '../../bin/cli/commands';
import { CliError, ExitCode } from '../../bin/cli/errors';
import type { StartedRun, Target } from '../../bin/cli/target';
import { RunStatus } from '../../shared/constants';
import type { Ledger } from '../../shared/ledger/ledger';
import { jobs } from '../../workflows';
import { heartbeat } from '../../workflows/heartbeat';
import { runningRecord } from '../helpers/builders';
import { useEmbeddedLedger } from '../helpers/ledger';

const db = useEmbeddedLedger();

/** An output sink that keeps the lines. */
function lines(): Output & { text(): string } {
  const out: string[] = [];
  return { out: (text) => out.push(text), text: () => out.join('\n') };
}

/** A target over a real ledger whose startRun answers `started` (what AWS or the engine reported). */
function fakeTarget(ledger: Ledger, started: Partial<StartedRun> = {}, kind: Target['kind'] = 'aws'): Target {
  return {
    kind,
    jobIds: ['heartbeat'],
    ledger,
    startRun: async () => ({
      runId: 'cli-1',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm:cli-1',
      status: 'SUCCEEDED',
      ...started,
    }),
    principal: async () => 'arn:aws:iam::123456789012:user/jane',
    close: async () => undefined,
  };
}

describe('exitCodeFor', () => {
  it.each([
    [RunStatus.SUCCEEDED, ExitCode.OK],
    [RunStatus.FAILED, ExitCode.RUN_FAILED],
    [RunStatus.ABORTED, ExitCode.RUN_FAILED],
    [RunStatus.TIMED_OUT, ExitCode.RUN_FAILED],
    [RunStatus.SKIPPED, ExitCode.RUN_SKIPPED],
    [RunStatus.DUPLICATE, ExitCode.RUN_SKIPPED],
    [RunStatus.RUNNING, ExitCode.RUN_FAILED],
  ])('%s exits %i', (status, code) => {
    expect(exitCodeFor(status)).toBe(code);
  });
});

describe('runCommand', () => {
  const options = { jobId: 'heartbeat', input: {}, wait: true };

  it('exits with the status of the run record, and prints it with --record', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(
      runningRecord({
        runId: 'cli-1',
        status: RunStatus.SKIPPED,
        skipReason: 'overlap',
        relatedRunId: 'cli-0',
      }),
    );
    const io = lines();
    const code = await runCommand(fakeTarget(ledger), jobs, io, { ...options, showRecord: true });
    expect(code).toBe(ExitCode.RUN_SKIPPED);
    expect(io.text()).toContain('Starting heartbeat on AWS…');
    expect(io.text()).toContain('Run cli-1: SKIPPED (overlap)');
    expect(io.text()).toContain('Ledger record (DynamoDB):');
    expect(io.text()).toContain('  status     SKIPPED (overlap)');
  });

  it('prints the execution and the run as one JSON document with --json', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'cli-1', status: RunStatus.SUCCEEDED }));
    const io = lines();
    expect(await runCommand(fakeTarget(ledger), jobs, io, { ...options, json: true })).toBe(ExitCode.OK);
    expect(JSON.parse(io.text())).toMatchObject({
      execution: { runId: 'cli-1', status: 'SUCCEEDED' },
      run: { runId: 'cli-1', status: 'SUCCEEDED' },
      steps: [],
      actions: [],
    });
  });

  it('without wait on AWS, says how to follow the run and exits 0', async () => {
    const io = lines();
    const code = await runCommand(fakeTarget(await db.fresh(), { status: 'RUNNING' }), jobs, io, {
      ...options,
      wait: false,
    });
    expect(code).toBe(ExitCode.OK);
    expect(io.text()).toContain('Started cli-1');
    expect(io.text()).toContain('stepjobs show cli-1 --aws');
  });

  it('reports the execution itself when it left no run record', async () => {
    const io = lines();
    const target = fakeTarget(await db.fresh(), {
      status: 'FAILED',
      error: 'States.Runtime',
      cause: '{"errorType":"States.Runtime","errorMessage":"StartRun could not read its input"}',
    });
    expect(await runCommand(target, jobs, io, options)).toBe(ExitCode.RUN_FAILED);
    expect(io.text()).toContain('Execution FAILED: States.Runtime StartRun could not read its input');
  });

  it('refuses a job the target does not deploy', async () => {
    const target = { ...fakeTarget(await db.fresh()), jobIds: [] };
    await expect(runCommand(target, jobs, lines(), options)).rejects.toThrow(
      new CliError('Job "heartbeat" is not deployed on the aws target'),
    );
  });
});

describe('historyCommand', () => {
  it('pages with a cursor the next command can use', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'r-old', startedAt: '2026-11-30T10:00:00.000Z' }));
    await ledger.runs.create(runningRecord({ runId: 'r-new', startedAt: '2026-11-30T11:00:00.000Z' }));
    const target = fakeTarget(ledger, {}, 'local');

    const first = lines();
    await historyCommand(target, jobs, first, { jobId: 'heartbeat', limit: 1 });
    expect(first.text()).toContain('r-new');
    expect(first.text()).not.toContain('r-old');
    const cursor = /--cursor (\S+)$/m.exec(first.text())?.[1];
    expect(first.text()).toContain('More: stepjobs history heartbeat --limit 1 --cursor');

    const second = lines();
    await historyCommand(target, jobs, second, { jobId: 'heartbeat', limit: 1, cursor });
    expect(second.text()).toContain('r-old');
  });

  it('says when no run matches', async () => {
    const io = lines();
    await historyCommand(fakeTarget(await db.fresh()), jobs, io, {
      jobId: 'heartbeat',
      limit: 20,
      status: RunStatus.FAILED,
      since: '2026-11-23T12:00:00.000Z',
    });
    expect(io.text()).toBe('No runs of heartbeat with status FAILED since 2026-11-23 12:00:00Z.');
  });
});

describe('jobsCommand', () => {
  it('shows the schedule, the next fire times, who paused the job and its last run', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.setPaused('heartbeat', true, 'jane', '2026-11-30T10:00:00.000Z', 'maintenance');
    const io = lines();
    await jobsCommand(fakeTarget(ledger), jobs, io, { now: new Date('2026-11-30T10:05:00Z') });
    const text = io.text();
    expect(text).toContain('rate(10 minutes)');
    expect(text).toContain('2026-11-30 10:10 UTC');
    expect(text).toContain('2026-11-30 10:30 UTC');
    expect(text).toContain('yes (by jane)');
    expect(text).toContain('never');
  });
});

describe('pause and unlock on AWS', () => {
  it('record the caller’s IAM ARN as who paused the job', async () => {
    const ledger = await db.fresh();
    await pauseCommand(fakeTarget(ledger), [heartbeat], lines(), {
      jobId: 'heartbeat',
      paused: true,
      reason: 'migration',
    });
    expect(await ledger.jobs.getState('heartbeat')).toMatchObject({
      paused: true,
      pausedBy: 'arn:aws:iam::123456789012:user/jane',
      pauseReason: 'migration',
    });
  });

  it('unlock releases the lock, keeps who and why, and says when the holder still runs', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'holder' }));
    await ledger.jobs.acquireLock(
      'heartbeat',
      'holder',
      '2026-11-30T10:00:00.000Z',
      '2026-11-30T12:00:00.000Z',
    );
    const out = lines();
    const now = new Date('2026-11-30T10:30:00.000Z');

    const code = await unlockCommand(fakeTarget(ledger), [heartbeat], out, {
      jobId: 'heartbeat',
      reason: 'container gone',
      now,
    });

    expect(code).toBe(ExitCode.OK);
    expect(out.text()).toContain('released the lock of run holder (RUNNING)');
    expect(out.text()).toContain('unlock by arn:aws:iam::123456789012:user/jane');
    expect(out.text()).toContain('still RUNNING');
    expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
    expect(await ledger.jobs.operations('heartbeat')).toEqual([
      {
        jobId: 'heartbeat',
        op: 'unlock',
        by: 'arn:aws:iam::123456789012:user/jane',
        reason: 'container gone',
        at: now.toISOString(),
        holderRunId: 'holder',
        holderStatus: 'RUNNING',
        expiresAt: expect.any(Number),
      },
    ]);
    const again = lines();
    expect(
      await unlockCommand(fakeTarget(ledger), [heartbeat], again, { jobId: 'heartbeat', reason: 'x' }),
    ).toBe(ExitCode.OK);
    expect(again.text()).toBe('heartbeat is not locked; nothing to release.');
    await expect(
      unlockCommand(fakeTarget(ledger), [heartbeat], lines(), { jobId: 'heartbeat', reason: '  ' }),
    ).rejects.toThrow('--reason must say why');
  });
});
