/**
 * The sweep's slot check against the embedded ledger, with the Scheduler and Step Functions mocked: which
 * expected slots become MISSED runs, and which are caught up.
 */
import '../../helpers/quiet';
import {
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  type GetScheduleCommandOutput,
} from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobMachine } from '../../../shared/config';
import { RunStatus, TriggerType } from '../../../shared/constants';
import type { Ledger } from '../../../shared/ledger/ledger';
import { checkSlots, emptySlotCheck, MISSED_ERROR, missedRunId } from '../../../tasks/lifecycle/missed-runs';
import { sweep } from '../../../tasks/lifecycle/sweep';
import { stateMachineArn } from '../../helpers/builders';
import { clockAt, HOUR, MINUTE } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const JOB = 'heartbeat';
const SCHEDULE_NAME = 'stepjobs-heartbeat';
/** Hourly, on the hour. The schedule was created at 08:30, so the first pass looks from then. */
const NOW = '2027-01-10T12:10:00.000Z';
const CREATED = '2027-01-10T08:30:00.000Z';
/** The slots a first pass at NOW expects: 12:00 is still inside the 15-minute grace. */
const EXPECTED = ['2027-01-10T09:00:00Z', '2027-01-10T10:00:00Z', '2027-01-10T11:00:00Z'];
const EXPIRES = '2028-01-01T00:00:00.000Z';
const PAUSE_UNTIL = '2027-01-10T10:30:00.000Z';
/** The schedule's target input as the ScheduleTrigger construct writes it: context attributes as the trigger. */
const TARGET_INPUT = JSON.stringify({
  note: 'from the schedule',
  trigger: {
    type: 'schedule',
    scheduledTime: '<aws.scheduler.scheduled-time>',
    executionId: '<aws.scheduler.execution-id>',
  },
});

type Schedule = NonNullable<JobMachine['schedule']>;

function machine(schedule: Partial<Schedule> = {}, overrides: Partial<JobMachine> = {}): JobMachine {
  return {
    jobId: JOB,
    stateMachineArn: stateMachineArn(JOB),
    timeoutSeconds: 300,
    retentionDays: 400,
    schedule: {
      name: SCHEDULE_NAME,
      expression: 'cron(0 * * * ? *)',
      timeZone: 'UTC',
      enabled: true,
      flexibleWindowMinutes: 0,
      graceSeconds: 900,
      ...schedule,
    },
    ...overrides,
  };
}

/** The deployed schedule GetSchedule reports: enabled, hourly, created at CREATED, unless told otherwise. */
function deployed(overrides: Partial<GetScheduleCommandOutput> = {}): Partial<GetScheduleCommandOutput> {
  return {
    Name: SCHEDULE_NAME,
    State: 'ENABLED',
    ScheduleExpression: 'cron(0 * * * ? *)',
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    CreationDate: new Date(CREATED),
    Target: { Arn: stateMachineArn(JOB), RoleArn: 'arn:aws:iam::123456789012:role/x', Input: TARGET_INPUT },
    ...overrides,
  };
}

function fakes(schedule = deployed()) {
  const scheduler = new SchedulerClient({ region: 'us-east-1' });
  const schedulerMock = mockClient(scheduler);
  schedulerMock.on(GetScheduleCommand).resolves(schedule);
  const sfn = new SFNClient({ region: 'us-east-1' });
  const sfnMock = mockClient(sfn);
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${stateMachineArn(JOB).replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(NOW),
  }));
  const started = () =>
    sfnMock.commandCalls(StartExecutionCommand).map((call) => ({
      ...call.args[0].input,
      input: JSON.parse(call.args[0].input.input ?? '{}') as Record<string, unknown>,
    }));
  return { scheduler, schedulerMock, sfn, sfnMock, started };
}

function envOf(...machines: JobMachine[]) {
  return { STATE_MACHINES: JSON.stringify(machines) };
}

