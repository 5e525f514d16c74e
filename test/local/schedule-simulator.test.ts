/**
 * The schedule simulator: which slots fire (rate and cron, DST as EventBridge Scheduler handles it), the
 * input each delivery carries, and a simulated window delivered twice per slot through the real lifecycle.
 */
import '../helpers/quiet';
import type { LocalJob } from '../../local/runtime';
import { schedulerInput, simulateWindow, slotsBetween, type Delivery } from '../../local/schedule-simulator';
import type { LocalSchedule } from '../../local/template';
import { RunStatus, TriggerType } from '../../shared/constants';
import { heartbeat } from '../../workflows/heartbeat';
import { useLocalRuntime } from '../helpers/local-runtime';

/** A job of the simulator's own shape; only the schedule matters to slotsBetween and schedulerInput. */
function job(jobId: string, schedule?: Partial<LocalSchedule>): LocalJob {
  return {
    jobId,
    stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${jobId}`,
    stateMachineLogicalId: jobId,
    definition: {},
    schedule: schedule && {
      logicalId: `${jobId}Schedule`,
      arn: `arn:aws:scheduler:us-east-1:000000000000:schedule/default/${jobId}Schedule`,
      expression: 'rate(10 minutes)',
      timeZone: 'UTC',
      enabled: true,
      flexibleWindowMinutes: 0,
      targetArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${jobId}`,
      inputTemplate: '{}',
      ...schedule,
    },
  };
}

const times = (jobs: LocalJob[], from: string, to: string) =>
  slotsBetween(jobs, new Date(from), new Date(to)).map((slot) => slot.scheduledTime);

