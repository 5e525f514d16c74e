import '../../helpers/quiet';
import * as z from '../../../shared/zod';
import { Decision, OverlapPolicy, RunStatus, SkipReason } from '../../../shared/constants';
import type { JobSettings } from '../../../shared/contracts';
import { ConfigError, LockHeld } from '../../../shared/errors';
import type { Ledger } from '../../../shared/ledger/ledger';
import { startRun } from '../../../tasks/lifecycle/start-run';
import { scheduledInput, startRunEvent, storedValue } from '../../helpers/builders';
import { clockAt, DAY, MINUTE } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const SLOT = '2026-11-30T10:00:00Z';
const T0 = '2026-11-30T10:00:03.000Z';

/** StartRun of execution `name`, started at `startTime`, with the clock at `at` (default: the start time). */
function start(
  ledger: Ledger,
  options: {
    name: string;
    startTime?: string;
    at?: string;
    executionInput?: unknown;
    inputText?: string;
    job?: Partial<JobSettings>;
  },
  jobInputs?: Record<string, z.ZodMiniObject>,
) {
  const startTime = options.startTime ?? T0;
  const clock = clockAt(options.at ?? startTime);
  const event = startRunEvent({ ...options, startTime });
  return startRun(event, { ledger, env: {}, now: clock.now, ...(jobInputs ? { jobInputs } : {}) });
}

