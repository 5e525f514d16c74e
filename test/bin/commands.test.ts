import '../helpers/quiet';
import { AUDIT_CSV_COLUMNS, auditCommand } from '../../bin/cli/audit-command';
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
  return { out: (text) => out.push(text), note: (text) => out.push(text), text: () => out.join('\n') };
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

  it('says what local mode could not deliver once the run ended, beside the record', async () => {
    const ledger = await db.fresh();
    await ledger.runs.create(runningRecord({ runId: 'cli-1', status: RunStatus.FAILED }));
    const io = lines();
    const target = fakeTarget(
      ledger,
      {
        status: 'FAILED',
        statusEventError: 'LedgerUnavailable: down',
        notifyError: 'cli-1: BatchItemFailure: the function reported the record as a batch item failure',
      },
      'local',
    );
    expect(await runCommand(target, jobs, io, options)).toBe(ExitCode.RUN_FAILED);
    expect(io.text()).toContain(
      "The run's end did not reach the reconciler (LedgerUnavailable: down); the next stepjobs command's recovery pass records it.",
    );
    expect(io.text()).toContain(
      "The run notifier was not told of this run's end (cli-1: BatchItemFailure: the function reported",
    );
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

  it('keeps every filter in the hint for the next page', async () => {
    const ledger = await db.fresh();
    for (const [i, runId] of ['f-1', 'f-2', 'ok-1'].entries())
      await ledger.runs.create(
        runningRecord({
          runId,
          startedAt: `2026-11-30T1${i}:00:00.000Z`,
          trigger: { type: 'cli' },
          status: runId.startsWith('f') ? RunStatus.FAILED : RunStatus.SUCCEEDED,
        }),
      );
    const target = fakeTarget(ledger, {}, 'local');
    const filters = { status: RunStatus.FAILED, trigger: 'cli' as const, since: '2026-11-30T00:00:00.000Z' };
    const first = lines();
    await historyCommand(target, jobs, first, { jobId: 'heartbeat', limit: 1, ...filters });
    expect(first.text()).toContain('f-2');
    const hint = /^More: (.*)$/m.exec(first.text())?.[1] ?? '';
    expect(hint).toMatch(
      /^stepjobs history heartbeat --status FAILED --trigger cli --since 2026-11-30T00:00:00.000Z --limit 1 --cursor \S+$/,
    );
    const second = lines();
    const cursor = /--cursor (\S+)$/.exec(hint)?.[1];
    await historyCommand(target, jobs, second, { jobId: 'heartbeat', limit: 1, ...filters, cursor });
    expect(second.text()).toContain('f-1');
    expect(second.text()).not.toContain('ok-1');
    expect(second.text()).not.toContain('More:');
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
    expect(text).toContain('(by jane)');
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

describe('auditCommand', () => {
  async function auditLedger() {
    const ledger = await db.fresh();
    const runs = [
      { runId: 'a-1', jobId: 'heartbeat', status: RunStatus.SUCCEEDED, at: '2026-11-30T10:00:00.000Z' },
      { runId: 'b-1', jobId: 'cleanup', status: RunStatus.FAILED, at: '2026-11-30T11:00:00.000Z' },
      { runId: 'a-2', jobId: 'heartbeat', status: RunStatus.FAILED, at: '2026-11-30T12:00:00.000Z' },
    ];
    for (const r of runs)
      await ledger.runs.create(
        runningRecord({
          runId: r.runId,
          jobId: r.jobId,
          startedAt: r.at,
          status: r.status,
          trigger: { type: 'cli', principal: 'arn:aws:iam::123456789012:user/jane, "ops"' },
          ...(r.status === RunStatus.FAILED ? { error: { name: 'Boom', cause: 'it broke' } } : {}),
        }),
      );
    return ledger;
  }
  const allJobs = [heartbeat, { ...heartbeat, id: 'cleanup' }];

  it('lists every job’s runs newest first, pages with a hint that keeps the filters', async () => {
    const target = fakeTarget(await auditLedger(), {}, 'local');
    const io = lines();
    await auditCommand(target, allJobs, io, { limit: 2, format: 'table', since: '2026-11-30T00:00:00.000Z' });
    const text = io.text();
    expect(text.indexOf('a-2')).toBeLessThan(text.indexOf('b-1'));
    expect(text).not.toContain('a-1');
    expect(text).toMatch(/^More: stepjobs audit --since 2026-11-30T00:00:00.000Z --limit 2 --cursor \S+$/m);

    const failed = lines();
    await auditCommand(target, allJobs, failed, { limit: 10, format: 'table', status: RunStatus.FAILED });
    expect(failed.text()).toContain('a-2');
    expect(failed.text()).toContain('b-1');
    expect(failed.text()).not.toContain('a-1');
    expect(failed.text()).not.toContain('More:');

    const oneJob = lines();
    await auditCommand(target, allJobs, oneJob, { limit: 10, format: 'table', jobId: 'cleanup' });
    expect(oneJob.text()).toContain('b-1');
    expect(oneJob.text()).not.toContain('a-2');
  });

  it('writes CSV with a header, quoting what needs it, and the hint beside it', async () => {
    const target = fakeTarget(await auditLedger(), {}, 'local');
    const out: string[] = [];
    const notes: string[] = [];
    await auditCommand(
      target,
      allJobs,
      { out: (t) => out.push(t), note: (t) => notes.push(t) },
      { limit: 2, format: 'csv' },
    );
    const [header, first, second, ...rest] = out.join('\n').split('\n');
    expect(header).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(rest).toEqual([]);
    expect(first).toMatch(
      /^a-2,heartbeat,FAILED,cli,"arn:aws:iam::123456789012:user\/jane, ""ops""",,2026-11-30T12:00:00.000Z,.*,Boom: it broke,/,
    );
    expect(second).toMatch(/^b-1,cleanup,FAILED,/);
    expect(notes).toEqual([expect.stringMatching(/^More: stepjobs audit --limit 2 --csv --cursor \S+$/)]);
  });

  it('--json prints the page with its cursor', async () => {
    const io = lines();
    await auditCommand(fakeTarget(await auditLedger(), {}, 'local'), allJobs, io, {
      limit: 5,
      format: 'json',
    });
    const page = JSON.parse(io.text()) as { items: Array<{ runId: string }>; cursor?: string };
    expect(page.items.map((r) => r.runId)).toEqual(['a-2', 'b-1', 'a-1']);
    expect(page.cursor).toBeUndefined();
  });
});
