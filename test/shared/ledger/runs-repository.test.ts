import '../../helpers/quiet';
import { RunStatus, StepStatus } from '../../../shared/constants';
import { RunAlreadyExists, RunAlreadyFinal, RunNotFound } from '../../../shared/errors';
import type { RunRecord } from '../../../shared/ledger/items';
import type { Ledger } from '../../../shared/ledger/ledger';
import { runningRecord, storedValue } from '../../helpers/builders';
import { MINUTE } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';
import { actionsOf } from '../../../shared/ledger/actions-repository';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:00.000Z';

/** `count` runs of `jobId`, one minute apart from `from`, with ids `<prefix>-00`, `-01`, ... (oldest first). */
async function createRuns(
  ledger: Ledger,
  count: number,
  options: {
    jobId?: string;
    from?: string;
    prefix?: string;
    status?: (i: number) => RunRecord['status'];
  } = {},
): Promise<RunRecord[]> {
  const from = Date.parse(options.from ?? T0);
  const runs: RunRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const run = runningRecord({
      runId: `${options.prefix ?? 'run'}-${String(i).padStart(2, '0')}`,
      jobId: options.jobId ?? 'heartbeat',
      startedAt: new Date(from + i * MINUTE).toISOString(),
      status: options.status?.(i) ?? RunStatus.RUNNING,
    });
    await ledger.runs.create(run);
    runs.push(run);
  }
  return runs;
}

const ids = (runs: readonly RunRecord[]) => runs.map((run) => run.runId);
/** What finalize needs to know of a run created by `runningRecord` (a manual run of heartbeat). */
const ref = (runId: string) => ({
  runId,
  jobId: 'heartbeat',
  startedAt: T0,
  trigger: { type: 'manual' as const },
});

