/**
 * The run lifecycle end to end: the CDK-synthesized definitions run on the local engine, every handler
 * in-process, the ledger in dynalite. Each test asserts what the ledger recorded, not only how the execution
 * ended. The `fixture` job (test/fixtures) produces the paths the heartbeat cannot: retries, permanent
 * failures, and a step long enough to abort.
 */
import '../helpers/quiet';
import { RunStatus, SkipReason, StepStatus, TriggerType } from '../../shared/constants';
import type { ExecutionHandle, ExecutionResult } from '../../local/runtime';
import { schedulerInput } from '../../local/schedule-simulator';
import type { HeartbeatOutput } from '../../tasks/heartbeat/heartbeat';
import { jobInputs } from '../../tasks/lifecycle/job-inputs';
import { heartbeat } from '../../workflows/heartbeat';
import { FixtureInput } from '../fixtures/tasks/fixture-input';
import { FIXTURE_JOB_ID, fixtureJob, WORK_MAX_ATTEMPTS, WORK_STEP } from '../fixtures/workflows/fixture-job';
import { recordEvents, useLocalRuntime, waitFor } from '../helpers/local-runtime';
import { storedValue } from '../helpers/builders';

// StartRun validates input against the registry it imports: swap in one with the fixture job's schema.
jest.mock('../../tasks/lifecycle/job-inputs', () => jest.requireActual('../fixtures/tasks/job-inputs'));

const runtime = useLocalRuntime({
  jobs: [heartbeat, fixtureJob],
  jobInputs: { ...jobInputs, [FIXTURE_JOB_ID]: FixtureInput },
});
const HEARTBEAT = heartbeat.id;
const NO_RETRY_WAIT = { retryIntervalOverrides: { [WORK_STEP]: 0 } };

const ledger = () => runtime().ledger;
const detail = (result: ExecutionResult) => ledger().runs.detail(result.runId);
const jobState = (jobId: string) => ledger().jobs.getState(jobId);
const heartbeatOutput = (result: ExecutionResult) =>
  (result.output as { results: { Heartbeat: HeartbeatOutput } }).results.Heartbeat;
/** A scheduled delivery exactly as the synthesized schedule's target input would start it. */
const scheduled = (scheduledTime: string, attempt = 1) =>
  schedulerInput(runtime().job(HEARTBEAT), scheduledTime, attempt);

describe('a successful heartbeat run', () => {
  it('records the run, its step, a summary and the job state, and releases the lock', async () => {
    const result = await runtime().run(HEARTBEAT, {});
    expect(result.status).toBe('SUCCEEDED');

    const { run, steps } = await detail(result);
    expect(run).toMatchObject({
      runId: result.runId,
      jobId: HEARTBEAT,
      executionArn: result.executionArn,
      status: RunStatus.SUCCEEDED,
      trigger: { type: TriggerType.MANUAL },
      input: storedValue({ message: 'heartbeat' }),
    });
    expect(run.finalizedBy).toBeUndefined();
    expect(run.durationMs).toBe(Date.parse(run.endedAt ?? '') - Date.parse(run.startedAt));
    // The run starts when the execution does (the status-change event's startDate), not a state later.
    expect(Math.abs(Date.parse(run.startedAt) - Date.parse(result.startedAt))).toBeLessThan(100);
    expect(steps).toEqual([
      expect.objectContaining({ name: 'Heartbeat', status: StepStatus.SUCCEEDED, attempts: 1 }),
    ]);
    expect(steps[0]?.failures).toBeUndefined();
    // What the step returned is on its step record; the run item stays small.
    expect(JSON.parse(steps[0]?.output?.text ?? '')).toEqual(heartbeatOutput(result));
    expect(run.output).toBeUndefined();

    const state = await jobState(HEARTBEAT);
    const summary = {
      runId: result.runId,
      status: RunStatus.SUCCEEDED,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
    };
    expect(state.lastRun).toEqual(summary);
    expect(state.lastSuccess).toEqual(summary);
    expect(state.lockRunId).toBeUndefined();
    expect(state.lockExpiresAt).toBeUndefined();
  });

  it("tells the next run about the previous one (the heartbeat's previousRun)", async () => {
    const first = await runtime().run(HEARTBEAT, { message: 'first' });
    const second = await runtime().run(HEARTBEAT, { message: 'second' });
    const { run } = await detail(first);
    expect(heartbeatOutput(second)).toMatchObject({
      message: 'second',
      triggerType: TriggerType.MANUAL,
      lagMs: null,
      previousRun: {
        runId: first.runId,
        status: RunStatus.SUCCEEDED,
        startedAt: run.startedAt,
        endedAt: run.endedAt,
      },
    });
  });

  it('adds 3 lifecycle transitions: StartRun, Decide and FinishRun around the one step', async () => {
    const events = recordEvents();
    const result = await runtime().run(HEARTBEAT, {}, { onEvent: events.onEvent });
    expect(result.status).toBe('SUCCEEDED');
    const entered = events.entered();
    expect(entered).toEqual(['StartRun', 'Decide', 'Heartbeat', 'FinishRun']);
    expect(entered.filter((name) => name !== 'Heartbeat')).toHaveLength(3);
  });
});

