import {
  duration,
  recoveryLine,
  runDetailText,
  runsTable,
  statusText,
  triggerText,
  truncate,
  zoned,
} from '../../bin/cli/format';
import { sweepText } from '../../bin/cli/schedule-command';
import { progressLine, ProgressTracker, shortCause, type ProgressEvent } from '../../bin/cli/progress';
import { RunStatus, SkipReason, StepStatus } from '../../shared/constants';
import type { RunDetail } from '../../shared/ledger/runs-repository';
import { runningRecord, storedValue } from '../helpers/builders';

describe('duration', () => {
  it.each([
    [undefined, '-'],
    [0, '0 ms'],
    [999, '999 ms'],
    [1000, '1.0 s'],
    [12_345, '12.3 s'],
    [59_940, '59.9 s'],
    [59_970, '1 min 0 s'],
    [60_000, '1 min 0 s'],
    [119_700, '2 min 0 s'],
    [245_000, '4 min 5 s'],
  ])('shows %p ms as %j', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

describe('zoned', () => {
  it("shows the time in the job's zone with the zone's abbreviation, across DST", () => {
    expect(zoned(new Date('2026-11-30T13:00:00Z'), 'Europe/Berlin')).toBe('2026-11-30 14:00 CET');
    expect(zoned(new Date('2026-07-01T13:00:00Z'), 'Europe/Berlin')).toBe('2026-07-01 15:00 CEST');
    expect(zoned(new Date('2026-11-30T23:30:00Z'), 'Asia/Tokyo')).toMatch(/^2026-12-01 08:30 /);
  });
});

describe('statusText', () => {
  it('says why a run was SKIPPED', () => {
    expect(statusText({ status: RunStatus.SKIPPED, skipReason: SkipReason.PAUSED })).toBe('SKIPPED (paused)');
    expect(statusText({ status: RunStatus.SKIPPED })).toBe('SKIPPED');
  });

  it('names the run a DUPLICATE duplicates', () => {
    expect(statusText({ status: RunStatus.DUPLICATE, relatedRunId: 'sched-1-abc' })).toBe(
      'DUPLICATE of sched-1-abc',
    );
    expect(statusText({ status: RunStatus.DUPLICATE })).toBe('DUPLICATE');
  });

  it('shows other statuses as they are', () => {
    expect(statusText({ status: RunStatus.TIMED_OUT })).toBe('TIMED_OUT');
  });
});

describe('triggerText', () => {
  it('shows who or what started a run', () => {
    expect(triggerText({ trigger: { type: 'manual' } })).toBe('manual (caller unknown)');
    expect(
      triggerText({
        trigger: { type: 'manual', principal: 'arn:aws:iam::1:user/ann', principalSource: 'cloudtrail' },
      }),
    ).toBe('manual (arn:aws:iam::1:user/ann, from CloudTrail)');
    expect(triggerText({ trigger: { type: 'rerun', relatedRunId: 'cli-1', principal: 'local:ann' } })).toBe(
      'rerun of cli-1 (local:ann)',
    );
    expect(triggerText({ trigger: { type: 'cli', principal: 'arn:aws:iam::1:user/jane' } })).toBe(
      'cli (arn:aws:iam::1:user/jane)',
    );
    expect(
      triggerText({ trigger: { type: 'schedule', scheduledTime: '2026-01-01T00:10:00Z', attempt: 1 } }),
    ).toBe('schedule 2026-01-01T00:10:00Z');
    expect(
      triggerText({ trigger: { type: 'schedule', scheduledTime: '2026-01-01T00:10:00Z', attempt: 3 } }),
    ).toBe('schedule 2026-01-01T00:10:00Z (attempt 3)');
  });
});

function failedDetail(): RunDetail {
  const run = runningRecord({
    runId: 'cli-20261130T100000Z-abcdef01',
    status: RunStatus.FAILED,
    trigger: { type: 'cli', principal: 'local:jane' },
    input: storedValue({ message: 'checking' }),
    startedAt: '2026-11-30T10:00:00.000Z',
    endedAt: '2026-11-30T10:00:02.500Z',
    durationMs: 2_500,
    error: { name: 'Boom', cause: 'the volume is gone' },
    tookOverFrom: 'cli-older',
    finalizedBy: 'reconciler',
    expiresAt: Date.parse('2027-12-31T00:00:00Z') / 1000,
  });
  return {
    run,
    steps: [
      {
        runId: run.runId,
        name: 'Heartbeat',
        status: StepStatus.FAILED,
        attempts: 2,
        startedAt: '2026-11-30T10:00:00.500Z',
        lastStartedAt: '2026-11-30T10:00:01.500Z',
        endedAt: '2026-11-30T10:00:02.000Z',
        durationMs: 500,
        error: { name: 'Boom', cause: 'the volume is gone' },
        expiresAt: run.expiresAt,
      },
    ],
    actions: [],
  };
}

describe('runDetailText', () => {
  it('shows the trigger, input, timing, error and steps of a run', () => {
    const text = runDetailText(failedDetail());
    expect(text.split('\n').slice(0, 9)).toEqual([
      'Run cli-20261130T100000Z-abcdef01',
      '  job        heartbeat',
      '  status     FAILED',
      '  trigger    cli (local:jane)',
      expect.stringMatching(/^ {2}execution {2}arn:aws:states:.*:cli-20261130T100000Z-abcdef01$/),
      '  started    2026-11-30 10:00:00Z',
      '  ended      2026-11-30 10:00:02Z',
      '  duration   2.5 s',
      '  input      {"message":"checking"}',
    ]);
    expect(text).toContain('  took over  an expired lease from cli-older');
    expect(text).toContain('  finalized  by the reconciler');
    expect(text).toContain('  error      Boom: the volume is gone');
    expect(text).toContain('  expires    2027-12-31');
    expect(text).toMatch(/\nSteps\n/);
    expect(text).toMatch(
      /│ Heartbeat\s+│ FAILED\s+│ 2\s+│ 2026-11-30 10:00:00Z\s+│ 500 ms\s+│ Boom: the volume is gone/,
    );
    expect(text).not.toContain('Actions:');
  });

  it('leaves out what a run does not have, and counts its actions', () => {
    const detail = failedDetail();
    const run = runningRecord({ runId: 'r-1', output: '{"Heartbeat":{"ok":true}}', outputTruncated: true });
    const text = runDetailText({
      run,
      steps: [],
      actions: [
        {
          runId: 'r-1',
          jobId: 'heartbeat',
          resourceId: 'vol-1',
          resourceType: 'volume',
          action: 'release',
          dryRun: true,
          outcome: 'PLANNED',
          reason: 'unattached for 30 days',
          at: '2026-11-30T10:00:01.000Z',
          expiresAt: detail.run.expiresAt,
        },
      ],
    });
    expect(text).not.toMatch(/error|took over|finalized|Steps/);
    expect(text).toContain('  output     {"Heartbeat":{"ok":true}} (truncated)');
    expect(text).toContain('Actions: 1 (stepjobs actions r-1)');
  });
});

describe('runsTable', () => {
  it('has one row per run with status, trigger, duration and a short error', () => {
    const text = runsTable([failedDetail().run]);
    expect(text).toMatch(
      /│ cli-20261130T100000Z-abcdef01 │ FAILED\s+│ cli \(local:jane\)\s+│ 2026-11-30 10:00:00Z\s+│ 2.5 s\s+│ Boom: the volume is gone/,
    );
  });
});

describe('truncate', () => {
  it('cuts long text with an ellipsis and keeps short text', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcd', 4)).toBe('abcd');
  });
});

describe('progressLine', () => {
  const at = (e: Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'>): ProgressEvent => ({
    state: 'Heartbeat',
    timestamp: 0,
    ...e,
  });

  it.each<[Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'>, string]>([
    [{ kind: 'entered' }, '  ▶ Heartbeat'],
    [{ kind: 'exited', durationMs: 42 }, '  ✔ Heartbeat (42 ms)'],
    [{ kind: 'exited' }, '  ✔ Heartbeat'],
    [
      { kind: 'failed', error: 'Boom', cause: '{"errorType":"Boom","errorMessage":"the volume is gone"}' },
      '  ✖ Heartbeat: Boom — the volume is gone',
    ],
    [{ kind: 'failed' }, '  ✖ Heartbeat: error'],
    [{ kind: 'retried' }, '  ↻ Heartbeat: retrying'],
    [{ kind: 'caught' }, '  ↳ Heartbeat: error caught, handing over to the failure path'],
    [{ kind: 'entered', state: 'Release', index: 3 }, '  ▶   Release[3]'],
  ])('shows %j as %j', (event, line) => {
    expect(progressLine(at(event))).toBe(line);
  });
});