describe('slotsBetween', () => {
  it('fires a rate every interval in [from, to], in order, formatted as the Scheduler does', () => {
    expect(times([job('a', {})], '2026-05-01T10:00:00Z', '2026-05-01T11:00:00Z')).toEqual([
      '2026-05-01T10:00:00Z',
      '2026-05-01T10:10:00Z',
      '2026-05-01T10:20:00Z',
      '2026-05-01T10:30:00Z',
      '2026-05-01T10:40:00Z',
      '2026-05-01T10:50:00Z',
      '2026-05-01T11:00:00Z',
    ]);
    expect(times([job('a', {})], '2026-05-01T10:05:00Z', '2026-05-01T10:25:00Z')).toEqual([
      '2026-05-01T10:10:00Z',
      '2026-05-01T10:20:00Z',
    ]);
  });

  it("counts a rate from the schedule's StartDate, as the Scheduler does", () => {
    const started = [job('a', { startDate: '2026-05-01T10:07:00.000Z' })];
    expect(times(started, '2026-05-01T00:00:00Z', '2026-05-01T10:30:00Z')).toEqual([
      '2026-05-01T10:07:00Z',
      '2026-05-01T10:17:00Z',
      '2026-05-01T10:27:00Z',
    ]);
  });

  it('merges several jobs by time, then job id, and leaves out disabled and unscheduled jobs', () => {
    const jobs = [
      job('b', { expression: 'rate(15 minutes)' }),
      job('a', {}),
      job('off', { enabled: false }),
      job('manual-only'),
    ];
    expect(slotsBetween(jobs, new Date('2026-05-01T10:00:00Z'), new Date('2026-05-01T10:30:00Z'))).toEqual([
      { jobId: 'a', scheduledTime: '2026-05-01T10:00:00Z' },
      { jobId: 'b', scheduledTime: '2026-05-01T10:00:00Z' },
      { jobId: 'a', scheduledTime: '2026-05-01T10:10:00Z' },
      { jobId: 'b', scheduledTime: '2026-05-01T10:15:00Z' },
      { jobId: 'a', scheduledTime: '2026-05-01T10:20:00Z' },
      { jobId: 'a', scheduledTime: '2026-05-01T10:30:00Z' },
      { jobId: 'b', scheduledTime: '2026-05-01T10:30:00Z' },
    ]);
  });

  describe('a daily cron at 02:30 in Europe/Berlin', () => {
    const berlin = [job('nightly', { expression: 'cron(30 2 * * ? *)', timeZone: 'Europe/Berlin' })];

    it('skips the night of the March change, when 02:30 does not exist', () => {
      // 2026-03-29 02:00 CET jumps to 03:00 CEST.
      expect(times(berlin, '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
        '2026-03-27T01:30:00Z', // 02:30 CET
        '2026-03-28T01:30:00Z',
        '2026-03-30T00:30:00Z', // 02:30 CEST
      ]);
    });

    it('fires once on the night of the October change, when 02:30 happens twice', () => {
      // 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 is both 00:30Z and 01:30Z.
      const fired = times(berlin, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z');
      expect(fired).toEqual(['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']);
    });
  });
});

describe('schedulerInput', () => {
  it("fills the schedule target's context attributes as the Scheduler would", () => {
    const scheduled = job('a', {
      inputTemplate: JSON.stringify({
        dryRun: false,
        trigger: {
          type: 'schedule',
          scheduledTime: '<aws.scheduler.scheduled-time>',
          scheduleArn: '<aws.scheduler.schedule-arn>',
          attempt: '<aws.scheduler.attempt-number>',
        },
      }),
    });
    expect(schedulerInput(scheduled, '2026-05-01T10:10:00Z', 3)).toEqual({
      dryRun: false,
      trigger: {
        type: 'schedule',
        scheduledTime: '2026-05-01T10:10:00Z',
        scheduleArn: scheduled.schedule?.arn,
        // The Scheduler substitutes inside the JSON string: the attempt arrives as a string.
        attempt: '3',
      },
    });
  });

  it('refuses a job without a schedule', () => {
    expect(() => schedulerInput(job('manual-only'), '2026-05-01T10:10:00Z', 1)).toThrow(
      'Job manual-only has no schedule',
    );
  });
});

describe('simulateWindow', () => {
  const runtime = useLocalRuntime({ jobs: [heartbeat] });

  it('delivering every slot twice runs each slot once: one SUCCEEDED run and one DUPLICATE per slot', async () => {
    const seen: Delivery[] = [];
    const deliveries = await simulateWindow(
      runtime(),
      new Date('2026-06-01T12:05:00Z'),
      new Date('2026-06-01T12:30:00Z'),
      { jobs: [runtime().job(heartbeat.id)], deliverTwice: true, onDelivery: (d) => seen.push(d) },
    );
    expect(seen).toEqual(deliveries);
    expect(deliveries.map((d) => [d.slot.scheduledTime, d.attempt])).toEqual([
      ['2026-06-01T12:10:00Z', 1],
      ['2026-06-01T12:10:00Z', 2],
      ['2026-06-01T12:20:00Z', 1],
      ['2026-06-01T12:20:00Z', 2],
      ['2026-06-01T12:30:00Z', 1],
      ['2026-06-01T12:30:00Z', 2],
    ]);
    // Both deliveries of a slot end well: the duplicate through the Skipped state.
    expect(deliveries.every((d) => d.result.status === 'SUCCEEDED')).toBe(true);

    for (const scheduledTime of ['2026-06-01T12:10:00Z', '2026-06-01T12:20:00Z', '2026-06-01T12:30:00Z']) {
      const ofSlot = deliveries.filter((d) => d.slot.scheduledTime === scheduledTime);
      const runs = await Promise.all(ofSlot.map((d) => runtime().ledger.runs.get(d.result.runId)));
      expect(runs.map((run) => run.status).sort()).toEqual([RunStatus.DUPLICATE, RunStatus.SUCCEEDED]);
      const owner = runs.find((run) => run.status === RunStatus.SUCCEEDED);
      const duplicate = runs.find((run) => run.status === RunStatus.DUPLICATE);
      expect(duplicate?.relatedRunId).toBe(owner?.runId);
      for (const [i, run] of runs.entries()) {
        expect(run.trigger).toEqual({
          type: TriggerType.SCHEDULE,
          scheduledTime,
          scheduleArn: runtime().job(heartbeat.id).schedule?.arn,
          attempt: ofSlot[i]?.attempt,
        });
        expect(run.runId).toMatch(new RegExp(`^sched-${ofSlot[i]?.attempt}-`));
      }
    }
    const recorded = await runtime().ledger.runs.listByJob(heartbeat.id, { limit: 100 });
    expect(recorded.items).toHaveLength(6);
  });
});