describe('step errors', () => {
  it('retries a transient error and records every failed attempt on the step', async () => {
    const events = recordEvents();
    const result = await runtime().run(
      FIXTURE_JOB_ID,
      { failTimes: 2 },
      { ...NO_RETRY_WAIT, onEvent: events.onEvent },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(events.count('StateRetried', WORK_STEP)).toBe(2);

    const { run, steps } = await detail(result);
    expect(run.status).toBe(RunStatus.SUCCEEDED);
    expect(steps).toHaveLength(1);
    expect(JSON.parse(steps[0]?.output?.text ?? '')).toEqual({ attempt: 3, sleptMs: 0 });
    const [step] = steps;
    expect(step).toMatchObject({ name: WORK_STEP, status: StepStatus.SUCCEEDED, attempts: 3 });
    // A later successful attempt clears the step's error; the failures stay.
    expect(step?.error).toBeUndefined();
    expect(step?.failures).toEqual(
      [1, 2].map((attempt) => ({
        attempt,
        at: expect.any(String),
        error: { name: 'TransientError', cause: `Work failed on attempt ${attempt} of run ${result.runId}` },
      })),
    );
    expect((await jobState(FIXTURE_JOB_ID)).lockRunId).toBeUndefined();
  });

  it('fails the run once the retries are used up', async () => {
    const result = await runtime().run(FIXTURE_JOB_ID, { failTimes: 10 }, NO_RETRY_WAIT);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TransientError' });
    const { run, steps } = await detail(result);
    expect(run.status).toBe(RunStatus.FAILED);
    expect(steps[0]).toMatchObject({ status: StepStatus.FAILED, attempts: WORK_MAX_ATTEMPTS + 1 });
    expect(steps[0]?.failures).toHaveLength(WORK_MAX_ATTEMPTS + 1);
  });

  it('fails the run with the error name and message on a permanent error, and releases the lock', async () => {
    const events = recordEvents();
    const result = await runtime().run(
      FIXTURE_JOB_ID,
      { permanent: true, errorName: 'PermanentError' },
      { ...NO_RETRY_WAIT, onEvent: events.onEvent },
    );
    const message = `Work failed on attempt 1 of run ${result.runId}`;
    // The execution fails with the Lambda error as Step Functions reports it: a JSON Cause.
    expect(result).toMatchObject({ status: 'FAILED', error: 'PermanentError' });
    // FailRun, having recorded the run, fails the execution with the step's error and where it happened.
    expect(JSON.parse(result.cause ?? '')).toEqual({
      errorType: 'PermanentError',
      errorMessage: `${WORK_STEP} failed: ${message}`,
    });
    expect(events.count('StateRetried', WORK_STEP)).toBe(0);
    expect(events.entered()).toEqual(['StartRun', 'Decide', WORK_STEP, `${WORK_STEP}Caught`, 'FailRun']);

    const { run, steps } = await detail(result);
    // The ledger keeps the message itself, not the JSON blob.
    expect(run).toMatchObject({
      status: RunStatus.FAILED,
      error: { name: 'PermanentError', cause: message },
    });
    // FailRun ended it; the reconciler's FAILED event found it final and left it alone.
    expect(run.finalizedBy).toBeUndefined();
    expect(steps).toEqual([
      expect.objectContaining({
        name: WORK_STEP,
        status: StepStatus.FAILED,
        attempts: 1,
        error: { name: 'PermanentError', cause: message },
      }),
    ]);
    const state = await jobState(FIXTURE_JOB_ID);
    expect(state.lockRunId).toBeUndefined();
    expect(state.lastRun).toMatchObject({ runId: result.runId, status: RunStatus.FAILED });
    expect(state.lastSuccess?.runId).not.toBe(result.runId);
  });
});

/**
 * Step Functions' redrive, which the local engine lacks, done as Step Functions does it: the same execution
 * again from the state that failed (entered, never exited), with that state's original input and
 * `$$.Execution.RedriveCount` one higher (StartOptions.redrive).
 */
describe('a redriven execution', () => {
  /** Run the fixture job until it fails; returns the run and the input of the state that failed. */
  async function failed(input: Record<string, unknown>) {
    const events = recordEvents();
    const result = await runtime().run(FIXTURE_JOB_ID, input, { ...NO_RETRY_WAIT, onEvent: events.onEvent });
    expect(result.status).toBe('FAILED');
    const entered = events.events.filter((e) => e.type === 'StateEntered');
    const last = entered.at(-1);
    // FailRun failed the execution itself: it is where a redrive restarts.
    expect(last && 'state' in last ? last.state.name : undefined).toBe('FailRun');
    expect(events.count('StateExited', 'FailRun')).toBe(0);
    return { result, failRunInput: last && 'state' in last ? last.state.input : undefined };
  }

  const redrive = (first: { result: ExecutionResult; failRunInput: unknown }, input: unknown, count = 1) => {
    const events = recordEvents();
    const done = runtime().run(FIXTURE_JOB_ID, input, {
      ...NO_RETRY_WAIT,
      name: first.result.runId,
      redrive: { from: 'FailRun', input: first.failRunInput, count },
      onEvent: events.onEvent,
    });
    return { events, done };
  };

  it('restarts at FailRun, which reopens the run and resumes the failed step; the run ends SUCCEEDED and keeps how it failed before', async () => {
    const before = (await jobState(FIXTURE_JOB_ID)).counters;
    // Every attempt of the first execution fails; the fifth (the redrive's) succeeds.
    const input = { failTimes: WORK_MAX_ATTEMPTS + 1 };
    const first = await failed(input);
    expect((await detail(first.result)).run.status).toBe(RunStatus.FAILED);

    const { events, done } = redrive(first, input);
    const second = await done;

    expect(second.status).toBe('SUCCEEDED');
    expect(events.entered()).toEqual(['FailRun', 'Resume', WORK_STEP, 'FinishRun']);
    const { run, steps } = await detail(second);
    expect(run).toMatchObject({
      status: RunStatus.SUCCEEDED,
      redriveCount: 1,
      redrivenAt: expect.any(String),
      redrives: [
        { status: RunStatus.FAILED, error: { name: 'TransientError' }, endedAt: expect.any(String) },
      ],
    });
    expect(run.error).toBeUndefined();
    // The step's record goes on counting: the redrive's attempt is the fifth, after four failures.
    expect(steps).toEqual([
      expect.objectContaining({
        name: WORK_STEP,
        status: StepStatus.SUCCEEDED,
        attempts: WORK_MAX_ATTEMPTS + 2,
      }),
    ]);
    expect(steps[0]?.failures).toHaveLength(WORK_MAX_ATTEMPTS + 1);
    // Counted once, as it ended: the FAILED count was taken back when the run was reopened.
    const after = await jobState(FIXTURE_JOB_ID);
    expect(after.counters.FAILED ?? 0).toBe(before.FAILED ?? 0);
    expect(after.counters.SUCCEEDED ?? 0).toBe((before.SUCCEEDED ?? 0) + 1);
    expect(after.lockRunId).toBeUndefined();
  });

  it('a step that fails again in the redrive ends the run FAILED again, for a later redrive', async () => {
    const input = { permanent: true, errorName: 'PermanentError' };
    const first = await failed(input);
    const { events, done } = redrive(first, input);
    const second = await done;

    expect(second).toMatchObject({ status: 'FAILED', error: 'PermanentError' });
    expect(events.entered()).toEqual(['FailRun', 'Resume', WORK_STEP, `${WORK_STEP}Caught`, 'FailRun']);
    const { run } = await detail(second);
    expect(run).toMatchObject({
      status: RunStatus.FAILED,
      redriveCount: 1,
      error: { name: 'PermanentError' },
    });
    expect(run.redrives).toHaveLength(1);
    expect((await jobState(FIXTURE_JOB_ID)).lockRunId).toBeUndefined();
  });

  it('is refused while another run holds the job lock: RedriveBlocked, and the run is left as it was', async () => {
    const input = { permanent: true, errorName: 'PermanentError' };
    const first = await failed(input);
    const now = new Date();
    await ledger().jobs.acquireLock(
      FIXTURE_JOB_ID,
      'other-run',
      now.toISOString(),
      new Date(now.getTime() + 60_000).toISOString(),
    );
    try {
      const second = await redrive(first, input).done;
      expect(second).toMatchObject({ status: 'FAILED', error: 'RedriveBlocked' });
      const { run } = await detail(second);
      expect(run).toMatchObject({ status: RunStatus.FAILED, error: { name: 'PermanentError' } });
      expect(run.redriveCount).toBeUndefined();
      expect((await jobState(FIXTURE_JOB_ID)).lockRunId).toBe('other-run');
    } finally {
      await ledger().jobs.releaseLock(FIXTURE_JOB_ID, 'other-run', new Date().toISOString());
    }
  });
});

describe('an execution aborted mid-run', () => {
  it('is finalized ABORTED by the reconciler, which releases the lock', async () => {
    const entered: string[] = [];
    let handle: ExecutionHandle | undefined = undefined;
    handle = runtime().start(
      FIXTURE_JOB_ID,
      { sleepMs: 1_500 },
      {
        onEvent: (event) => {
          if (event.type !== 'StateEntered') return;
          entered.push(event.state.name);
          if (event.state.name === WORK_STEP) handle?.abort();
        },
      },
    );
    const result = await handle.result;
    expect(result.status).toBe('ABORTED');
    expect(entered).toEqual(['StartRun', 'Decide', WORK_STEP]);

    const { run } = await detail(result);
    expect(run).toMatchObject({ status: RunStatus.ABORTED, finalizedBy: 'reconciler' });
    expect(run.endedAt).toBeDefined();
    const state = await jobState(FIXTURE_JOB_ID);
    expect(state.lockRunId).toBeUndefined();
    expect(state.lastRun).toMatchObject({ runId: result.runId, status: RunStatus.ABORTED });

    // Locally the aborted handler runs on in the background (Lambda would too, until its own timeout). It
    // records its step, and nothing after it runs: the run stays ABORTED.
    const step = await waitFor('the aborted Work step to end', async () => {
      const steps = (await detail(result)).steps;
      return steps.find((s) => s.name === WORK_STEP && s.status !== StepStatus.RUNNING);
    });
    expect(step.status).toBe(StepStatus.SUCCEEDED);
    expect((await detail(result)).run.status).toBe(RunStatus.ABORTED);
    expect((await jobState(FIXTURE_JOB_ID)).lockRunId).toBeUndefined();
  });

  it('redriven, restarts the step it was in, which reopens the run; the run ends SUCCEEDED', async () => {
    let workInput: unknown;
    let handle: ExecutionHandle | undefined = undefined;
    handle = runtime().start(
      FIXTURE_JOB_ID,
      { sleepMs: 300 },
      {
        onEvent: (event) => {
          if (event.type !== 'StateEntered' || event.state.name !== WORK_STEP) return;
          workInput = event.state.input;
          handle?.abort();
        },
      },
    );
    const aborted = await handle.result;
    expect((await detail(aborted)).run.status).toBe(RunStatus.ABORTED);
    await waitFor('the aborted Work step to end', async () =>
      (await detail(aborted)).steps.find((s) => s.status !== StepStatus.RUNNING),
    );

    // The state that was running (entered, never exited) is where Step Functions restarts a redrive.
    const redriven = await runtime().run(
      FIXTURE_JOB_ID,
      {},
      { name: aborted.runId, redrive: { from: WORK_STEP, input: workInput, count: 1 } },
    );

    expect(redriven.status).toBe('SUCCEEDED');
    const { run, steps } = await detail(redriven);
    expect(run).toMatchObject({
      status: RunStatus.SUCCEEDED,
      redriveCount: 1,
      redrives: [{ status: RunStatus.ABORTED }],
    });
    expect(steps[0]).toMatchObject({ name: WORK_STEP, status: StepStatus.SUCCEEDED, attempts: 2 });
    expect((await jobState(FIXTURE_JOB_ID)).lockRunId).toBeUndefined();
  });
});

describe('scheduled deliveries of one slot', () => {
  it('run once: a second delivery is a DUPLICATE naming the run that owns the slot', async () => {
    const slot = '2026-03-02T08:10:00Z';
    const first = await runtime().run(HEARTBEAT, scheduled(slot, 1));
    const events = recordEvents();
    const second = await runtime().run(HEARTBEAT, scheduled(slot, 2), { onEvent: events.onEvent });

    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(events.entered()).toEqual(['StartRun', 'Decide', 'Skipped']);
    const trigger = {
      type: TriggerType.SCHEDULE,
      scheduledTime: slot,
      scheduleArn: runtime().job(HEARTBEAT).schedule?.arn,
    };
    expect((await detail(first)).run).toMatchObject({
      status: RunStatus.SUCCEEDED,
      trigger: { ...trigger, attempt: 1 },
    });
    const duplicate = await detail(second);
    expect(duplicate.run).toMatchObject({
      status: RunStatus.DUPLICATE,
      relatedRunId: first.runId,
      trigger: { ...trigger, attempt: 2 },
    });
    expect(duplicate.run.endedAt).toBeDefined();
    expect(duplicate.steps).toEqual([]);
    // It says how to run the slot's work again (a console copy of a scheduled execution lands here too).
    expect(duplicate.run.hint).toBe(
      `This execution's input carries the trigger of schedule slot ${slot}, which run ${first.runId} already has, so it ran nothing. To run the slot's work again, start an execution without the "trigger" member (a manual run), or: stepjobs rerun ${first.runId}`,
    );
  });

  it('run once when both deliveries arrive at the same time', async () => {
    const slot = '2026-03-02T08:20:00Z';
    const results = await Promise.all(
      [1, 2].map((attempt) => runtime().run(HEARTBEAT, scheduled(slot, attempt))),
    );
    expect(results.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const runs = await Promise.all(results.map(async (r) => (await detail(r)).run));
    const winner = runs.find((r) => r.status === RunStatus.SUCCEEDED);
    const loser = runs.find((r) => r.status === RunStatus.DUPLICATE);
    expect(runs.map((r) => r.status).sort()).toEqual([RunStatus.DUPLICATE, RunStatus.SUCCEEDED]);
    expect(loser?.relatedRunId).toBe(winner?.runId);
    expect((await jobState(HEARTBEAT)).lockRunId).toBeUndefined();
  });
});

describe('the job lock', () => {
  const leaseFromNow = (ms: number) => new Date(Date.now() + ms).toISOString();

  it('skips a run while another run holds a live lease, ending the execution through Skipped', async () => {
    const holder = 'other-run-holding-the-lock';
    await ledger().jobs.acquireLock(HEARTBEAT, holder, new Date().toISOString(), leaseFromNow(10 * 60_000));
    try {
      const events = recordEvents();
      const result = await runtime().run(HEARTBEAT, {}, { onEvent: events.onEvent });
      expect(result.status).toBe('SUCCEEDED');
      expect(events.entered()).toEqual(['StartRun', 'Decide', 'Skipped']);
      const { run, steps } = await detail(result);
      expect(run).toMatchObject({
        status: RunStatus.SKIPPED,
        skipReason: SkipReason.OVERLAP,
        relatedRunId: holder,
      });
      expect(steps).toEqual([]);
      expect((await jobState(HEARTBEAT)).lockRunId).toBe(holder);
    } finally {
      await ledger().jobs.releaseLock(HEARTBEAT, holder, new Date().toISOString());
    }
  });

  it('takes over an expired lease and records whose it was', async () => {
    const crashed = 'run-that-never-released-its-lock';
    const lease = leaseFromNow(-60_000);
    await ledger().jobs.acquireLock(HEARTBEAT, crashed, lease, lease);
    const result = await runtime().run(HEARTBEAT, {});
    expect(result.status).toBe('SUCCEEDED');
    expect((await detail(result)).run).toMatchObject({ status: RunStatus.SUCCEEDED, tookOverFrom: crashed });
    expect((await jobState(HEARTBEAT)).lockRunId).toBeUndefined();
  });
});

describe('invalid console input', () => {
  it.each([
    ['a field of the wrong type', { message: 42 }, 'message: '],
    ['an unknown field', { nope: 1 }, '"nope"'],
    ['an array instead of an object', [1], '(root): must be a JSON object, got an array'],
    ['null', null, '(root): must be a JSON object, got null'],
    ['a constructor key', { constructor: 1 }, '"constructor"'],
    ['a number beyond 2^53', { n: 2 ** 64 }, '"n"'],
  ])(
    'fails from the Rejected state with InvalidInput naming the problem: %s',
    async (_what, input, named) => {
      const events = recordEvents();
      const result = await runtime().run(HEARTBEAT, input, { onEvent: events.onEvent });
      expect(result).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      expect(result.cause).toContain(named);
      expect(events.entered()).toEqual(['StartRun', 'Decide', 'Rejected']);

      const { run, steps } = await detail(result);
      expect(run).toMatchObject({
        status: RunStatus.FAILED,
        rawInput: storedValue(input),
        error: { name: 'InvalidInput', cause: result.cause },
      });
      expect(run.error?.cause).toMatch(/^Invalid heartbeat input: /);
      expect(run.finalizedBy).toBeUndefined();
      expect(steps).toEqual([]);
      const state = await jobState(HEARTBEAT);
      expect(state.lastRun).toMatchObject({ runId: result.runId, status: RunStatus.FAILED });
      expect(state.lockRunId).toBeUndefined();
    },
  );
});

describe('a paused job', () => {
  it('skips its scheduled deliveries but still runs a manual run', async () => {
    const now = () => new Date().toISOString();
    await ledger().jobs.setPaused(HEARTBEAT, true, 'e2e-test', now(), 'maintenance');
    try {
      const scheduledRun = await runtime().run(HEARTBEAT, scheduled('2026-03-02T09:00:00Z'));
      expect(scheduledRun.status).toBe('SUCCEEDED');
      expect((await detail(scheduledRun)).run).toMatchObject({
        status: RunStatus.SKIPPED,
        skipReason: SkipReason.PAUSED,
      });

      const manual = await runtime().run(HEARTBEAT, { message: 'by hand' });
      const { run, steps } = await detail(manual);
      expect(run.status).toBe(RunStatus.SUCCEEDED);
      expect(steps.map((s) => s.status)).toEqual([StepStatus.SUCCEEDED]);
    } finally {
      await ledger().jobs.setPaused(HEARTBEAT, false, 'e2e-test', now());
    }
  });

  it('paused until a time: skips deliveries before it, then resumes by itself and the first run says so', async () => {
    const until = new Date(Date.now() + 1_500).toISOString();
    await ledger().jobs.setPaused(HEARTBEAT, true, 'e2e-test', new Date().toISOString(), 'deploy', until);
    const before = await runtime().run(HEARTBEAT, scheduled('2026-03-03T09:00:00Z'));
    expect((await detail(before)).run).toMatchObject({
      status: RunStatus.SKIPPED,
      pause: { by: 'e2e-test', reason: 'deploy', until },
    });

    await new Promise((resolve) => setTimeout(resolve, Date.parse(until) - Date.now() + 50));
    const after = await runtime().run(HEARTBEAT, scheduled('2026-03-03T09:10:00Z'));
    const { run, steps } = await detail(after);
    expect(run).toMatchObject({
      status: RunStatus.SUCCEEDED,
      resumedAfter: { by: 'e2e-test', reason: 'deploy', until },
    });
    expect(steps.map((s) => s.status)).toEqual([StepStatus.SUCCEEDED]);
    expect(await jobState(HEARTBEAT)).toMatchObject({
      paused: false,
      lastResume: { by: 'pause expiry', at: until, expired: true },
    });
  });
});
