/**
 * Schedule control end to end, through the local runtime running the synthesized definitions: a DST skip, a
 * holiday SKIPPED, a pause that ends by itself, dropped deliveries that become MISSED and are caught up once.
 * The jobs are the heartbeat (its input schema is registered) with other schedules, calendars and catch-up.
 */
import { Duration } from 'aws-cdk-lib';
import { RunStatus, TriggerType } from '../../shared/constants';
import { pickDropped, simulateWindow, slotsBetween } from '../../local/schedule-simulator';
import { missedRunId } from '../../tasks/lifecycle/missed-runs';
import { heartbeat } from '../../workflows/heartbeat';
import { defineJob } from '../../workflows/job-definition';
import { useLocalRuntime } from '../helpers/local-runtime';

const today = new Date().toISOString().slice(0, 10);

/** 09:00 in Bavaria, every day: off on its public holidays and on today's date (for the manual-run note). */
const bavarian = defineJob({
  ...heartbeat,
  schedule: {
    expression: 'cron(0 9 * * ? *)',
    timeZone: 'Europe/Berlin',
    catchup: { mode: 'all', window: Duration.days(30) },
  },
  calendar: { holidays: 'DE-BY', excludeDates: [today] },
});

// Holidays from 2027 on, whatever year the test runs in.
const runtime = useLocalRuntime({ jobs: [bavarian], calendarDate: new Date('2027-01-01T00:00:00Z') });
const job = () => runtime().job('heartbeat');

async function runsOf(from: string, to: string) {
  const page = await runtime().ledger.runs.listByJob('heartbeat', { since: from, until: to, limit: 100 });
  return page.items;
}

test('a slot on a public holiday is recorded SKIPPED with the holiday as its reason', async () => {
  // 2027-01-06 is Epiphany in Bavaria.
  const deliveries = await simulateWindow(
    runtime(),
    new Date('2027-01-05T08:00:00Z'),
    new Date('2027-01-07T08:00:00Z'),
    { jobs: [job()] },
  );
  expect(deliveries.map((d) => d.slot.scheduledTime)).toEqual([
    '2027-01-05T08:00:00Z',
    '2027-01-06T08:00:00Z',
    '2027-01-07T08:00:00Z',
  ]);
  const byRun = await Promise.all(deliveries.map((d) => runtime().ledger.runs.get(d.result.runId)));
  expect(byRun.map((r) => r.status)).toEqual([RunStatus.SUCCEEDED, RunStatus.SKIPPED, RunStatus.SUCCEEDED]);
  expect(byRun[1]).toMatchObject({
    skipReason: 'calendar',
    calendarExclusion: 'calendar: Epiphany (DE-BY holiday)',
  });
});

test('a manual run on an excluded date still runs, and its record says where it fell', async () => {
  const result = await runtime().run('heartbeat', { trigger: { type: TriggerType.CLI } });
  const run = await runtime().ledger.runs.get(result.runId);
  expect(run.status).toBe(RunStatus.SUCCEEDED);
  expect(run.calendarExclusion).toBe(`calendar: excluded date ${today}`);
});

test('a nonexistent local time at spring-forward is not expected, so it is neither run nor MISSED', async () => {
  const dst = defineJob({
    ...bavarian,
    schedule: { expression: 'cron(30 2 * * ? *)', timeZone: 'Europe/Berlin' },
  });
  const from = new Date('2027-03-27T00:00:00Z');
  const to = new Date('2027-03-29T23:00:00Z');
  // The simulator fires what the Scheduler fires: the 28th's 02:30 does not exist in Berlin.
  const schedule = job().schedule;
  if (!schedule) throw new Error('the job has no schedule');
  const local = { ...job(), schedule: { ...schedule, expression: dst.schedule.expression } };
  expect(slotsBetween([local], from, to).map((s) => s.scheduledTime)).toEqual([
    '2027-03-27T01:30:00Z',
    '2027-03-29T00:30:00Z',
  ]);
});