describe('RunsRepository', () => {
  describe('create, get and find', () => {
    it('stores the run and returns it without key attributes', async () => {
      const ledger = await db.fresh();
      const run = runningRecord({
        runId: 'run-1',
        input: storedValue({ message: 'hi' }),
        trigger: { type: 'cli', principal: 'me' },
      });
      await ledger.runs.create(run);
      const stored = await ledger.runs.get('run-1');
      expect(stored).toEqual(run);
      expect(stored).not.toHaveProperty('pk');
      expect(stored).not.toHaveProperty('gsi1pk');
    });

    it('refuses a second run with the same id', async () => {
      const ledger = await db.fresh();
      await ledger.runs.create(runningRecord({ runId: 'run-1' }));
      const again = ledger.runs.create(runningRecord({ runId: 'run-1', jobId: 'other' }));
      await expect(again).rejects.toBeInstanceOf(RunAlreadyExists);
      expect((await ledger.runs.get('run-1')).jobId).toBe('heartbeat');
    });

    it('get throws RunNotFound, find answers undefined', async () => {
      const ledger = await db.fresh();
      await expect(ledger.runs.get('nope')).rejects.toBeInstanceOf(RunNotFound);
      await expect(ledger.runs.find('nope')).resolves.toBeUndefined();
    });
  });

  describe('finalize', () => {
    it('moves a RUNNING run to its final status with end, duration, output and error', async () => {
      const ledger = await db.fresh();
      await ledger.runs.create(runningRecord(ref('run-1')));
      const final = await ledger.runs.finalize(ref('run-1'), {
        status: RunStatus.FAILED,
        endedAt: '2026-11-30T10:00:02.500Z',
        output: '{"a":1}',
        error: { name: 'Boom', cause: 'it broke' },
        finalizedBy: 'reconciler',
      });
      expect(final).toMatchObject({
        status: RunStatus.FAILED,
        endedAt: '2026-11-30T10:00:02.500Z',
        durationMs: 2_500,
        output: '{"a":1}',
        error: { name: 'Boom', cause: 'it broke' },
        finalizedBy: 'reconciler',
      });
      expect(await ledger.runs.get('run-1')).toEqual(final);
    });

    it('refuses to finalize twice and keeps the first outcome', async () => {
      const ledger = await db.fresh();
      await ledger.runs.create(runningRecord(ref('run-1')));
      await ledger.runs.finalize(ref('run-1'), { status: RunStatus.SUCCEEDED, endedAt: T0 });
      const second = ledger.runs.finalize(ref('run-1'), { status: RunStatus.ABORTED, endedAt: T0 });
      await expect(second).rejects.toBeInstanceOf(RunAlreadyFinal);
      await expect(second).rejects.toMatchObject({ status: RunStatus.SUCCEEDED });
      expect((await ledger.runs.get('run-1')).status).toBe(RunStatus.SUCCEEDED);
    });

    it('throws RunNotFound for a run that was never recorded', async () => {
      const ledger = await db.fresh();
      const missing = ledger.runs.finalize(ref('ghost'), { status: RunStatus.FAILED, endedAt: T0 });
      await expect(missing).rejects.toBeInstanceOf(RunNotFound);
    });
  });

  describe('listByJob', () => {
    it('pages through a job’s runs newest first, with a cursor until the last page', async () => {
      const ledger = await db.fresh();
      const runs = await createRuns(ledger, 25);
      await createRuns(ledger, 3, { jobId: 'other', prefix: 'other' });
      const newestFirst = ids(runs).reverse();

      const first = await ledger.runs.listByJob('heartbeat', { limit: 10 });
      const second = await ledger.runs.listByJob('heartbeat', { limit: 10, cursor: first.cursor });
      const third = await ledger.runs.listByJob('heartbeat', { limit: 10, cursor: second.cursor });

      expect(ids(first.items)).toEqual(newestFirst.slice(0, 10));
      expect(ids(second.items)).toEqual(newestFirst.slice(10, 20));
      expect(ids(third.items)).toEqual(newestFirst.slice(20));
      expect(first.cursor).toEqual(expect.any(String));
      expect(second.cursor).toEqual(expect.any(String));
      expect(third.cursor).toBeUndefined();
    });

    it('filters by start time (since inclusive, until exclusive)', async () => {
      const ledger = await db.fresh();
      await createRuns(ledger, 10);
      const since = new Date(Date.parse(T0) + 5 * MINUTE).toISOString();
      const until = new Date(Date.parse(T0) + 8 * MINUTE).toISOString();
      expect(ids((await ledger.runs.listByJob('heartbeat', { since })).items)).toEqual([
        'run-09',
        'run-08',
        'run-07',
        'run-06',
        'run-05',
      ]);
      expect(ids((await ledger.runs.listByJob('heartbeat', { since, until })).items)).toEqual([
        'run-07',
        'run-06',
        'run-05',
      ]);
      expect(ids((await ledger.runs.listByJob('heartbeat', { until, limit: 2 })).items)).toEqual([
        'run-07',
        'run-06',
      ]);
    });

    it('filters by status and still fills a page when matches are sparse', async () => {
      const ledger = await db.fresh();
      // Every fifth run failed: 00, 05, 10, 15, 20, 25.
      await createRuns(ledger, 30, { status: (i) => (i % 5 === 0 ? RunStatus.FAILED : RunStatus.SUCCEEDED) });
      const first = await ledger.runs.listByJob('heartbeat', { status: RunStatus.FAILED, limit: 4 });
      expect(ids(first.items)).toEqual(['run-25', 'run-20', 'run-15', 'run-10']);
      const rest = await ledger.runs.listByJob('heartbeat', {
        status: RunStatus.FAILED,
        limit: 4,
        cursor: first.cursor,
      });
      expect(ids(rest.items)).toEqual(['run-05', 'run-00']);
      expect(rest.cursor).toBeUndefined();
    });
  });

  describe('allByJob', () => {
    it('yields every run of the window, newest first, following the cursor page by page', async () => {
      const ledger = await db.fresh();
      const runs = await createRuns(ledger, 23);
      await createRuns(ledger, 3, { jobId: 'other', prefix: 'other' });
      const since = new Date(Date.parse(T0) + 2 * MINUTE).toISOString();
      const until = new Date(Date.parse(T0) + 21 * MINUTE).toISOString();
      const pages = jest.spyOn(ledger.runs, 'listByJob');
      const found: RunRecord[] = [];
      for await (const run of ledger.runs.allByJob('heartbeat', { since, until, pageSize: 5 }))
        found.push(run);
      // run-02 (at `since`, included) to run-20 (run-21 starts at `until`, excluded): 19 runs in 4 pages.
      expect(ids(found)).toEqual(ids(runs.slice(2, 21)).reverse());
      expect(pages).toHaveBeenCalledTimes(4);
      expect(pages.mock.calls.map(([, options]) => options?.limit)).toEqual([5, 5, 5, 5]);
    });
  });

  describe('listByJob over the status indexes', () => {
    /** Runs created RUNNING then finalized: they enter the status indexes as a real run does. */
    async function finalizedRuns(
      ledger: Ledger,
      count: number,
      status: (i: number) => RunRecord['status'],
      trigger: (i: number) => 'schedule' | 'manual' | 'cli',
    ) {
      for (let i = 0; i < count; i += 1) {
        const run = runningRecord({
          runId: `run-${String(i).padStart(2, '0')}`,
          startedAt: new Date(Date.parse(T0) + i * MINUTE).toISOString(),
          trigger: { type: trigger(i) },
        });
        await ledger.runs.create(run);
        if (status(i) !== RunStatus.RUNNING)
          await ledger.runs.finalize(run, {
            status: status(i),
            endedAt: new Date(Date.parse(run.startedAt) + 1000).toISOString(),
          });
      }
    }
    const triggers = ['schedule', 'manual', 'cli'] as const;
    const statusOf = (i: number) =>
      i % 4 === 0 ? RunStatus.FAILED : i === 29 ? RunStatus.RUNNING : RunStatus.SUCCEEDED;
    const runningSince = '2026-11-30T00:00:00.000Z';

    it('filters by trigger, merged across statuses, with the RUNNING runs of the window', async () => {
      const ledger = await db.fresh();
      await finalizedRuns(ledger, 30, statusOf, (i) => triggers[i % 3] ?? 'cli');
      // Indexes 2, 5, 8, ... 29 are cli; 29 is still RUNNING.
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.runs.listByJob('heartbeat', {
          trigger: 'cli',
          limit: 4,
          cursor,
          runningSince,
        });
        all.push(...ids(page.items));
        cursor = page.cursor;
      } while (cursor);
      expect(all).toEqual(
        ['29', '26', '23', '20', '17', '14', '11', '08', '05', '02'].map((n) => `run-${n}`),
      );
    });

    it('filters by status and trigger together, and by status alone merged across triggers', async () => {
      const ledger = await db.fresh();
      await finalizedRuns(ledger, 30, statusOf, (i) => triggers[i % 3] ?? 'cli');
      const failedCli = await ledger.runs.listByJob('heartbeat', {
        status: RunStatus.FAILED,
        trigger: 'cli',
        runningSince,
      });
      expect(ids(failedCli.items)).toEqual(['run-20', 'run-08']);
      const failed = await ledger.runs.listByJob('heartbeat', {
        status: RunStatus.FAILED,
        limit: 3,
        runningSince,
      });
      expect(ids(failed.items)).toEqual(['run-28', 'run-24', 'run-20']);
      const next = await ledger.runs.listByJob('heartbeat', {
        status: RunStatus.FAILED,
        limit: 10,
        cursor: failed.cursor,
        runningSince,
      });
      expect(ids(next.items)).toEqual(['run-16', 'run-12', 'run-08', 'run-04', 'run-00']);
      expect(next.cursor).toBeUndefined();
    });

    it('finds RUNNING runs in the window only: a run older than the lease is not running any more', async () => {
      const ledger = await db.fresh();
      await finalizedRuns(ledger, 30, statusOf, () => 'schedule');
      const running = await ledger.runs.listByJob('heartbeat', { status: RunStatus.RUNNING, runningSince });
      expect(ids(running.items)).toEqual(['run-29']);
      const later = await ledger.runs.listByJob('heartbeat', {
        status: RunStatus.RUNNING,
        runningSince: '2026-11-30T10:30:00.000Z',
      });
      expect(later.items).toEqual([]);
      await expect(ledger.runs.listByJob('heartbeat', { status: RunStatus.RUNNING })).rejects.toThrow(
        /runningSince/,
      );
    });

    it('refuses a cursor it did not make, naming the option', async () => {
      const ledger = await db.fresh();
      await expect(ledger.runs.listByJob('heartbeat', { cursor: 'not-a-cursor' })).rejects.toThrow(
        'Invalid page cursor "not-a-cursor": use the --cursor value the previous page printed',
      );
    });
  });

  describe('listAll', () => {
    it('lists every job’s runs newest first, by status, across pages, with the running ones', async () => {
      const ledger = await db.fresh();
      for (const [j, jobId] of ['heartbeat', 'cleanup'].entries()) {
        for (let i = 0; i < 6; i += 1) {
          const run = runningRecord({
            runId: `${jobId}-${i}`,
            jobId,
            startedAt: new Date(Date.parse(T0) + (i * 2 + j) * MINUTE).toISOString(),
          });
          await ledger.runs.create(run);
          if (i < 5)
            await ledger.runs.finalize(run, {
              status: i === 1 ? RunStatus.FAILED : RunStatus.SUCCEEDED,
              endedAt: run.startedAt,
            });
        }
      }
      const running = [
        { jobId: 'heartbeat', since: T0 },
        { jobId: 'cleanup', since: T0 },
      ];
      const all: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await ledger.runs.listAll({ limit: 5, cursor, running });
        all.push(...ids(page.items));
        cursor = page.cursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(all).toEqual([5, 4, 3, 2, 1, 0].flatMap((i) => [`cleanup-${i}`, `heartbeat-${i}`]));
      expect(pages).toBe(3);

      const failed = await ledger.runs.listAll({ status: RunStatus.FAILED, running });
      expect(ids(failed.items)).toEqual(['cleanup-1', 'heartbeat-1']);
      const stillRunning = await ledger.runs.listAll({ status: RunStatus.RUNNING, running });
      expect(ids(stillRunning.items)).toEqual(['cleanup-5', 'heartbeat-5']);
      const window = await ledger.runs.listAll({
        since: new Date(Date.parse(T0) + 2 * MINUTE).toISOString(),
        until: new Date(Date.parse(T0) + 6 * MINUTE).toISOString(),
        running,
      });
      expect(ids(window.items)).toEqual(['cleanup-2', 'heartbeat-2', 'cleanup-1', 'heartbeat-1']);
    });
  });

  describe('steps', () => {
    it('keeps what a step returned, cut to 16 KiB with the size and hash of the whole', async () => {
      const ledger = await db.fresh();
      const attempt = await ledger.runs.startStep('run-1', 'Scan', undefined, T0, 1);
      const text = JSON.stringify({ ids: Array.from({ length: 5_000 }, (_, i) => `vol-${i}`) });
      await ledger.runs.endStep('run-1', 'Scan', undefined, {
        status: StepStatus.SUCCEEDED,
        endedAt: T0,
        durationMs: 5,
        attempt,
        output: { text },
      });
      await ledger.runs.create(runningRecord({ runId: 'run-1' }));
      const [step] = (await ledger.runs.detail('run-1')).steps;
      expect(step?.output).toMatchObject({ truncated: true, bytes: Buffer.byteLength(text) });
      expect(Buffer.byteLength(step?.output?.text ?? '')).toBe(16 * 1024);
      expect(text.startsWith(step?.output?.text ?? 'x')).toBe(true);
    });

    it('counts attempts, keeps failed attempts and ends SUCCEEDED after a retry', async () => {
      const ledger = await db.fresh();
      const attempt1 = await ledger.runs.startStep(
        'run-1',
        'Fetch',
        undefined,
        '2026-11-30T10:00:01.000Z',
        1,
      );
      await ledger.runs.endStep('run-1', 'Fetch', undefined, {
        status: StepStatus.FAILED,
        endedAt: '2026-11-30T10:00:02.000Z',
        durationMs: 1_000,
        attempt: attempt1,
        error: { name: 'TransientError', cause: 'throttled' },
      });
      const attempt2 = await ledger.runs.startStep(
        'run-1',
        'Fetch',
        undefined,
        '2026-11-30T10:00:05.000Z',
        1,
      );
      await ledger.runs.endStep('run-1', 'Fetch', undefined, {
        status: StepStatus.SUCCEEDED,
        endedAt: '2026-11-30T10:00:05.250Z',
        durationMs: 250,
        attempt: attempt2,
      });
      expect([attempt1, attempt2]).toEqual([1, 2]);

      await ledger.runs.create(runningRecord({ runId: 'run-1' }));
      const { steps } = await ledger.runs.detail('run-1');
      expect(steps).toHaveLength(1);
      expect(steps[0]).toMatchObject({
        name: 'Fetch',
        status: StepStatus.SUCCEEDED,
        attempts: 2,
        startedAt: '2026-11-30T10:00:01.000Z',
        lastStartedAt: '2026-11-30T10:00:05.000Z',
        endedAt: '2026-11-30T10:00:05.250Z',
        durationMs: 250,
        failures: [
          {
            attempt: 1,
            at: '2026-11-30T10:00:02.000Z',
            error: { name: 'TransientError', cause: 'throttled' },
          },
        ],
      });
      expect(steps[0]).not.toHaveProperty('error');
    });

    it('detail() lists steps in start order, Map items by index, with the run’s actions', async () => {
      const ledger = await db.fresh();
      await ledger.runs.create(runningRecord({ runId: 'run-1' }));
      await ledger.runs.startStep('run-1', 'Zeta', undefined, '2026-11-30T10:00:01.000Z', 1);
      await ledger.runs.startStep('run-1', 'Alpha', undefined, '2026-11-30T10:00:02.000Z', 1);
      for (const index of [2, 0, 1]) {
        await ledger.runs.startStep('run-1', 'Item', index, '2026-11-30T10:00:03.000Z', 1);
      }
      await actionsOf(ledger).record([
        {
          runId: 'run-1',
          jobId: 'heartbeat',
          resourceId: 'vol-1',
          resourceType: 'ebs-volume',
          action: 'delete',
          dryRun: true,
          outcome: 'PLANNED',
          reason: 'unattached',
          at: '2026-11-30T10:00:04.000Z',
          expiresAt: 1,
        },
      ]);
      const detail = await ledger.runs.detail('run-1');
      expect(detail.run.runId).toBe('run-1');
      expect(detail.steps.map((step) => `${step.name}${step.itemIndex ?? ''}`)).toEqual([
        'Zeta',
        'Alpha',
        'Item0',
        'Item1',
        'Item2',
      ]);
      expect(detail.actions.map((action) => action.resourceId)).toEqual(['vol-1']);
    });

    it('detail() of an unknown run throws RunNotFound', async () => {
      const ledger = await db.fresh();
      await expect(ledger.runs.detail('nope')).rejects.toBeInstanceOf(RunNotFound);
    });
  });
});
