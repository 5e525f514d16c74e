/**
 * The fault suite, part 3: real `stepjobs` processes killed with SIGKILL at chosen points, then recovery by
 * the next command. The children use the data directory's ledger server, which here is a fault proxy in the
 * test process (its address written where a ledger server announces itself), in front of an embedded
 * DynamoDB: the proxy holds the one write that comes right after the chosen point, so the kill lands exactly
 * there, and the test reads the ledger directly afterwards.
 */
import '../helpers/quiet';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStatus } from '../../shared/constants';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { PROCESS_EXITED } from '../../local/execution-store';
import { serverFiles } from '../../local/ledger-server';
import { LocalRuntime } from '../../local/runtime';
import { synthesizeTemplate } from '../../local/synth';
import { ExitCode } from '../../bin/cli/errors';
import { runChildCli, spawnCli } from '../helpers/child-cli';
import { DynamoFaultProxy, ledgerWrites, type DynamoRequest } from '../helpers/dynamo-fault-proxy';
import { runningRecord } from '../helpers/builders';
import { invariantReport } from '../helpers/invariants';

jest.setTimeout(120_000);

let db: EmbeddedDynamoDb;
let proxy: DynamoFaultProxy;
let runtime: LocalRuntime;
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await startEmbeddedDynamoDb();
  proxy = await DynamoFaultProxy.start(db.endpoint);
  dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'stepjobs-crash-')), 'dynamodb');
  // The children find their "ledger server" here: this (live) process, listening through the proxy.
  writeFileSync(
    serverFiles(dataDir).info,
    JSON.stringify({ pid: process.pid, port: proxy.port, startedAt: new Date().toISOString() }),
  );
  env = { STEPJOBS_DATA_DIR: dataDir };
  // Creates the tables the children would, and reads the ledger for the assertions.
  runtime = await LocalRuntime.start({
    template: synthesizeTemplate(),
    dynamoEndpoint: db.endpoint,
    logLevel: 'SILENT',
  });
});

