/**
 * The fault suite, part 1: DynamoDB faults between the handlers and the ledger. A fault proxy sits in front of
 * the embedded DynamoDB on the handlers' side only (local mode's record of executions, Step Functions' part,
 * stays reachable, as Step Functions does on AWS while DynamoDB has trouble). Each scenario aims a fault at
 * one write (a state's own), runs a real execution of the synthesized definition, lets the reconciler and
 * the recovery pass do what they do, and then checks the failure model's invariants over everything.
 */
import '../helpers/quiet';
import { RunStatus, StepStatus } from '../../shared/constants';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { LocalRuntime, type ExecutionResult } from '../../local/runtime';
import { schedulerInput } from '../../local/schedule-simulator';
import { synthesizeTemplate } from '../../local/synth';
import { jobInputs } from '../../tasks/lifecycle/job-inputs';
import { heartbeat } from '../../workflows/heartbeat';
import { FIXTURE_JOB_ID, FixtureInput } from '../fixtures/tasks/fixture-input';
import { fixtureJob, WORK_STEP } from '../fixtures/workflows/fixture-job';
import { DynamoFaultProxy, ledgerWrites, type Rule } from '../helpers/dynamo-fault-proxy';
import { invariantReport } from '../helpers/invariants';

jest.mock('../../tasks/lifecycle/job-inputs', () => jest.requireActual('../fixtures/tasks/job-inputs'));

let db: EmbeddedDynamoDb;
let proxy: DynamoFaultProxy;
let runtime: LocalRuntime;

beforeAll(async () => {
  db = await startEmbeddedDynamoDb();
  proxy = await DynamoFaultProxy.start(db.endpoint);
  runtime = await LocalRuntime.start({
    template: synthesizeTemplate({
      jobs: [heartbeat, fixtureJob],
      jobInputs: { ...jobInputs, [FIXTURE_JOB_ID]: FixtureInput },
    }),
    dynamoEndpoint: db.endpoint,
    handlerDynamoEndpoint: proxy.endpoint,
    logLevel: 'SILENT',
    statusEventRetryMs: [10, 10],
  });
});

afterEach(() => proxy.clear());

afterAll(async () => {
  await runtime.stop();
  await proxy.stop();
  await db.stop();
});

/** Every lifecycle and step state retries at once: the scenarios are about what happens, not how long. */
const NO_WAITS = {
  retryIntervalOverrides: { StartRun: 0, FinishRun: 0, FailRun: 0, Heartbeat: 0, [WORK_STEP]: 0 },
};
const onLedger = (rule: Rule): Rule => ({
  ...rule,
  match: (request) => ledgerWrites.ledgerTable(runtime.tableName)(request) && (rule.match?.(request) ?? true),
});
/** Faulting every ledger request of one kind for longer than all the state's retries. */
const always = (match: Rule['match'], kind: 'server-error' | 'throttle' = 'server-error'): Rule =>
  onLedger({ match, fault: { kind } });

async function run(jobId: string, input: unknown): Promise<ExecutionResult> {
  return runtime.run(jobId, input, NO_WAITS);
}

async function expectInvariantsHold(): Promise<void> {
  const { violations } = await invariantReport(runtime);
  expect(violations).toEqual([]);
}

describe('DynamoDB faults the retries absorb', () => {
  it.each<[string, Rule]>([
    [
      'throttling of FinishRun that outlasts the SDK’s own attempts',
      onLedger({ match: ledgerWrites.runFinalize, fault: { kind: 'throttle' }, times: 6 }),
    ],
    [
      '5xx answers to StartRun’s run record',
      onLedger({ match: ledgerWrites.runCreate, fault: { kind: 'server-error' }, times: 7 }),
    ],
    [
      '5xx answers to the step’s start record',
      onLedger({ match: ledgerWrites.stepStart('Heartbeat'), fault: { kind: 'server-error' }, times: 7 }),
    ],
    [
      '5xx answers to the step’s end record (the outage mid-step)',
      onLedger({ match: ledgerWrites.stepEnd('Heartbeat'), fault: { kind: 'server-error' }, times: 7 }),
    ],
    [
      'dropped connections at the slot claim',
      onLedger({ match: ledgerWrites.slotClaim, fault: { kind: 'drop' }, times: 3 }),
    ],
    ['latency on every request', onLedger({ fault: { kind: 'latency', ms: 150 } })],
  ])('%s: the run SUCCEEDED, recorded once by the state machine', async (_what, rule) => {
    proxy.inject(rule);
    const result = await run(heartbeat.id, schedulerInput(runtime.job(heartbeat.id), nextSlot(), 1));
    proxy.clear();

    expect(result.status).toBe('SUCCEEDED');
    const { run: record, steps } = await runtime.ledger.runs.detail(result.runId);
    expect(record).toMatchObject({ status: RunStatus.SUCCEEDED });
    expect(record.finalizedBy).toBeUndefined();
    expect(steps).toEqual([expect.objectContaining({ name: 'Heartbeat', status: StepStatus.SUCCEEDED })]);
    if (rule.fault.kind !== 'latency') expect(proxy.faulted()).toBeGreaterThan(0);
    await expectInvariantsHold();
  });
});

