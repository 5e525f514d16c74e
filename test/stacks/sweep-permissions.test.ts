/**
 * What the slot check needs from the stack: the sweep may read each job's schedule and nothing else of the
 * Scheduler, may start executions only of jobs that catch up, and knows each job's calendar; StartRun gets the
 * resolved calendar in its payload; each job has a MissedRuns alarm. The jobs are heartbeat variants (its
 * input schema is registered under more than one id here).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { unnamedCalendar } from '../../shared/calendar';
import type { JobMachine } from '../../shared/config';
import { HeartbeatInput } from '../../tasks/heartbeat/input';
import { jobInputs } from '../../tasks/lifecycle/job-inputs';
import { resolveCalendar, type JobCalendar } from '../../workflows/calendar';
import { heartbeat } from '../../workflows/heartbeat';
import { defineJob, type JobDefinition } from '../../workflows/job-definition';
import {
  type CfnResource,
  definitionOf,
  functionIdOf,
  list,
  logicalIdOf,
  render,
  roleStatements,
  synth,
} from './synth';

const SWEEP = 'tasks/lifecycle/sweep.ts';
const resourcesOf = (template: Template) =>
  (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;

/** The resources the sweep is allowed `action` on, as CloudFormation values. */
function sweepResourcesFor(template: Template, action: string): unknown[] {
  return roleStatements(template, SWEEP)
    .filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))
    .flatMap((s) => list(s.Resource));
}

/** The logical id of the Scheduler schedule of the state machine `machineId`. */
function scheduleIdOf(template: Template, machineId: string): string {
  return logicalIdOf(
    template,
    'AWS::Scheduler::Schedule',
    (r) =>
      JSON.stringify((r.Properties?.Target as { Arn?: unknown })?.Arn) === JSON.stringify({ Ref: machineId }),
  );
}

function machineIdOf(template: Template, jobId: string): string {
  const [id] = Object.entries(resourcesOf(template)).find(
    ([, r]) =>
      r.Type === 'AWS::StepFunctions::StateMachine' &&
      JSON.stringify(r.Properties?.DefinitionString).includes(`\\"id\\":\\"${jobId}\\"`),
  ) ?? [''];
  if (!id) throw new Error(`No state machine for ${jobId}`);
  return id;
}

