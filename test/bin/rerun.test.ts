/** `stepjobs rerun` locally, through the CLI: a new run of an earlier run's input, naming it; `redrive` refuses. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectOneLineUsageError, runCli } from '../helpers/cli';

jest.setTimeout(60_000);

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-rerun-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const cli = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: dataDir });
const runIdOf = (stdout: string) => /Run (\S+): /.exec(stdout)?.[1] ?? '';
const show = async (runId: string) =>
  JSON.parse((await cli('show', runId, '--json')).stdout) as {
    run: {
      status: string;
      relatedRunId?: string;
      trigger: { type: string; relatedRunId?: string; principal?: string };
      input?: { text: string };
    };
  };

test('rerun starts a new run with the same input, trigger "rerun" naming the run it reruns', async () => {
  const first = await cli('run', 'heartbeat', '--input', '{"message":"once more"}');
  expect(first.code).toBe(0);
  const original = runIdOf(first.stdout);

  const again = await cli('rerun', original);

  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`Rerunning ${original} (SUCCEEDED) of heartbeat as a new run`);
  const rerunId = runIdOf(again.stdout);
  expect(rerunId).toMatch(/^rerun-/);
  const { run } = await show(rerunId);
  expect(run).toMatchObject({
    status: 'SUCCEEDED',
    relatedRunId: original,
    trigger: { type: 'rerun', relatedRunId: original, principal: expect.stringMatching(/^local:/) },
    input: { text: '{"message":"once more"}' },
  });
  const history = await cli('history', 'heartbeat', '--trigger', 'rerun');
  expect(history.stdout).toContain(`rerun of ${original}`);
});

test('a rerun of a run whose input was refused is refused the same way; --input gives it a new one', async () => {
  const bad = await cli('run', 'heartbeat', '--input', '{"message":7}');
  expect(bad.code).toBe(1);
  const badId = runIdOf(bad.stdout);
  expect((await cli('rerun', badId)).code).toBe(1);
  const fixed = await cli('rerun', badId, '--input', '{"message":"fixed"}');
  expect(fixed.code).toBe(0);
  expect((await show(runIdOf(fixed.stdout))).run).toMatchObject({ status: 'SUCCEEDED', relatedRunId: badId });
});

test('bad use is one line: an unknown run, a local redrive', async () => {
  expectOneLineUsageError(await cli('rerun', 'no-such-run'), /No run "no-such-run" in the local ledger/);
  const first = await cli('run', 'heartbeat', '--input', '{"message":9}');
  expectOneLineUsageError(
    await cli('redrive', runIdOf(first.stdout)),
    /Local mode cannot redrive: its engine has no redrive\. Run the work again as a new run: stepjobs rerun /,
  );
});

test('what only AWS can do is refused before local mode opens anything: redrive, --no-wait', async () => {
  const untouched = path.join(dataDir, 'never-opened');
  const local = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: untouched });
  expectOneLineUsageError(await local('redrive', 'some-run'), /Local mode cannot redrive/);
  expectOneLineUsageError(await local('run', 'heartbeat', '--no-wait'), /--no-wait works with --aws only/);
  expectOneLineUsageError(await local('rerun', 'some-run', '--no-wait'), /--no-wait works with --aws only/);
  expect(existsSync(untouched)).toBe(false);
});