afterAll(async () => {
  await runtime.stop();
  await proxy.stop();
  await db.stop();
  rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

/** Start `args`, wait until the proxy holds the write `at` matches, kill the process with SIGKILL there. */
async function killAt(args: string[], at: (request: DynamoRequest) => boolean): Promise<void> {
  const hold = proxy.hold(at);
  const cli = spawnCli(args, env);
  await Promise.race([
    hold.held,
    cli.exited.then(() => {
      throw new Error(`${args.join(' ')} ended before the crash point:\n${cli.stdout()}\n${cli.stderr()}`);
    }),
  ]);
  cli.child.kill('SIGKILL');
  expect(await cli.exited).toEqual({ code: null, signal: 'SIGKILL' });
  hold.release();
}

async function expectInvariantsHold(): Promise<void> {
  const { violations } = await invariantReport(runtime);
  expect(violations).toEqual([]);
}

test('killed between the slot claim and the run record: the next command records the slot’s run, and a second delivery points at it', async () => {
  const window = [
    'schedule',
    '--local',
    '--job',
    'heartbeat',
    // One slot, 00:10: both ends of the window fire.
    '--from',
    '2026-06-01T00:05:00Z',
    '--to',
    '2026-06-01T00:10:00Z',
  ];
  await killAt(window, ledgerWrites.runCreate);
  const before = await invariantReport(runtime);
  expect(before.counts.orphanSlots).toBe(1);

  const history = await runChildCli(['history', 'heartbeat', '--json'], env);
  expect(history.code).toBe(ExitCode.OK);
  expect(history.stderr).toMatch(
    /^stepjobs: recovered: recorded 1 run \(sched-1-\S+ ABORTED\) that had no run record\. See stepjobs show <runId>\.\n$/,
  );
  const [run] = (JSON.parse(history.stdout) as { items: Array<{ runId: string; status: string }> }).items;
  expect(run).toMatchObject({ status: RunStatus.ABORTED });
  expect(await runtime.ledger.runs.get(run?.runId ?? '')).toMatchObject({
    trigger: { type: 'schedule', scheduledTime: '2026-06-01T00:10:00Z' },
    error: { name: PROCESS_EXITED, cause: expect.stringContaining('exited before it ended') },
  });
  await expectInvariantsHold();

  // The Scheduler delivers the slot again: a DUPLICATE whose related run `show` finds.
  const again = await runChildCli(window, env);
  expect(again.code).toBe(ExitCode.OK);
  expect(again.stdout).toMatch(/DUPLICATE/);
  const show = await runChildCli(['show', run?.runId ?? ''], env);
  expect(show).toMatchObject({ code: ExitCode.OK, stderr: '' });
  await expectInvariantsHold();
});

test('killed mid-step: the next run ends the killed one ABORTED, frees the lock and runs at once, without waiting for the lease', async () => {
  await killAt(['run', 'heartbeat'], ledgerWrites.stepEnd('Heartbeat'));
  const state = await runtime.ledger.jobs.getState('heartbeat');
  expect(state.lockRunId).toBeDefined();
  const killed = state.lockRunId ?? '';

  const next = await runChildCli(['run', 'heartbeat'], env);

  expect(next.code).toBe(ExitCode.OK);
  expect(next.stderr).toBe(
    `stepjobs: recovered: ended 1 run (${killed} ABORTED) left RUNNING by a stepjobs process that is gone. See stepjobs show <runId>.\n`,
  );
  expect(next.stdout).toMatch(/SUCCEEDED/);
  expect(await runtime.ledger.runs.get(killed)).toMatchObject({
    status: RunStatus.ABORTED,
    finalizedBy: 'sweep',
    error: { name: PROCESS_EXITED },
  });
  await expectInvariantsHold();
});

test('killed mid-apply of the release job: the next run ends the killed one, and runs to completion', async () => {
  const outcomeWrite = (request: DynamoRequest) =>
    request.op === 'BatchWriteItem' &&
    /"outcome":\{"S":"(DONE|MARKED|CANCELLED|ALREADY_GONE)"\}/.test(request.text);
  await killAt(['run', 'release-idle-resources', '--no-dry-run'], outcomeWrite);

  const next = await runChildCli(['run', 'release-idle-resources', '--no-dry-run'], env);

  expect(next.code).toBe(ExitCode.OK);
  expect(next.stderr).toMatch(/^stepjobs: recovered: ended 1 run \(cli-\S+ ABORTED\) left RUNNING/);
  expect(next.stdout).toMatch(/: SUCCEEDED in/);
  await expectInvariantsHold();
});

test('unlock releases a lock the recovery keeps (its run looks alive), and the ledger keeps who and why', async () => {
  // A run that is RUNNING in an execution this (live) process owns: hung, say, but not gone.
  const job = runtime.job('heartbeat');
  const executionArn = `${job.stateMachineArn.replace(':stateMachine:', ':execution:')}:hung-run`;
  const startedAt = new Date();
  await runtime.executions.started({
    executionArn,
    stateMachineArn: job.stateMachineArn,
    name: 'hung-run',
    startDate: startedAt,
    input: '{}',
  });
  await runtime.ledger.runs.create(
    runningRecord({ runId: 'hung-run', executionArn, startedAt: startedAt.toISOString() }),
  );
  await runtime.ledger.jobs.acquireLock(
    'heartbeat',
    'hung-run',
    startedAt.toISOString(),
    '2999-01-01T00:00:00Z',
  );

  const result = await runChildCli(['unlock', 'heartbeat', '--reason', 'run hung in a dead container'], env);

  expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
  expect(result.stdout).toContain('released the lock of run hung-run (RUNNING)');
  expect(result.stdout).toContain('still RUNNING');
  expect((await runtime.ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
  expect(await runtime.ledger.jobs.operations('heartbeat')).toEqual([
    expect.objectContaining({
      op: 'unlock',
      by: expect.stringMatching(/^local:/),
      reason: 'run hung in a dead container',
      holderRunId: 'hung-run',
      holderStatus: RunStatus.RUNNING,
    }),
  ]);
  const missing = await runChildCli(['unlock', 'heartbeat'], env);
  expect(missing.code).toBe(ExitCode.USAGE);
  expect(missing.stderr).toMatch(/--reason/);
  await runtime.executions.ended(executionArn, { status: 'ABORTED', stopDate: new Date() });
  await runtime.recover();
});