function sweepMachines(template: Template): JobMachine[] {
  const fn = resourcesOf(template)[functionIdOf(template, SWEEP)];
  const variables = (fn?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
  return JSON.parse(render(variables.STATE_MACHINES)) as JobMachine[];
}

/** A heartbeat variant under another id, with its schema registered under that id too. */
function variant(id: string, overrides: Partial<JobDefinition> = {}): JobDefinition {
  return defineJob({ ...heartbeat, id, ...overrides });
}

function inputsFor(jobs: readonly JobDefinition[]) {
  return { ...jobInputs, ...Object.fromEntries(jobs.map((job) => [job.id, HeartbeatInput])) };
}

function synthJobs(jobs: JobDefinition[]) {
  return synth({ nag: false, jobs, jobInputs: inputsFor(jobs) });
}

const CALENDAR: JobCalendar = {
  holidays: 'DE-BY',
  holidayYears: 1,
  excludeRanges: [{ name: 'year-end freeze', from: '2027-12-20', to: '2027-12-31' }],
  only: [{ weekdays: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '06:00', to: '20:00' }],
};

describe('a job that catches up beside one that does not', () => {
  const catchingUp = variant('catching-up', {
    schedule: { ...heartbeat.schedule, timeZone: 'Europe/Berlin', catchup: { mode: 'latest' } },
    calendar: CALENDAR,
  });
  const plain = variant('plain');
  const { template } = synthJobs([catchingUp, plain]);
  const catchingUpMachine = machineIdOf(template, 'catching-up');
  const plainMachine = machineIdOf(template, 'plain');

  test('the sweep may GetSchedule on each job’s schedule, and no other Scheduler action on anything', () => {
    const schedulerStatements = roleStatements(template, SWEEP).filter((s) =>
      list(s.Action).some((a) => a.startsWith('scheduler:')),
    );
    expect(schedulerStatements.length).toBeGreaterThan(0);
    expect(roleStatements(template, SWEEP).flatMap((s) => list(s.Action))).not.toContain('*');
    for (const statement of schedulerStatements) {
      expect(statement.Effect).toBe('Allow');
      expect(list(statement.Action)).toEqual(['scheduler:GetSchedule']);
      expect(JSON.stringify(statement.Resource)).not.toContain('*');
    }
    expect(sweepResourcesFor(template, 'scheduler:GetSchedule')).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [scheduleIdOf(template, catchingUpMachine), 'Arn'] },
        { 'Fn::GetAtt': [scheduleIdOf(template, plainMachine), 'Arn'] },
      ]),
    );
    expect(sweepResourcesFor(template, 'scheduler:GetSchedule')).toHaveLength(2);
  });

  test('the sweep may start executions of the job that catches up only', () => {
    expect(sweepResourcesFor(template, 'states:StartExecution')).toEqual([{ Ref: catchingUpMachine }]);
    // It still lists both, to find executions that have no run record.
    expect(sweepResourcesFor(template, 'states:ListExecutions')).toEqual(
      expect.arrayContaining([{ Ref: catchingUpMachine }, { Ref: plainMachine }]),
    );
  });

  test('a MissedRuns alarm per job, on the job dimension', () => {
    for (const jobId of ['catching-up', 'plain']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(`A scheduled slot of ${jobId} did not run`),
        MetricName: 'MissedRuns',
        Namespace: Match.anyValue(),
        Dimensions: Match.arrayWith([{ Name: 'job', Value: jobId }]),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmsTopic') })],
      });
    }
    const missedAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (r) => (r as CfnResource).Properties?.MetricName === 'MissedRuns',
    );
    expect(missedAlarms).toHaveLength(2);
  });

  test('StartRun’s payload carries the job’s resolved calendar, holiday names included', () => {
    const resolved = resolveCalendar(CALENDAR, 'Europe/Berlin');
    const year = new Date().getUTCFullYear();
    const job = definitionOf(template, 'catching-up').States.StartRun?.Parameters?.job as {
      calendar?: unknown;
    };
    expect(job.calendar).toEqual(resolved);
    expect(job.calendar).toMatchObject({
      timeZone: 'Europe/Berlin',
      dates: { [`${year}-01-06`]: 'Epiphany (DE-BY holiday)' },
      ranges: [['2027-12-20', '2027-12-31', 'year-end freeze']],
      onlyText: 'MON,TUE,WED,THU,FRI 06:00-20:00',
    });
    const plainJob = definitionOf(template, 'plain').States.StartRun?.Parameters?.job as object;
    expect(plainJob).not.toHaveProperty('calendar');
  });

  test('the sweep’s job list carries each job’s schedule, and the calendar without its names', () => {
    const machines = sweepMachines(template);
    const byId = Object.fromEntries(machines.map((m) => [m.jobId, m]));
    expect(byId['catching-up']?.schedule).toEqual({
      name: `\${${scheduleIdOf(template, catchingUpMachine)}}`,
      expression: 'rate(10 minutes)',
      timeZone: 'Europe/Berlin',
      enabled: true,
      flexibleWindowMinutes: 0,
      graceSeconds: 900,
      catchup: { mode: 'latest', windowSeconds: 86_400 },
      calendar: unnamedCalendar(resolveCalendar(CALENDAR, 'Europe/Berlin')),
    });
    const dates = Object.values(byId['catching-up']?.schedule?.calendar?.dates ?? {});
    expect(dates.length).toBeGreaterThan(5);
    expect(new Set(dates)).toEqual(new Set(['']));
    expect(byId.plain?.schedule).not.toHaveProperty('calendar');
    expect(byId.plain?.schedule).not.toHaveProperty('catchup');
  });
});

test('catchup mode none grants the sweep no StartExecution', () => {
  const none = variant('heartbeat', { schedule: { ...heartbeat.schedule, catchup: { mode: 'none' } } });
  const { template } = synthJobs([none]);
  expect(sweepResourcesFor(template, 'states:StartExecution')).toEqual([]);
  expect(sweepMachines(template)[0]?.schedule).not.toHaveProperty('catchup');
});

describe('the sweep’s environment size check', () => {
  const heavy: JobCalendar = { holidays: ['DE-BY', 'US', 'FR', 'GB'], holidayYears: 10 };

  test('fails the synth, naming the jobs with calendars, when their holidays would not fit', () => {
    const jobs = [
      variant('calendar-a', { calendar: heavy }),
      variant('calendar-b', { calendar: heavy }),
      variant('calendar-c', { calendar: heavy }),
      variant('no-calendar'),
    ];
    let message = '';
    try {
      synthJobs(jobs);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/STATE_MACHINES\) would take about \d+ bytes of the 4 KB Lambda environment/);
    expect(message).toContain(
      'Calendars of calendar-a, calendar-b, calendar-c add a date per holiday: lower their calendar.holidayYears.',
    );
  });

  test('fails for one job alone whose calendar is too big', () => {
    expect(() => synthJobs([variant('heartbeat', { calendar: heavy })])).toThrow(
      /Calendars of heartbeat add/,
    );
  });

  test('passes for a job with the default holiday horizon', () => {
    expect(() => synthJobs([variant('heartbeat', { calendar: { holidays: 'DE-BY' } })])).not.toThrow();
  });
});
