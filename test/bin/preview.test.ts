/**
 * `stepjobs preview`: each fire in UTC and local time, skipped slots with their reason (DST, pause), --count
 * counting fires that run, the JSON shape, and one clear line for each bad flag.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../../bin/cli/errors';
import { jobPreview, previewCommand } from '../../bin/cli/preview-command';
import type { JobState } from '../../shared/ledger/items';
import { heartbeat } from '../../workflows/heartbeat';
import { expectOneLineUsageError, runCli } from '../helpers/cli';

const capture = () => {
  const out: string[] = [];
  const notes: string[] = [];
  return { io: { out: (t: string) => out.push(t), note: (t: string) => notes.push(t) }, out, notes };
};

const json = (args: Parameters<typeof previewCommand>[1]) => {
  const { io, out } = capture();
  expect(previewCommand(io, { ...args, json: true })).toBe(ExitCode.OK);
  return JSON.parse(out.join('\n')) as { fires: Array<{ time: string; local: string; skipped?: string }> };
};

describe('preview', () => {
  it('lists the spring-forward slot as skipped, and --count counts the fires that run', () => {
    const { fires } = json({
      expression: 'cron(30 2 * * ? *)',
      timeZone: 'Europe/Berlin',
      from: new Date('2027-03-27T00:00:00Z'),
      count: 2,
    });
    expect(fires).toEqual([
      { time: '2027-03-27T01:30:00.000Z', local: '2027-03-27T02:30:00+01:00' },
      {
        time: '2027-03-28T01:30:00.000Z',
        local: '2027-03-28T02:30:00',
        skipped: 'dst: 02:30 does not exist in Europe/Berlin on 2027-03-28 (clocks go forward)',
      },
      { time: '2027-03-29T00:30:00.000Z', local: '2027-03-29T02:30:00+02:00' },
    ]);
  });

  it("marks a paused job's slots with who paused it and why, and says when nothing runs", () => {
    const state: JobState = {
      jobId: heartbeat.id,
      paused: true,
      pausedAt: '2026-06-01T00:00:00.000Z',
      pausedBy: 'local:ops',
      pauseReason: 'maintenance',
      counters: {},
    };
    const request = jobPreview(heartbeat, state, { from: new Date('2026-06-01T00:00:00Z'), count: 2 });
    const { io, out, notes } = capture();
    previewCommand(io, { ...request, json: true });
    const { fires } = JSON.parse(out.join('\n')) as { fires: Array<{ skipped?: string }> };
    expect(fires.length).toBeGreaterThan(100);
    expect(new Set(fires.map((f) => f.skipped))).toEqual(new Set(['paused: maintenance (by local:ops)']));
    const text = capture();
    previewCommand(text.io, { ...request });
    expect(text.notes.join('\n')).toMatch(/^Only 0 of 2 fires run/);
    expect(notes).toEqual([]);
  });

  it('lists a one-time schedule once, at the instant its local time names', () => {
    expect(
      json({
        expression: 'at(2027-03-28T01:30:00)',
        timeZone: 'Europe/Berlin',
        from: new Date('2027-01-01T00:00:00Z'),
        count: 5,
      }).fires,
    ).toEqual([{ time: '2027-03-28T00:30:00.000Z', local: '2027-03-28T01:30:00+01:00' }]);
  });
});

describe('stepjobs preview usage', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-preview-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const cli = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: dataDir });

  it.each([
    [[], /Give a schedule expression or --job <id>, not both/],
    [['rate(1 hour)', '--job', 'heartbeat'], /not both/],
    [['--job', 'heartbeat', '--tz', 'UTC'], /--tz: a job's schedule has its own time zone/],
    [['--job', 'nope'], /Unknown job "nope"/],
    [['rate(1 hour)', '--count', '0'], /--count "0" must be a whole number from 1 to 1000/],
    [['rate(1 hour)', '--from', 'soon'], /--from "soon" is not an ISO date or time/],
    [['rate(1 hour)', '--tz', 'Mars/Olympus'], /Cannot preview: unknown time zone "Mars\/Olympus"/],
    [['cron(1 2 3)'], /Cannot preview: "cron\(1 2 3\)" has 3 fields/],
  ])('stepjobs preview %j is one clear line', async (args, pattern) => {
    expectOneLineUsageError(await cli('preview', ...args), pattern);
  });

  it("previews a job's own schedule from the local ledger", async () => {
    const result = await cli(
      'preview',
      '--job',
      'heartbeat',
      '--from',
      '2026-06-01T00:00:00Z',
      '--count',
      '2',
    );
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('heartbeat: rate(10 minutes) in UTC');
    expect(result.stdout).toContain('2026-06-01T00:00:00Z');
    expect(result.stdout).toContain('2026-06-01T00:10:00Z');
  });

  it('jobs --count shows that many next fire times', async () => {
    const result = await cli('jobs', '--json', '--count', '5');
    expect(result.code).toBe(ExitCode.OK);
    const listed = JSON.parse(result.stdout) as Array<{ id: string; next: string[] }>;
    expect(listed.find((j) => j.id === 'heartbeat')?.next).toHaveLength(5);
  });
});
