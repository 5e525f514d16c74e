/**
 * The schedule-control commands through the CLI, locally: `schedule --local --drop` and the sweep at the end of
 * its window, `stepjobs sweep`, `backfill` (dry run, twice over the same window), `preview --holidays`, and a
 * one-line error for each bad flag.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectOneLineUsageError, runCli } from '../helpers/cli';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-schedule-control-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const cli = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: dataDir });

const historyOf = async (...filters: string[]) => {
  const result = await cli('history', 'heartbeat', '--limit', '100', '--json', ...filters);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as {
    items: Array<{ runId: string; status: string; trigger: { type: string; scheduledTime?: string } }>;
  };
};

describe('dropped deliveries, the end-of-window sweep and backfill', () => {
  const from = '2027-05-01T00:00:00Z';
  const to = '2027-05-01T01:00:00Z';

  it('drops the deliveries the seed picks, and the sweep records each as MISSED', async () => {
    const result = await cli(
      'schedule',
      '--local',
      '--from',
      from,
      '--to',
      to,
      '--job',
      'heartbeat',
      '--drop',
      '2',
      '--seed',
      '3',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 deliveries dropped (seed 3)');
    expect(result.stdout.match(/dropped {5}\(no delivery\)/g)).toHaveLength(2);
    expect(result.stdout).toContain('Sweep: 7 expected slots checked, 2 missed.');
    const missed = (await historyOf('--status', 'MISSED')).items;
    expect(missed).toHaveLength(2);
    expect(missed.every((r) => r.runId.startsWith('missed-heartbeat-2027050'))).toBe(true);

    // A second look at the same window records nothing again.
    const again = await cli('sweep', '--from', from, '--to', to, '--job', 'heartbeat');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Sweep: 7 expected slots checked, 0 missed.');
    expect((await historyOf('--status', 'MISSED')).items).toHaveLength(2);
  });

  it('backfill --dry-run lists the two missed slots to run and starts nothing', async () => {
    const before = (await historyOf()).items.length;
    const result = await cli('backfill', 'heartbeat', '--from', from, '--to', to, '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Dry run, nothing started: 5 already ran, 2 to run.');
    expect((await historyOf()).items).toHaveLength(before);
  });

  it('backfill runs each missed slot once; run again over the same window, it starts nothing', async () => {
    const first = await cli('backfill', 'heartbeat', '--from', from, '--to', to);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Done: 5 already ran, 2 SUCCEEDED.');
    const backfilled = (await historyOf('--trigger', 'backfill')).items;
    expect(backfilled).toHaveLength(2);
    const missed = (await historyOf('--status', 'MISSED')).items;
    expect(backfilled.map((r) => r.trigger.scheduledTime).sort()).toEqual(
      missed.map((r) => r.trigger.scheduledTime).sort(),
    );

    const total = (await historyOf()).items.length;
    const second = await cli('backfill', 'heartbeat', '--from', from, '--to', to);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Done: 7 already ran.');
    expect((await historyOf()).items).toHaveLength(total);
  });

  it('refuses parallel runs of a job that does not allow overlap, and bad windows', async () => {
    expectOneLineUsageError(
      await cli('backfill', 'heartbeat', '--from', from, '--to', to, '--concurrency', '3'),
      /--concurrency 3: heartbeat does not allow overlapping runs/,
    );
    expectOneLineUsageError(
      await cli('backfill', 'heartbeat', '--from', to, '--to', from),
      /--to must not be before --from/,
    );
    expectOneLineUsageError(await cli('backfill', 'heartbeat', '--from', 'yesterday', '--to', to), /--from/);
    expectOneLineUsageError(await cli('backfill', 'nope', '--from', from, '--to', to), /Unknown job "nope"/);
    expectOneLineUsageError(
      await cli('backfill', 'heartbeat', '--from', '2027-01-01T00:00:00Z', '--to', '2027-02-01T00:00:00Z'),
      /more than 1000 slots/,
    );
  });
});

describe('bad flags', () => {
  it.each([
    [['schedule', '--local', '--drop', '2'], /--drop: give a simulated window/],
    [
      [
        'schedule',
        '--local',
        '--from',
        '2027-01-01T00:00:00Z',
        '--to',
        '2027-01-01T01:00:00Z',
        '--drop',
        'x',
      ],
      /--drop "x" must be a whole number/,
    ],
    [
      ['pause', 'heartbeat', '--reason', 'r', '--disable-schedule'],
      /--disable-schedule works with --aws only/,
    ],
    [['--aws', 'sweep'], /sweep runs locally/],
    [
      ['sweep', '--from', '2027-01-02T00:00:00Z', '--to', '2027-01-01T00:00:00Z'],
      /--to must not be before --from/,
    ],
    [['preview', 'cron(0 9 * * ? *)', '--holidays', 'XX'], /--holidays: names an unknown country "XX"/],
    [
      ['preview', 'cron(0 9 * * ? *)', '--holidays', 'DE-ZZ'],
      /--holidays: names an unknown subdivision "ZZ" of DE/,
    ],
    [['preview', '--job', 'heartbeat', '--holidays', 'DE'], /--holidays: a job's calendar is its own/],
  ])('%j', async (args, pattern) => {
    expectOneLineUsageError(await cli(...args), pattern);
  });
});

it('preview --holidays lists a public holiday as skipped, with its name', async () => {
  const result = await cli(
    'preview',
    'cron(0 9 * * ? *)',
    '--tz',
    'Europe/Berlin',
    '--holidays',
    'de-by',
    '--from',
    '2027-01-05T00:00:00Z',
    '--count',
    '2',
    '--json',
  );
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    fires: [
      { time: '2027-01-05T08:00:00.000Z', local: '2027-01-05T09:00:00+01:00' },
      {
        time: '2027-01-06T08:00:00.000Z',
        local: '2027-01-06T09:00:00+01:00',
        skipped: 'calendar: Epiphany (DE-BY holiday)',
      },
      { time: '2027-01-07T08:00:00.000Z', local: '2027-01-07T09:00:00+01:00' },
    ],
  });
});