describe('ProgressTracker', () => {
  it('gives an exit the time since the same state (and Map index) was entered', () => {
    const tracker = new ProgressTracker();
    tracker.event('entered', 'Release', 1_000, { index: 0 });
    tracker.event('entered', 'Release', 1_200, { index: 1 });
    expect(tracker.event('exited', 'Release', 1_500, { index: 0 })).toMatchObject({ durationMs: 500 });
    expect(tracker.event('exited', 'Release', 1_500, { index: 1 })).toMatchObject({ durationMs: 300 });
    expect(tracker.event('exited', 'Never', 1_500)).not.toHaveProperty('durationMs');
  });
});

describe('shortCause', () => {
  it("unwraps Lambda's {errorType, errorMessage} JSON to the message", () => {
    expect(
      shortCause(JSON.stringify({ errorType: 'InvalidInput', errorMessage: 'message: expected string' })),
    ).toBe('message: expected string');
  });

  it('keeps other causes, cut to 200 characters', () => {
    expect(shortCause('plain text')).toBe('plain text');
    expect(shortCause('{"other":1}')).toBe('{"other":1}');
    const long = shortCause('x'.repeat(500));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('what local mode could not tell the run notifier', () => {
  const notifyError = 'run-7: BatchItemFailure: the function reported the record as a batch item failure';

  it('ends the recovery line', () => {
    const line = recoveryLine({
      releasedLocks: [],
      repaired: [{ runId: 'run-7', jobId: 'heartbeat', status: RunStatus.FAILED, how: 'finalized' }],
      notifyError,
    });
    expect(line).toBe(
      `recovered: ended 1 run (run-7 FAILED) left RUNNING by a stepjobs process that is gone. See stepjobs show <runId>. The run notifier was not told: ${notifyError}.`,
    );
  });

  it('ends the sweep report', () => {
    expect(sweepText({ expected: 3, missed: [], caughtUp: [], notifyError }).split('\n')).toEqual([
      'Sweep: 3 expected slots checked, 0 missed.',
      `  The run notifier was not told of every run: ${notifyError}`,
    ]);
  });
});
