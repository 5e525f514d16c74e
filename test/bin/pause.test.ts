/**
 * `stepjobs pause --reason R [--until T | --for D]` and `resume [--reason R]` through the CLI: who, why and
 * until when are shown by `jobs` and `preview --job`, kept in the job's operation log, and every bad flag is
 * one clear line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../../bin/cli/errors';
import { expectOneLineUsageError, runCli } from '../helpers/cli';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-pause-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const cli = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: dataDir });
type Listed = Array<{ id: string; paused: boolean; pause: { reason?: string; until?: string } | null }>;

it('pause --for shows who, why and until when; preview marks the slots before it; resume keeps its reason', async () => {
  const paused = await cli('pause', 'heartbeat', '--reason', 'deploy window', '--for', '2h');
  expect(paused.code).toBe(ExitCode.OK);
  expect(paused.stdout).toMatch(/until \d{4}-\d{2}-\d{2}T.*, then it resumes by itself/);

  const listed = JSON.parse((await cli('jobs', '--json')).stdout) as Listed;
  const job = listed.find((j) => j.id === 'heartbeat');
  expect(job).toMatchObject({ paused: true, pause: { reason: 'deploy window' } });
  const until = Date.parse(job?.pause?.until ?? '');
  expect(until - Date.now()).toBeGreaterThan(119 * 60_000);

  const preview = await cli('preview', '--job', 'heartbeat', '--count', '1', '--json');
  const { fires } = JSON.parse(preview.stdout) as { fires: Array<{ time: string; skipped?: string }> };
  expect(fires.length).toBeGreaterThan(1);
  expect(fires.at(-1)?.skipped).toBeUndefined();
  expect(Date.parse(fires.at(-1)?.time ?? '')).toBeGreaterThanOrEqual(until);
  expect(fires[0]?.skipped).toMatch(/^paused: deploy window \(by local:/);

  const resumed = await cli('resume', 'heartbeat', '--reason', 'deploy done');
  expect(resumed.stdout).toMatch(/^Resumed heartbeat \(it was paused by local:\S+: deploy window/);
  const text = (await cli('jobs')).stdout;
  expect(text).toMatch(/no \(resumed by local:\S+: deploy\s+done\)/);
});

it.each([
  [['heartbeat'], /required option '--reason <text>' not specified/],
  [['heartbeat', '--reason', ' '], /--reason is empty: say why/],
  [['heartbeat', '--reason', 'x'.repeat(201)], /--reason is 201 characters; keep it within 200/],
  [['heartbeat', '--reason', 'r', '--for', '5x'], /--for "5x" is not a duration/],
  [
    ['heartbeat', '--reason', 'r', '--until', '2020-01-01T00:00:00Z'],
    /--until 2020-01-01T00:00:00.000Z is not in the future/,
  ],
  [['heartbeat', '--reason', 'r', '--until', '2030-01-01', '--for', '2h'], /Give --until or --for, not both/],
  [['nope', '--reason', 'r'], /Unknown job "nope"/],
])('stepjobs pause %j is one clear line', async (args, pattern) => {
  expectOneLineUsageError(await cli('pause', ...args), pattern);
});