/** One sweep at `now` over `machines`, with a fresh fake Scheduler and Step Functions unless given. */
async function sweepAt(
  ledger: Ledger,
  now: string,
  machines: JobMachine[],
  clients: ReturnType<typeof fakes> = fakes(),
  slots?: { from: string; to: string },
) {
  const result = await sweep(slots ? { slots } : {}, {
    ledger,
    env: envOf(...machines),
    now: clockAt(now).now,
    sfn: clients.sfn,
    scheduler: clients.scheduler,
  });
  return { result, ...clients };
}

async function claim(ledger: Ledger, time: string, runId: string, openReason?: string): Promise<void> {
  await ledger.jobs.claimSlot(JOB, time, runId, EXPIRES);
  if (openReason) await ledger.jobs.openSlot(JOB, time, runId, openReason);
}

const missedTimes = (result: { missed: Array<{ scheduledTime: string }> }) =>
  result.missed.map((m) => m.scheduledTime);

describe('MISSED runs', () => {
  it('records an unclaimed expected slot MISSED, with a deterministic id and a reason naming the grace', async () => {
    const ledger = await db.fresh();
    await claim(ledger, EXPECTED[0] ?? '', 'run-9');
    await claim(ledger, EXPECTED[2] ?? '', 'run-11');

    const { result, schedulerMock } = await sweepAt(ledger, NOW, [machine()]);

    expect(schedulerMock.commandCalls(GetScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: SCHEDULE_NAME },
    ]);
    expect(result.expected).toBe(3);
    const slot = '2027-01-10T10:00:00Z';
    const runId = missedRunId(JOB, slot);
    expect(runId).toBe('missed-heartbeat-20270110T100000Z');
    expect(result.missed).toEqual([
      {
        jobId: JOB,
        scheduledTime: slot,
        runId,
        reason: 'no delivery arrived by 15 min after the slot',
      },
    ]);
    const record = await ledger.runs.get(runId);
    expect(record).toMatchObject({
      runId,
      jobId: JOB,
      status: RunStatus.MISSED,
      trigger: { type: TriggerType.SCHEDULE, scheduledTime: slot },
      startedAt: '2027-01-10T10:00:00.000Z',
      endedAt: NOW,
      durationMs: 0,
      finalizedBy: 'sweep',
      error: {
        name: MISSED_ERROR,
        cause: 'Slot 2027-01-10T10:00:00Z did not run: no delivery arrived by 15 min after the slot',
      },
    });
    expect(MISSED_ERROR).toBe('MissedRun');
    expect(record.executionArn).toBeUndefined();
    // The MISSED record does not claim the slot: a late delivery may still run it.
    expect(await ledger.jobs.slot(JOB, slot)).toBeUndefined();
  });

  it('records nothing for claimed slots, whatever their run did', async () => {
    const ledger = await db.fresh();
    await claim(ledger, EXPECTED[0] ?? '', 'run-9');
    await claim(ledger, EXPECTED[1] ?? '', 'run-10', 'overlap');
    await claim(ledger, EXPECTED[2] ?? '', 'run-11');

    const { result } = await sweepAt(ledger, NOW, [machine()]);

    expect(result.expected).toBe(3);
    expect(result.missed).toEqual([]);
    expect((await ledger.jobs.getState(JOB)).counters.MISSED).toBeUndefined();
  });

  it('expects no slot within the grace and the flexible window the deployed schedule reports', async () => {
    const ledger = await db.fresh();
    // At NOW the 12:00 slot is 10 minutes old: inside the 15-minute grace.
    const plain = await sweepAt(ledger, NOW, [machine()]);
    expect(missedTimes(plain.result)).toEqual(EXPECTED);

    // A 60-minute flexible window on AWS (the synthesized machine says 0): 11:00 is not late either.
    const flexible = await db.fresh();
    const clients = fakes(deployed({ FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 } }));
    const { result } = await sweepAt(flexible, NOW, [machine()], clients);
    expect(missedTimes(result)).toEqual(EXPECTED.slice(0, 2));
    expect(result.missed[0]?.reason).toBe(
      'no delivery arrived by 75 min after the slot (flexible window 60 min included)',
    );
    // The mark stops where the check stopped: 75 minutes before now.
    expect((await flexible.jobs.getState(JOB)).slotsCheckedUntil).toBe('2027-01-10T10:55:00.000Z');
  });

  it('takes the job’s own grace period', async () => {
    const ledger = await db.fresh();
    const { result } = await sweepAt(ledger, NOW, [machine({ graceSeconds: 2 * 3600 })]);
    expect(missedTimes(result)).toEqual(EXPECTED.slice(0, 2));
    expect(result.missed[0]?.reason).toBe('no delivery arrived by 120 min after the slot');
  });

  it('expects no slot the calendar excludes', async () => {
    const ledger = await db.fresh();
    const calendar = {
      timeZone: 'Europe/Berlin',
      // 10:00 and 11:00 Berlin (09:00Z, 10:00Z) fall outside the window; 12:00 (11:00Z) is inside.
      only: [{ from: 12 * 60, to: 18 * 60 }],
    };
    const { result } = await sweepAt(ledger, NOW, [machine({ calendar })]);
    expect(result.expected).toBe(1);
    expect(missedTimes(result)).toEqual(['2027-01-10T11:00:00Z']);

    const excludedDay = await db.fresh();
    const allDay = await sweepAt(excludedDay, NOW, [
      machine({ calendar: { timeZone: 'UTC', dates: { '2027-01-10': '' } } }),
    ]);
    expect(allDay.result).toMatchObject({ expected: 0, missed: [] });
  });

  it('expects no slot during a pause in force, nor during one a resume ended', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.setPaused(JOB, true, 'ops', '2027-01-10T09:30:00.000Z', 'maintenance');
    const paused = await sweepAt(ledger, NOW, [machine()]);
    expect(missedTimes(paused.result)).toEqual(['2027-01-10T09:00:00Z']);
    expect(paused.result.expected).toBe(1);

    const resumed = await db.fresh();
    await resumed.jobs.setPaused(
      JOB,
      true,
      'ops',
      '2027-01-10T08:45:00.000Z',
      'deploy',
      '2027-01-10T10:30:00.000Z',
    );
    await resumed.jobs.expirePause(
      JOB,
      { by: 'ops', reason: 'deploy', at: '2027-01-10T08:45:00.000Z', until: '2027-01-10T10:30:00.000Z' },
      '2027-01-10T11:00:05.000Z',
    );
    const after = await sweepAt(resumed, NOW, [machine()]);
    expect(missedTimes(after.result)).toEqual(['2027-01-10T11:00:00Z']);
  });

  it('says when the schedule is disabled while the job is not paused', async () => {
    const ledger = await db.fresh();
    const { result } = await sweepAt(ledger, NOW, [machine()], fakes(deployed({ State: 'DISABLED' })));
    expect(missedTimes(result)).toEqual(EXPECTED);
    for (const missed of result.missed) {
      expect(missed.reason).toBe('the schedule stepjobs-heartbeat is disabled while the job is not paused');
    }
    expect((await ledger.runs.get(missedRunId(JOB, EXPECTED[0] ?? ''))).error?.cause).toContain(
      'is disabled while the job is not paused',
    );
  });

  it('says when the schedule does not exist, and then checks the synthesized one over the first look-back', async () => {
    const ledger = await db.fresh();
    const clients = fakes();
    clients.schedulerMock.on(GetScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'Schedule not found',
        Message: 'Schedule not found',
        $metadata: {},
      }),
    );
    const { result } = await sweepAt(ledger, NOW, [machine()], clients);
    // No creation date to start from: a day back, 13:00 yesterday to 11:00 today.
    expect(result.missed).toHaveLength(23);
    expect(result.missed[0]?.scheduledTime).toBe('2027-01-09T13:00:00Z');
    expect(new Set(result.missed.map((m) => m.reason))).toEqual(
      new Set(['the schedule stepjobs-heartbeat does not exist (deleted?)']),
    );
  });

  it('fails the pass on any other GetSchedule error rather than guess', async () => {
    const ledger = await db.fresh();
    const clients = fakes();
    clients.schedulerMock
      .on(GetScheduleCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(sweepAt(ledger, NOW, [machine()], clients)).rejects.toThrow('denied');
    expect((await ledger.jobs.getState(JOB)).slotsCheckedUntil).toBeUndefined();
  });

  it('checks nothing for a schedule deployed disabled, or without a scheduler', async () => {
    const ledger = await db.fresh();
    const clients = fakes();
    const { result } = await sweepAt(ledger, NOW, [machine({ enabled: false })], clients);
    expect(result).toMatchObject({ expected: 0, missed: [] });
    expect(clients.schedulerMock.commandCalls(GetScheduleCommand)).toHaveLength(0);

    const noScheduler = await sweep(
      {},
      { ledger, env: envOf(machine()), now: clockAt(NOW).now, sfn: fakes().sfn },
    );
    expect(noScheduler).toMatchObject({ expected: 0, missed: [] });
  });

  it('moves the mark on, so a second pass records nothing twice, and counts each MISSED run once', async () => {
    const ledger = await db.fresh();
    const first = await sweepAt(ledger, NOW, [machine()]);
    expect(missedTimes(first.result)).toEqual(EXPECTED);
    expect((await ledger.jobs.getState(JOB)).slotsCheckedUntil).toBe('2027-01-10T11:55:00.000Z');

    const again = await sweepAt(ledger, NOW, [machine()]);
    expect(again.result).toMatchObject({ expected: 0, missed: [] });

    // An hour on, only the 12:00 slot is new.
    const later = new Date(Date.parse(NOW) + HOUR).toISOString();
    const next = await sweepAt(ledger, later, [machine()]);
    expect(next.result.expected).toBe(1);
    expect(missedTimes(next.result)).toEqual(['2027-01-10T12:00:00Z']);
    const state = await ledger.jobs.getState(JOB);
    expect(state.slotsCheckedUntil).toBe('2027-01-10T12:55:00.000Z');
    expect(state.counters.MISSED).toBe(4);
    // MISSED runs are not the job's last run.
    expect(state.lastRun).toBeUndefined();
  });

  it('records nothing twice when an explicit window is checked again, and leaves the mark alone', async () => {
    const ledger = await db.fresh();
    const window = { from: '2027-01-10T09:00:00.000Z', to: '2027-01-10T11:00:00.000Z' };
    const first = await sweepAt(ledger, NOW, [machine()], fakes(), window);
    // Both ends included.
    expect(missedTimes(first.result)).toEqual(EXPECTED);
    const second = await sweepAt(ledger, NOW, [machine()], fakes(), window);
    expect(second.result).toMatchObject({ expected: 3, missed: [] });
    const state = await ledger.jobs.getState(JOB);
    expect(state.counters.MISSED).toBe(3);
    expect(state.slotsCheckedUntil).toBeUndefined();
  });

  it('checks each job on its own', async () => {
    const ledger = await db.fresh();
    const other = machine(
      { name: 'stepjobs-other' },
      { jobId: 'other', stateMachineArn: stateMachineArn('other') },
    );
    await ledger.jobs.claimSlot('other', EXPECTED[0] ?? '', 'other-9', EXPIRES);
    const { result } = await sweepAt(ledger, NOW, [machine(), other]);
    expect(result.missed.map((m) => `${m.jobId}@${m.scheduledTime}`)).toEqual([
      ...EXPECTED.map((t) => `${JOB}@${t}`),
      ...EXPECTED.slice(1).map((t) => `other@${t}`),
    ]);
  });
});