test('dropped deliveries become MISSED runs and are caught up once each; a second sweep changes nothing', async () => {
  const from = new Date('2027-02-01T08:00:00Z');
  const to = new Date('2027-02-07T08:00:00Z');
  const slots = slotsBetween([job()], from, to);
  expect(slots).toHaveLength(7);
  const drop = pickDropped(slots, 3, 7);
  expect(drop.size).toBe(3);
  // The same seed picks the same slots.
  expect(pickDropped(slots, 3, 7)).toEqual(drop);
  const deliveries = await simulateWindow(runtime(), from, to, { jobs: [job()], drop });
  expect(deliveries).toHaveLength(4);

  const swept = await runtime().sweep({ from, to });
  const dropped = [...drop].map((key) => key.split('@')[1] ?? '').sort();
  expect(swept.missed.map((m) => m.scheduledTime).sort()).toEqual(dropped);
  expect(swept.caughtUp.map((c) => c.scheduledTime).sort()).toEqual(dropped);
  for (const time of dropped) {
    const missed = await runtime().ledger.runs.get(missedRunId('heartbeat', time));
    expect(missed).toMatchObject({ status: RunStatus.MISSED, trigger: { scheduledTime: time } });
    expect(missed.executionArn).toBeUndefined();
    expect(missed.error?.cause).toContain('did not run');
    const claim = await runtime().ledger.jobs.slot('heartbeat', time);
    const caughtUp = await runtime().ledger.runs.get(claim?.runId ?? '');
    expect(caughtUp).toMatchObject({
      status: RunStatus.SUCCEEDED,
      trigger: { type: TriggerType.CATCHUP, scheduledTime: time },
    });
  }

  const again = await runtime().sweep({ from, to });
  expect(again.missed).toEqual([]);
  expect(again.caughtUp).toEqual([]);
  const runs = await runsOf('2027-02-01T00:00:00Z', '2027-02-08T00:00:00Z');
  expect(runs.filter((r) => r.status === RunStatus.MISSED)).toHaveLength(3);
  const state = await runtime().ledger.jobs.getState('heartbeat');
  expect(state.counters.MISSED).toBe(3);
});

test('slots a pause skipped are made up once the pause is over, through the slot claim, once', async () => {
  const from = new Date('2027-03-01T08:00:00Z');
  const to = new Date('2027-03-03T08:00:00Z');
  const jobs = runtime().ledger.jobs;
  await jobs.setPaused('heartbeat', true, 'local:ops', new Date().toISOString(), 'maintenance');
  const skipped = await simulateWindow(runtime(), from, to, { jobs: [job()] });
  const skippedRuns = await Promise.all(skipped.map((d) => runtime().ledger.runs.get(d.result.runId)));
  expect(skippedRuns.map((r) => r.skipReason)).toEqual(['paused', 'paused', 'paused']);

  // Still paused: nothing is made up, and nothing is MISSED (each slot was delivered and claimed).
  const whilePaused = await runtime().sweep({ from, to });
  expect(whilePaused.missed).toEqual([]);
  expect(whilePaused.caughtUp).toEqual([]);

  await jobs.setPaused('heartbeat', false, 'local:ops', new Date().toISOString(), 'done');
  const after = await runtime().sweep({ from, to });
  expect(after.missed).toEqual([]);
  expect(after.caughtUp.map((c) => c.scheduledTime)).toEqual(skipped.map((d) => d.slot.scheduledTime));
  for (const [i, delivery] of skipped.entries()) {
    const claim = await jobs.slot('heartbeat', delivery.slot.scheduledTime);
    expect(claim).toMatchObject({ replacedRunId: skippedRuns[i]?.runId });
    expect(claim?.openReason).toBeUndefined();
    const run = await runtime().ledger.runs.get(claim?.runId ?? '');
    expect(run).toMatchObject({
      status: RunStatus.SUCCEEDED,
      trigger: { type: TriggerType.CATCHUP },
      relatedRunId: skippedRuns[i]?.runId,
    });
  }
  // A late second delivery of a made-up slot is a DUPLICATE of the catch-up run.
  const late = await simulateWindow(runtime(), from, from, { jobs: [job()] });
  const lateRun = await runtime().ledger.runs.get(late[0]?.result.runId ?? '');
  expect(lateRun.status).toBe(RunStatus.DUPLICATE);
  expect((await runtime().sweep({ from, to })).caughtUp).toEqual([]);
});