describe('StartRun', () => {
  describe('a run that goes ahead', () => {
    it('records a RUNNING run with its trigger, validated input and retention, takes the lock and says RUN', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, {
        name: 'run-1',
        executionInput: scheduledInput(SLOT, { message: 'tick' }, '2'),
        job: { retentionDays: 30 },
      });

      const trigger = { type: 'schedule', scheduledTime: SLOT, scheduleArn: expect.any(String), attempt: 2 };
      expect(result).toEqual({
        decision: Decision.RUN,
        run: {
          runId: 'run-1',
          jobId: 'heartbeat',
          executionArn: expect.stringMatching(/:execution:stepjobs-heartbeat:run-1$/),
          startedAt: T0,
          trigger,
          expiresAt: Date.parse(T0) / 1000 + 30 * 86_400,
        },
        input: { message: 'tick' },
        results: {},
      });
      const run = await ledger.runs.get('run-1');
      expect(run).toMatchObject({
        status: RunStatus.RUNNING,
        trigger,
        rawInput: storedValue(scheduledInput(SLOT, { message: 'tick' }, '2')),
        input: storedValue({ message: 'tick' }),
        startedAt: T0,
      });
      expect(run).not.toHaveProperty('tookOverFrom');
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBe('run-1');
    });

    it('treats an input without a trigger as a manual run and applies the schema defaults', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', executionInput: {} });
      expect(result).toMatchObject({
        decision: Decision.RUN,
        run: { trigger: { type: 'manual' } },
        input: { message: 'heartbeat' },
      });
    });

    it('normalizes the execution start time to ISO', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', startTime: '2026-11-30T10:00:03Z' });
      expect(result.run.startedAt).toBe('2026-11-30T10:00:03.000Z');
    });

    it('fails with a ConfigError for a job whose input schema is not registered', async () => {
      const ledger = await db.fresh();
      await expect(start(ledger, { name: 'run-1', job: { id: 'unregistered' } })).rejects.toBeInstanceOf(
        ConfigError,
      );
    });
  });

  describe('scheduled slots', () => {
    it('turns a second delivery of a slot into a DUPLICATE run, not a second run', async () => {
      const ledger = await db.fresh();
      const first = await start(ledger, { name: 'run-1', executionInput: scheduledInput(SLOT) });
      const second = await start(ledger, {
        name: 'run-2',
        startTime: '2026-11-30T10:00:45.000Z',
        executionInput: scheduledInput(SLOT, {}, 2),
      });

      expect(first.decision).toBe(Decision.RUN);
      expect(second).toMatchObject({
        decision: Decision.SKIP,
        run: { runId: 'run-2' },
        reason: expect.stringContaining('run-1'),
      });
      expect(await ledger.runs.get('run-2')).toMatchObject({
        status: RunStatus.DUPLICATE,
        relatedRunId: 'run-1',
        endedAt: '2026-11-30T10:00:45.000Z',
      });
      const runs = await ledger.runs.listByJob('heartbeat');
      expect(runs.items.map((run) => [run.runId, run.status])).toEqual([
        ['run-2', RunStatus.DUPLICATE],
        ['run-1', RunStatus.RUNNING],
      ]);
      const state = await ledger.jobs.getState('heartbeat');
      expect(state.counters).toEqual({ DUPLICATE: 1 });
      expect(state.lockRunId).toBe('run-1');
      expect(state.lastRun).toBeUndefined();
    });

    it('gives the same decision when Lambda retries the same StartRun, and counts nothing twice', async () => {
      const ledger = await db.fresh();
      const first = await start(ledger, { name: 'run-1', executionInput: scheduledInput(SLOT) });
      const retry = await start(ledger, {
        name: 'run-1',
        executionInput: scheduledInput(SLOT),
        at: '2026-11-30T10:00:09.000Z',
      });
      expect(retry).toEqual(first);

      await start(ledger, { name: 'run-2', executionInput: scheduledInput(SLOT) });
      const duplicateRetry = await start(ledger, { name: 'run-2', executionInput: scheduledInput(SLOT) });
      expect(duplicateRetry.decision).toBe(Decision.SKIP);
      expect((await ledger.jobs.getState('heartbeat')).counters).toEqual({ DUPLICATE: 1 });
    });

    it('rejects a schedule trigger without a scheduled time', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, {
        name: 'run-1',
        executionInput: { trigger: { type: 'schedule' } },
      });
      expect(result).toMatchObject({ decision: Decision.REJECT, error: { Error: 'InvalidInput' } });
      expect(result.error?.Cause).toContain('trigger.scheduledTime');
    });
  });

  describe('overlap', () => {
    it('records SKIPPED (overlap) under `skip` while another run holds a live lease', async () => {
      const ledger = await db.fresh();
      await start(ledger, { name: 'run-1' });
      const second = await start(ledger, { name: 'run-2', startTime: '2026-11-30T10:10:00.000Z' });

      expect(second).toMatchObject({ decision: Decision.SKIP, reason: expect.stringContaining('run-1') });
      expect(await ledger.runs.get('run-2')).toMatchObject({
        status: RunStatus.SKIPPED,
        skipReason: SkipReason.OVERLAP,
        relatedRunId: 'run-1',
      });
      const state = await ledger.jobs.getState('heartbeat');
      expect(state).toMatchObject({ lockRunId: 'run-1', counters: { SKIPPED: 1 } });
    });

    it('takes over an expired lease and records whose it was', async () => {
      const ledger = await db.fresh();
      await start(ledger, { name: 'run-1', job: { leaseSeconds: 600 } });
      const later = new Date(Date.parse(T0) + 11 * MINUTE).toISOString();
      const result = await start(ledger, { name: 'run-2', startTime: later, job: { leaseSeconds: 600 } });

      expect(result.decision).toBe(Decision.RUN);
      expect(await ledger.runs.get('run-2')).toMatchObject({
        status: RunStatus.RUNNING,
        tookOverFrom: 'run-1',
      });
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBe('run-2');
    });

    it('takes no lock under `allow`, so runs overlap', async () => {
      const ledger = await db.fresh();
      const job = { overlap: OverlapPolicy.ALLOW };
      const first = await start(ledger, { name: 'run-1', job });
      const second = await start(ledger, { name: 'run-2', job });
      expect([first.decision, second.decision]).toEqual([Decision.RUN, Decision.RUN]);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
    });

    it('under `queue` rethrows LockHeld (for the state machine to retry) until the wait limit, then records SKIPPED', async () => {
      const ledger = await db.fresh();
      const job = { overlap: OverlapPolicy.QUEUE, queueMaxWaitSeconds: 300 };
      await start(ledger, { name: 'run-1', job });

      const startTime = '2026-11-30T10:01:00.000Z';
      const waiting = start(ledger, { name: 'run-2', startTime, at: '2026-11-30T10:05:59.000Z', job });
      await expect(waiting).rejects.toBeInstanceOf(LockHeld);
      await expect(waiting).rejects.toMatchObject({ name: 'LockHeld', holderRunId: 'run-1' });
      await expect(ledger.runs.find('run-2')).resolves.toBeUndefined();

      const gaveUp = await start(ledger, { name: 'run-2', startTime, at: '2026-11-30T10:06:00.000Z', job });
      expect(gaveUp.decision).toBe(Decision.SKIP);
      expect(await ledger.runs.get('run-2')).toMatchObject({
        status: RunStatus.SKIPPED,
        skipReason: SkipReason.QUEUE_TIMEOUT,
        relatedRunId: 'run-1',
      });
    });

    it('under `queue` runs as soon as the lock is free', async () => {
      const ledger = await db.fresh();
      const job = { overlap: OverlapPolicy.QUEUE };
      await start(ledger, { name: 'run-1', job });
      await expect(start(ledger, { name: 'run-2', job })).rejects.toBeInstanceOf(LockHeld);
      await ledger.jobs.releaseLock('heartbeat', 'run-1', T0);
      await expect(start(ledger, { name: 'run-2', job })).resolves.toMatchObject({ decision: Decision.RUN });
    });

    it('gives back a lock that a retry of a skipped StartRun took once it was free', async () => {
      const ledger = await db.fresh();
      await start(ledger, { name: 'run-1' });
      await start(ledger, { name: 'run-2' });
      await ledger.jobs.releaseLock('heartbeat', 'run-1', T0);
      const retry = await start(ledger, { name: 'run-2' });
      expect(retry.decision).toBe(Decision.SKIP);
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();
    });
  });

  describe('pause', () => {
    it('skips a scheduled trigger of a paused job but runs a manual one', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.setPaused('heartbeat', true, 'ops', T0, 'maintenance');

      const scheduled = await start(ledger, { name: 'run-1', executionInput: scheduledInput(SLOT) });
      expect(scheduled).toMatchObject({ decision: Decision.SKIP, reason: expect.stringContaining('paused') });
      expect(await ledger.runs.get('run-1')).toMatchObject({
        status: RunStatus.SKIPPED,
        skipReason: SkipReason.PAUSED,
      });
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBeUndefined();

      const manual = await start(ledger, { name: 'run-2', executionInput: { message: 'by hand' } });
      expect(manual).toMatchObject({ decision: Decision.RUN, input: { message: 'by hand' } });
      const cli = await start(ledger, {
        name: 'run-3',
        executionInput: { trigger: { type: 'cli', principal: 'arn:aws:iam::123456789012:user/ops' } },
        job: { overlap: OverlapPolicy.ALLOW },
      });
      expect(cli).toMatchObject({
        decision: Decision.RUN,
        run: { trigger: { type: 'cli', principal: expect.any(String) } },
      });
      expect((await ledger.jobs.getState('heartbeat')).counters).toEqual({ SKIPPED: 1 });
    });

    it.each([
      ['an invalid input', { executionInput: { ...scheduledInput(SLOT), message: 'x'.repeat(300) } }],
      [
        'a job that allows overlap (it takes no lock)',
        { executionInput: scheduledInput(SLOT), job: { overlap: OverlapPolicy.ALLOW } },
      ],
      ['another run holding the lock', { executionInput: scheduledInput(SLOT), lockedBy: 'run-0' }],
    ])('skips a scheduled run of a paused job whatever else holds: %s', async (_what, options) => {
      const ledger = await db.fresh();
      const { lockedBy, ...startOptions } = options as typeof options & { lockedBy?: string };
      if (lockedBy) await ledger.jobs.acquireLock('heartbeat', lockedBy, T0, '2026-11-30T12:00:00.000Z');
      await ledger.jobs.setPaused('heartbeat', true, 'ops', T0, 'maintenance');

      const result = await start(ledger, { name: 'run-1', ...startOptions });
      expect(result).toMatchObject({
        decision: Decision.SKIP,
        reason: 'Job heartbeat is paused: maintenance (by ops)',
      });
      expect(await ledger.runs.get('run-1')).toMatchObject({
        status: RunStatus.SKIPPED,
        skipReason: SkipReason.PAUSED,
        pause: { by: 'ops', reason: 'maintenance', at: T0 },
      });
      // The lock is as it was: never taken by the skipped run.
      expect((await ledger.jobs.getState('heartbeat')).lockRunId).toBe(lockedBy);
    });
  });

  describe('pause until', () => {
    const UNTIL = '2026-11-30T10:00:00.000Z';

    it.each([
      ['a job that takes the lock', {}],
      ['a job that allows overlap', { overlap: OverlapPolicy.ALLOW }],
    ])(
      'skips scheduled runs before the end, then the first run after it runs, says so and ends the pause: %s',
      async (_what, job) => {
        const ledger = await db.fresh();
        await ledger.jobs.setPaused('heartbeat', true, 'ops', '2026-11-30T08:00:00.000Z', 'deploy', UNTIL);

        const before = await start(ledger, {
          name: 'run-1',
          startTime: '2026-11-30T09:50:03.000Z',
          executionInput: scheduledInput('2026-11-30T09:50:00Z'),
          job,
        });
        expect(before).toMatchObject({ decision: Decision.SKIP });
        expect(await ledger.runs.get('run-1')).toMatchObject({
          status: RunStatus.SKIPPED,
          pause: { by: 'ops', reason: 'deploy', until: UNTIL },
        });

        const after = await start(ledger, { name: 'run-2', executionInput: scheduledInput(SLOT), job });
        expect(after).toMatchObject({ decision: Decision.RUN });
        expect(await ledger.runs.get('run-2')).toMatchObject({
          status: RunStatus.RUNNING,
          resumedAfter: { by: 'ops', reason: 'deploy', until: UNTIL },
        });
        const state = await ledger.jobs.getState('heartbeat');
        expect(state).toMatchObject({
          paused: false,
          lastResume: { by: 'pause expiry', at: UNTIL, expired: true, pause: { reason: 'deploy' } },
        });
        expect(state.pausedUntil).toBeUndefined();

        // Only the first run after the end says so.
        const next = await start(ledger, {
          name: 'run-3',
          startTime: '2026-11-30T10:10:03.000Z',
          executionInput: scheduledInput('2026-11-30T10:10:00Z'),
          job: { ...job, overlap: OverlapPolicy.ALLOW },
        });
        expect(next).toMatchObject({ decision: Decision.RUN });
        expect((await ledger.runs.get('run-3')).resumedAfter).toBeUndefined();
      },
    );

    it('a rejected input after the end leaves the pause for the next run that goes ahead to end and report', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.setPaused('heartbeat', true, 'ops', '2026-11-30T08:00:00.000Z', 'deploy', UNTIL);
      const rejected = await start(ledger, {
        name: 'run-1',
        executionInput: { ...scheduledInput(SLOT), message: 'x'.repeat(300) },
      });
      expect(rejected).toMatchObject({ decision: Decision.REJECT });
      expect((await ledger.runs.get('run-1')).resumedAfter).toBeUndefined();
      expect(await ledger.jobs.getState('heartbeat')).toMatchObject({ paused: true, pausedUntil: UNTIL });

      await start(ledger, { name: 'run-2', executionInput: scheduledInput('2026-11-30T10:10:00Z') });
      expect((await ledger.runs.get('run-2')).resumedAfter).toMatchObject({ reason: 'deploy', until: UNTIL });
      expect((await ledger.jobs.getState('heartbeat')).paused).toBe(false);
    });

    it('a resume keeps who resumed the job, why, and the pause it ended', async () => {
      const ledger = await db.fresh();
      await ledger.jobs.setPaused('heartbeat', true, 'ops', T0, 'deploy', '2026-12-01T00:00:00.000Z');
      const ended = await ledger.jobs.setPaused('heartbeat', false, 'jane', T0, 'done early');
      expect(ended).toEqual({ by: 'ops', reason: 'deploy', at: T0, until: '2026-12-01T00:00:00.000Z' });
      expect(await ledger.jobs.getState('heartbeat')).toMatchObject({
        paused: false,
        lastResume: { by: 'jane', at: T0, reason: 'done early' },
      });
    });
  });

  describe('invalid input', () => {
    it('records a FAILED run naming the bad field, counts it, and says REJECT with the same error', async () => {
      const ledger = await db.fresh();
      const raw = { message: 'x'.repeat(300) };
      const result = await start(ledger, {
        name: 'run-1',
        executionInput: raw,
        at: '2026-11-30T10:00:04.000Z',
      });

      expect(result.decision).toBe(Decision.REJECT);
      expect(result.error).toEqual({
        Error: 'InvalidInput',
        Cause: expect.stringMatching(/message: Too big/),
      });
      const run = await ledger.runs.get('run-1');
      expect(run).toMatchObject({
        status: RunStatus.FAILED,
        rawInput: storedValue(raw),
        error: { name: 'InvalidInput', cause: result.error?.Cause },
        endedAt: '2026-11-30T10:00:04.000Z',
        durationMs: 1_000,
      });
      const state = await ledger.jobs.getState('heartbeat');
      expect(state.lastRun).toMatchObject({ runId: 'run-1', status: RunStatus.FAILED });
      expect(state.counters).toEqual({ FAILED: 1 });
      expect(state.lockRunId).toBeUndefined();
    });

    it('names every bad field, unknown ones included', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', executionInput: { message: 42, extra: true } });
      expect(result.error?.Cause).toContain('message:');
      expect(result.error?.Cause).toContain('extra');
    });

    it('rejects an execution input that is not a JSON object, naming (root), and keeps it', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', executionInput: [1, 2] });
      expect(result).toMatchObject({ decision: Decision.REJECT, input: {}, results: {} });
      expect(result.error?.Cause).toContain('(root)');
      const run = await ledger.runs.get('run-1');
      expect(run).toMatchObject({ status: RunStatus.FAILED, rawInput: storedValue([1, 2]) });
      expect(run).not.toHaveProperty('input');
    });

    it('rejects a bad trigger naming trigger.<field>, recording the run as manual with the raw input', async () => {
      const ledger = await db.fresh();
      const raw = { trigger: { type: 'cron', scheduledTime: SLOT }, message: 'hi' };
      const result = await start(ledger, { name: 'run-1', executionInput: raw });
      expect(result.decision).toBe(Decision.REJECT);
      expect(result.error?.Cause).toContain('trigger.type');
      expect(await ledger.runs.get('run-1')).toMatchObject({
        trigger: { type: 'manual' },
        rawInput: storedValue(raw),
      });
    });

    it.each([
      ['a constructor key', '{"constructor":1}', 'constructor'],
      ['a top-level __proto__ key', '{"__proto__":{"a":1}}', '__proto__'],
      ['a number beyond 2^53', '{"n":12345678901234567890}', 'n'],
      ['an empty key and odd unicode', '{"":"\\u0000\\ud800 \\u2028","é":1}', '""'],
    ])('records %s as a FAILED run that keeps the exact text', async (_what, text, field) => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', inputText: text });
      expect(result.decision).toBe(Decision.REJECT);
      expect(result.error?.Cause).toContain(field === '""' ? 'Unrecognized key' : field);
      const run = await ledger.runs.get('run-1');
      expect(run.status).toBe(RunStatus.FAILED);
      expect(run.rawInput.text).toBe(text);
    });

    it.each([
      ['null', 'null', 'got null'],
      ['a string', '"hi"', 'got a string'],
      ['an array', '[1,2]', 'got an array'],
    ])('rejects %s as input, naming (root)', async (_what, text, got) => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', inputText: text });
      expect(result.error?.Cause).toContain(`(root): must be a JSON object, ${got}`);
      expect((await ledger.runs.get('run-1')).rawInput.text).toBe(text);
    });

    it('rejects input nested deeper than the limit, naming where, and keeps its text', async () => {
      const ledger = await db.fresh();
      const text = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
      const result = await start(ledger, { name: 'run-1', inputText: text });
      expect(result.error?.Cause).toMatch(
        /a\.a\.a.*\(64 levels\): nests objects or arrays deeper than 64 levels/,
      );
      const { run } = await ledger.runs.detail('run-1');
      expect(run.rawInput).toEqual({ text });
    });

    it('keeps an input larger than the run item whole in the run partition', async () => {
      const ledger = await db.fresh();
      const input = { message: 'hi', notes: 'n'.repeat(200 * 1024) };
      await start(ledger, { name: 'run-1', executionInput: input });
      const onItem = await ledger.runs.get('run-1');
      expect(onItem.rawInput).toMatchObject({ truncated: true, bytes: JSON.stringify(input).length });
      expect(Buffer.byteLength(onItem.rawInput.text)).toBeLessThanOrEqual(1024);
      const detail = await ledger.runs.detail('run-1');
      expect(detail.run.rawInput).toEqual(storedValue(input));
    });

    it('returns the recorded REJECT again when retried', async () => {
      const ledger = await db.fresh();
      const first = await start(ledger, { name: 'run-1', executionInput: { message: 42 } });
      const retry = await start(ledger, { name: 'run-1', executionInput: { message: 42 } });
      expect(retry.decision).toBe(Decision.REJECT);
      expect(retry.error).toEqual(first.error);
      expect((await ledger.jobs.getState('heartbeat')).counters).toEqual({ FAILED: 1 });
    });
  });

  describe('destructive jobs', () => {
    const CleanupInput = z.strictObject({
      dryRun: z._default(z.boolean(), false),
      maxActions: z._default(z.int().check(z.maximum(50)), 10),
    });
    const jobInputs = { cleanup: CleanupInput };
    const job = { id: 'cleanup', destructive: true, overlap: OverlapPolicy.ALLOW };

    it('defaults a manual run to dryRun: true', async () => {
      const ledger = await db.fresh();
      const result = await start(ledger, { name: 'run-1', job, executionInput: {} }, jobInputs);
      expect(result.input).toEqual({ dryRun: true, maxActions: 10 });
      expect((await ledger.runs.get('run-1')).input).toEqual(storedValue({ dryRun: true, maxActions: 10 }));
    });

    it('keeps an explicit dryRun: false on a manual run, and the schema default on a scheduled one', async () => {
      const ledger = await db.fresh();
      const manual = await start(
        ledger,
        { name: 'run-1', job, executionInput: { dryRun: false } },
        jobInputs,
      );
      expect(manual.input).toEqual({ dryRun: false, maxActions: 10 });
      const scheduled = await start(
        ledger,
        { name: 'run-2', job, executionInput: scheduledInput(SLOT) },
        jobInputs,
      );
      expect(scheduled.input).toEqual({ dryRun: false, maxActions: 10 });
    });

    it('names the bad field of a destructive job’s input', async () => {
      const ledger = await db.fresh();
      const result = await start(
        ledger,
        { name: 'run-1', job, executionInput: { maxActions: 500 } },
        jobInputs,
      );
      expect(result.error?.Cause).toMatch(/maxActions: Too big/);
    });
  });

  it('sets the retention expiry from the execution start, not the clock', async () => {
    const ledger = await db.fresh();
    const result = await start(ledger, {
      name: 'run-1',
      at: new Date(Date.parse(T0) + DAY).toISOString(),
      job: { retentionDays: 2 },
    });
    expect(result.run.expiresAt).toBe(Date.parse(T0) / 1000 + 2 * 86_400);
  });
});