describe('catch-up', () => {
  const windowSeconds = 24 * 3600;

  it('starts nothing with mode none, or with no catch-up', async () => {
    for (const schedule of [{ catchup: { mode: 'none' as const, windowSeconds } }, {}]) {
      const ledger = await db.fresh();
      const { result, started } = await sweepAt(ledger, NOW, [machine(schedule)]);
      expect(result.missed).toHaveLength(3);
      expect(result.caughtUp).toEqual([]);
      expect(started()).toEqual([]);
    }
  });

  it('latest: starts only the newest slot, with the schedule’s input and a catch-up trigger', async () => {
    const ledger = await db.fresh();
    const { result, started } = await sweepAt(ledger, NOW, [
      machine({ catchup: { mode: 'latest', windowSeconds } }),
    ]);
    expect(result.caughtUp).toEqual([
      { jobId: JOB, scheduledTime: '2027-01-10T11:00:00Z', executionName: 'catchup-20270110T110000Z' },
    ]);
    expect(started()).toEqual([
      {
        stateMachineArn: stateMachineArn(JOB),
        name: 'catchup-20270110T110000Z',
        input: {
          note: 'from the schedule',
          trigger: { type: 'catchup', scheduledTime: '2027-01-10T11:00:00Z', principal: 'stepjobs sweep' },
        },
      },
    ]);
  });

  it('latest: starts nothing when the newest slot ran, though older ones were missed', async () => {
    const ledger = await db.fresh();
    await claim(ledger, '2027-01-10T11:00:00Z', 'run-11');
    const { result, started } = await sweepAt(ledger, NOW, [
      machine({ catchup: { mode: 'latest', windowSeconds } }),
    ]);
    expect(missedTimes(result)).toEqual(EXPECTED.slice(0, 2));
    expect(started()).toEqual([]);
  });

  it('all: starts the oldest open slot, one per pass, unless the job allows overlap', async () => {
    const ledger = await db.fresh();
    const one = await sweepAt(ledger, NOW, [machine({ catchup: { mode: 'all', windowSeconds } })]);
    expect(one.started().map((s) => s.name)).toEqual(['catchup-20270110T090000Z']);

    const allowing = await db.fresh();
    const all = await sweepAt(allowing, NOW, [
      machine({ catchup: { mode: 'all', windowSeconds } }, { overlap: 'allow' }),
    ]);
    expect(all.started().map((s) => s.input.trigger)).toEqual(
      EXPECTED.map((scheduledTime) => ({ type: 'catchup', scheduledTime, principal: 'stepjobs sweep' })),
    );
    expect(all.result.caughtUp.map((c) => c.scheduledTime)).toEqual(EXPECTED);
  });

  it('all: the next pass starts the next slot, once the first one has claimed its slot', async () => {
    const ledger = await db.fresh();
    const catchupMachine = machine({ catchup: { mode: 'all', windowSeconds } });
    await sweepAt(ledger, NOW, [catchupMachine]);
    // The catch-up's StartRun claims its slot.
    await claim(ledger, '2027-01-10T09:00:00Z', 'catchup-20270110T090000Z');
    const later = new Date(Date.parse(NOW) + 15 * MINUTE).toISOString();
    const next = await sweepAt(ledger, later, [catchupMachine]);
    // Only the new 12:00 slot is checked: none is missed twice, and the made-up one is not started again.
    expect(missedTimes(next.result)).toEqual(['2027-01-10T12:00:00Z']);
    expect(next.started().map((s) => s.name)).toEqual(['catchup-20270110T100000Z']);
  });

  it('only makes up slots inside its window', async () => {
    const ledger = await db.fresh();
    const { started } = await sweepAt(ledger, NOW, [
      machine({ catchup: { mode: 'all', windowSeconds: 2 * 3600 } }, { overlap: 'allow' }),
    ]);
    // 12:10 less two hours is 10:10: the 09:00 and 10:00 slots are too old.
    expect(started().map((s) => s.name)).toEqual(['catchup-20270110T110000Z']);
  });

  const endings: Array<[string, (ledger: Ledger) => Promise<unknown>]> = [
    [
      'the pause has ended',
      (ledger) =>
        ledger.jobs.expirePause(
          JOB,
          { by: 'ops', reason: 'deploy', at: '2027-01-10T08:45:00.000Z', until: PAUSE_UNTIL },
          '2027-01-10T11:00:05.000Z',
        ),
    ],
    [
      'an operator resumed the job',
      (ledger) => ledger.jobs.setPaused(JOB, false, 'ops', '2027-01-10T10:30:00.000Z', 'deploy done'),
    ],
  ];
  it.each(endings)('makes up the slots a pause skipped once %s', async (_, endPause) => {
    const ledger = await db.fresh();
    await ledger.jobs.setPaused(JOB, true, 'ops', '2027-01-10T08:45:00.000Z', 'deploy', PAUSE_UNTIL);
    await claim(ledger, '2027-01-10T09:00:00Z', 'skipped-9', 'paused');
    await claim(ledger, '2027-01-10T10:00:00Z', 'skipped-10', 'paused');
    await endPause(ledger);

    const { result, started } = await sweepAt(ledger, NOW, [
      machine({ catchup: { mode: 'all', windowSeconds } }, { overlap: 'allow' }),
    ]);
    // The skipped slots are not MISSED: their runs were recorded SKIPPED.
    expect(missedTimes(result)).toEqual(['2027-01-10T11:00:00Z']);
    expect(started().map((s) => s.name)).toEqual([
      'catchup-20270110T090000Z',
      'catchup-20270110T100000Z',
      'catchup-20270110T110000Z',
    ]);
  });

  it('does not make up a slot another skip reason left open', async () => {
    const ledger = await db.fresh();
    await claim(ledger, '2027-01-10T11:00:00Z', 'overlapped-11', 'overlap');
    const { started } = await sweepAt(ledger, NOW, [machine({ catchup: { mode: 'latest', windowSeconds } })]);
    expect(started()).toEqual([]);
  });

  it('starts nothing while the job is paused or its schedule is disabled', async () => {
    const catchup = machine({ catchup: { mode: 'all', windowSeconds } });
    const paused = await db.fresh();
    await paused.jobs.setPaused(JOB, true, 'ops', '2027-01-10T11:30:00.000Z', 'maintenance');
    const whilePaused = await sweepAt(paused, NOW, [catchup]);
    expect(missedTimes(whilePaused.result)).toEqual(EXPECTED);
    expect(whilePaused.started()).toEqual([]);

    const disabled = await db.fresh();
    const whileDisabled = await sweepAt(disabled, NOW, [catchup], fakes(deployed({ State: 'DISABLED' })));
    expect(whileDisabled.result.missed).toHaveLength(3);
    expect(whileDisabled.started()).toEqual([]);
  });

  it('ignores ExecutionAlreadyExists (an earlier pass started it) and fails on other errors', async () => {
    const ledger = await db.fresh();
    const clients = fakes();
    clients.sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const { result } = await sweepAt(
      ledger,
      NOW,
      [machine({ catchup: { mode: 'latest', windowSeconds } })],
      clients,
    );
    expect(result.missed).toHaveLength(3);
    expect(result.caughtUp).toEqual([]);
    expect(clients.sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);

    const failing = fakes();
    failing.sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(
      sweepAt(await db.fresh(), NOW, [machine({ catchup: { mode: 'latest', windowSeconds } })], failing),
    ).rejects.toThrow('throttled');
  });

  it('starts with only the trigger when the schedule’s input cannot be read', async () => {
    const ledger = await db.fresh();
    const clients = fakes(
      deployed({
        Target: { Arn: stateMachineArn(JOB), RoleArn: 'arn:aws:iam::1:role/x', Input: 'not json' },
      }),
    );
    const { started } = await sweepAt(
      ledger,
      NOW,
      [machine({ catchup: { mode: 'latest', windowSeconds } })],
      clients,
    );
    expect(started()[0]?.input).toEqual({
      trigger: { type: 'catchup', scheduledTime: '2027-01-10T11:00:00Z', principal: 'stepjobs sweep' },
    });
  });
});

describe('checkSlots', () => {
  it('adds to the result it is given, from the state it is given', async () => {
    const ledger = await db.fresh();
    const { scheduler, sfn } = fakes();
    const result = emptySlotCheck();
    const state = { jobId: JOB, paused: false, counters: {}, slotsCheckedUntil: '2027-01-10T10:30:00.000Z' };
    await checkSlots({ ledger, env: {}, now: clockAt(NOW).now, sfn, scheduler }, machine(), state, result);
    // From the mark on: only 11:00.
    expect(result).toEqual({
      expected: 1,
      missed: [expect.objectContaining({ scheduledTime: '2027-01-10T11:00:00Z' })],
      caughtUp: [],
    });
  });
});
