/**
 * The fault suite, part 4: several stepjobs processes on one data directory at once, as people use them:
 * `schedule --local` running in one terminal while `history` and `run` are typed in another. The first holds
 * the directory's store and serves it to the others; none may fail on the other's store, print a stack trace,
 * or corrupt the ledger, and the holder may be killed at any moment.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../../bin/cli/errors';
import { readInfo, serverFiles } from '../../local/ledger-server';
import { LocalRuntime } from '../../local/runtime';
import { synthesizeTemplate } from '../../local/synth';
import { FINAL_RUN_STATUSES } from '../../shared/constants';
import { runChildCli, spawnCli } from '../helpers/child-cli';
import { invariantReport } from '../helpers/invariants';

jest.setTimeout(120_000);

let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'stepjobs-multi-')), 'dynamodb');
  env = { STEPJOBS_DATA_DIR: dataDir };
});

afterAll(() => rmSync(path.dirname(dataDir), { recursive: true, force: true }));

test('schedule --local in one process while history and two runs work in others', async () => {
  const schedule = spawnCli(['schedule', '--local'], env);
  await schedule.printed(/Real-time schedule simulation/);

  const [history, first, second] = await Promise.all([
    runChildCli(['history', 'heartbeat'], env),
    runChildCli(['run', 'heartbeat', '--input', '{"message":"one"}'], env),
    runChildCli(['run', 'heartbeat', '--input', '{"message":"two"}'], env),
  ]);

  expect(history).toMatchObject({ code: ExitCode.OK, stderr: '' });
  for (const run of [first, second]) {
    expect(run.stderr).toBe('');
    // The job skips overlaps: whichever came second while the first ran is SKIPPED, never an error.
    expect([ExitCode.OK, ExitCode.RUN_SKIPPED]).toContain(run.code);
  }
  const after = await runChildCli(['history', 'heartbeat', '--json'], env);
  const items = (JSON.parse(after.stdout) as { items: Array<{ status: string; trigger: { type: string } }> })
    .items;
  // The real-time schedule fires on the wall clock's 10-minute marks, so a scheduled run may land among them.
  const runs = items.filter((r) => r.trigger.type === 'cli');
  expect(items.filter((r) => r.trigger.type !== 'cli').map((r) => r.trigger.type)).toEqual(
    items.length > 2 ? ['schedule'] : [],
  );
  expect(runs).toHaveLength(2);
  expect(runs.map((r) => r.status).sort()).toEqual(
    first.code === ExitCode.OK && second.code === ExitCode.OK
      ? ['SUCCEEDED', 'SUCCEEDED']
      : ['SKIPPED', 'SUCCEEDED'],
  );

  schedule.child.kill('SIGINT');
  expect((await schedule.exited).code).toBe(ExitCode.OK);
  expect(schedule.stderr()).toBe('');

  // The holder withdrew its announcement as it ended.
  expect(existsSync(serverFiles(dataDir).info)).toBe(false);
});

test('the holder killed mid-window: every run it reported is on disk, and the next command takes over and recovers', async () => {
  const killedDir = path.join(path.dirname(dataDir), 'killed');
  const killedEnv = { STEPJOBS_DATA_DIR: killedDir };
  const window = ['schedule', '--local', '--job', 'heartbeat'];
  const schedule = spawnCli(
    [...window, '--from', '2026-06-01T00:00:00Z', '--to', '2026-06-03T00:00:00Z'],
    killedEnv,
  );
  await schedule.printed(/(SUCCEEDED .*\n.*){20}/);
  // Meanwhile another process reads through the holder.
  const history = await runChildCli(['history', 'heartbeat', '--limit', '3'], killedEnv);
  expect(history).toMatchObject({ code: ExitCode.OK, stderr: '' });
  expect(readInfo(serverFiles(killedDir).info)?.pid).toBe(schedule.child.pid);
  schedule.child.kill('SIGKILL');
  expect((await schedule.exited).signal).toBe('SIGKILL');
  const reported = [...schedule.stdout().matchAll(/SUCCEEDED\s+(\S+)/g)].map((m) => m[1] ?? '');
  expect(reported.length).toBeGreaterThanOrEqual(20);

  // This process takes the store over from the dead holder's directory.
  const runtime = await LocalRuntime.start({
    template: synthesizeTemplate(),
    dataDir: killedDir,
    logLevel: 'SILENT',
  });
  try {
    await runtime.recover();
    for (const runId of reported) {
      expect((await runtime.ledger.runs.get(runId))?.status).toBe('SUCCEEDED');
    }
    const { violations, counts } = await invariantReport(runtime);
    expect(violations).toEqual([]);
    expect(counts.executions).toBeGreaterThanOrEqual(reported.length);
    const states = await runtime.ledger.runs.listByJob('heartbeat', { limit: 5 });
    expect(states.items.every((r) => (FINAL_RUN_STATUSES as readonly string[]).includes(r.status))).toBe(
      true,
    );
  } finally {
    await runtime.stop();
  }
});