describe('a 15 s DynamoDB outage that starts mid-step', () => {
  it('is ridden out: the step’s end, FinishRun and the job state are written once it is over', async () => {
    // Every ledger request fails for 15 s from the step's end record on: the in-process retry of the step's
    // end (about 16 s) and FinishRun's retries (63 s) both outlast it.
    proxy.inject(
      onLedger({ match: ledgerWrites.stepEnd('Heartbeat'), fault: { kind: 'server-error' }, forMs: 15_000 }),
    );
    const started = Date.now();
    const result = await runtime.run(heartbeat.id, {}, { retryIntervalOverrides: { FinishRun: 1_000 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(15_000);
    proxy.clear();

    expect(result.status).toBe('SUCCEEDED');
    const { run: record, steps } = await runtime.ledger.runs.detail(result.runId);
    expect(record).toMatchObject({ status: RunStatus.SUCCEEDED });
    expect(record.finalizedBy).toBeUndefined();
    expect(steps).toEqual([expect.objectContaining({ status: StepStatus.SUCCEEDED, attempts: 1 })]);
    expect(proxy.faulted()).toBeGreaterThan(5);
    await expectInvariantsHold();
  }, 60_000);
});

describe('DynamoDB outages longer than every retry', () => {
  it('FinishRun cannot write: the execution still succeeds, and the recovery records the run SUCCEEDED with its output', async () => {
    proxy.inject(always(ledgerWrites.runFinalize));
    const result = await run(heartbeat.id, {});
    proxy.clear();

    expect(result.status).toBe('SUCCEEDED');
    expect((await runtime.ledger.runs.get(result.runId)).status).toBe(RunStatus.RUNNING);
    const before = await invariantReport(runtime);
    expect(before.counts.runsLeftRunning).toBe(1);

    const recovered = await runtime.recover();

    expect(recovered.repaired).toEqual([
      { runId: result.runId, jobId: heartbeat.id, status: RunStatus.SUCCEEDED, how: 'finalized' },
    ]);
    const { run: record, steps } = await runtime.ledger.runs.detail(result.runId);
    expect(record).toMatchObject({ status: RunStatus.SUCCEEDED, finalizedBy: 'sweep' });
    expect(JSON.parse(record.output ?? '')).toMatchObject({ Heartbeat: { message: 'heartbeat' } });
    expect(steps.map((s) => s.status)).toEqual([StepStatus.SUCCEEDED]);
    expect((await runtime.ledger.jobs.getState(heartbeat.id)).lastSuccess?.runId).toBe(result.runId);
    await expectInvariantsHold();
  });

  it('FailRun cannot write: the execution fails with the step’s own error, which the recovery records', async () => {
    proxy.inject(always(ledgerWrites.runFinalize));
    const result = await run(FIXTURE_JOB_ID, { permanent: true, errorName: 'VolumeInUse' });
    proxy.clear();

    expect(result).toMatchObject({ status: 'FAILED', error: 'VolumeInUse' });
    expect(result.statusEventError).toMatch(/LedgerUnavailable/);

    await runtime.recover();

    const record = await runtime.ledger.runs.get(result.runId);
    expect(record).toMatchObject({
      status: RunStatus.FAILED,
      error: { name: 'VolumeInUse', cause: expect.stringContaining('Work failed') },
      finalizedBy: 'sweep',
    });
    await expectInvariantsHold();
  });

  it('StartRun cannot write the run record: the execution fails, and the recovery records it with its input and frees the lock and the slot', async () => {
    proxy.inject(always(ledgerWrites.runCreate));
    const slot = nextSlot();
    const input = schedulerInput(runtime.job(heartbeat.id), slot, 1);
    const result = await run(heartbeat.id, input);

    expect(result).toMatchObject({ status: 'FAILED', error: 'LedgerUnavailable' });
    expect(await runtime.ledger.runs.find(result.runId)).toBeUndefined();
    const before = await invariantReport(runtime);
    expect(before.counts).toMatchObject({ recordsLost: 1, locksLeaked: 1, orphanSlots: 1 });

    // A second delivery of the slot while the ledger is still half down: a DUPLICATE of the unrecorded run.
    proxy.clear();
    const second = await run(heartbeat.id, schedulerInput(runtime.job(heartbeat.id), slot, 2));
    expect((await runtime.ledger.runs.get(second.runId)).relatedRunId).toBe(result.runId);

    await runtime.recover();

    const { run: record } = await runtime.ledger.runs.detail(result.runId);
    expect(record).toMatchObject({
      status: RunStatus.FAILED,
      trigger: { type: 'schedule', scheduledTime: slot },
      error: { name: 'LedgerUnavailable' },
      rawInput: { text: JSON.stringify(input) },
      finalizedBy: 'sweep',
    });
    expect((await runtime.ledger.jobs.getState(heartbeat.id)).lockRunId).toBeUndefined();
    await expectInvariantsHold();
  });

  it('the reconciler cannot write either: an aborted run is finalized ABORTED by the recovery', async () => {
    const handle = runtime.start(FIXTURE_JOB_ID, { sleepMs: 400 }, NO_WAITS);
    await waitUntil(async () => (await runtime.ledger.runs.find(handle.name))?.status === RunStatus.RUNNING);
    proxy.inject(always(ledgerWrites.runFinalize));
    handle.abort();
    const result = await handle.result;
    proxy.clear();

    expect(result.status).toBe('ABORTED');
    expect(result.statusEventError).toMatch(/LedgerUnavailable/);
    await runtime.recover();
    expect(await runtime.ledger.runs.get(result.runId)).toMatchObject({
      status: RunStatus.ABORTED,
      finalizedBy: 'sweep',
    });
    await expectInvariantsHold();
  });

  it('a redrive that took the lock cannot reopen the run: the run stays FAILED once, and the reconciler frees the lock', async () => {
    const input = { permanent: true, errorName: 'PermanentError' };
    let failRunInput: unknown;
    const first = await runtime.run(FIXTURE_JOB_ID, input, {
      ...NO_WAITS,
      onEvent: (event) => {
        if (event.type === 'StateEntered' && event.state.name === 'FailRun') failRunInput = event.state.input;
      },
    });
    expect(first.status).toBe('FAILED');

    // FailRun takes the job lock for the reopened run, then cannot write the run RUNNING again.
    const reopen: Rule['match'] = (request) =>
      request.op === 'UpdateItem' &&
      ledgerWrites.sk(request) === 'RUN' &&
      request.text.includes('redriveCount');
    proxy.inject(always(reopen));
    const second = await runtime.run(FIXTURE_JOB_ID, input, {
      ...NO_WAITS,
      name: first.runId,
      redrive: { from: 'FailRun', input: failRunInput, count: 1 },
    });
    expect(proxy.faulted()).toBeGreaterThan(0);
    proxy.clear();

    // FailRun's retries run out: the execution fails with the step's error, and the reconciler, told of it,
    // releases the lock the redrive took (the run is final already).
    expect(second).toMatchObject({ status: 'FAILED', error: 'PermanentError' });
    expect(second.statusEventError).toBeUndefined();
    expect((await runtime.ledger.jobs.getState(FIXTURE_JOB_ID)).lockRunId).toBeUndefined();
    const record = await runtime.ledger.runs.get(first.runId);
    expect(record).toMatchObject({ status: RunStatus.FAILED, error: { name: 'PermanentError' } });
    expect(record.redriveCount).toBeUndefined();
    await expectInvariantsHold();
  });

  it('the run notifier cannot record what it sent: the run still ends FAILED, its lock freed, and the result says the notifier was not told', async () => {
    const notificationWrite: Rule['match'] = (request) =>
      request.op === 'UpdateItem' && request.text.includes('notification');
    proxy.inject(always(notificationWrite));
    const result = await run(FIXTURE_JOB_ID, { permanent: true, errorName: 'VolumeInUse' });
    proxy.clear();

    expect(result).toMatchObject({ status: 'FAILED', error: 'VolumeInUse' });
    expect(result.statusEventError).toBeUndefined();
    expect(result.notifyError).toMatch(new RegExp(`^${result.runId}: BatchItemFailure`));
    const record = await runtime.ledger.runs.get(result.runId);
    expect(record).toMatchObject({ status: RunStatus.FAILED, error: { name: 'VolumeInUse' } });
    expect(record.notification).toBeUndefined();
    expect((await runtime.ledger.jobs.getState(FIXTURE_JOB_ID)).lockRunId).toBeUndefined();
    await expectInvariantsHold();
  });
});

let slotMinute = 0;
/** A new scheduled slot for each delivery, so the slot claims do not meet. */
function nextSlot(): string {
  slotMinute += 10;
  return new Date(Date.parse('2026-06-01T00:00:00Z') + slotMinute * 60_000)
    .toISOString()
    .replace('.000Z', 'Z');
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
