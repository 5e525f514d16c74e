/**
 * The fault suite, part 4: several stepjobs processes on one data directory at once, as people use them:
 * `schedule --local` running in one terminal while `history` and `run` are typed in another. They share the
 * directory's ledger server; none may fail on the other's store, print a stack trace, or corrupt the ledger.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../../bin/cli/errors';
import { serverFiles } from '../../local/ledger-server';
import { runChildCli, spawnCli } from '../helpers/child-cli';

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

  // With its last client gone, the ledger server stops after a short linger.
  const deadline = Date.now() + 20_000;
  while (existsSync(serverFiles(dataDir).info) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(existsSync(serverFiles(dataDir).info)).toBe(false);
});
