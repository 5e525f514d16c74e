import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as z from '../../shared/zod';
import { ErrorName } from '../../shared/constants';
import { lockRetryAttempts } from '../../stacks/constructs/retries';
import { defineJob, type JobDefinition, type StepBuilder } from '../../workflows/job-definition';
import { definitionOf, expectRedrivableCatch, synth } from '../stacks/synth';

const ENTRY = 'tasks/heartbeat/heartbeat.ts';
const Input = z.object({ limit: z._default(z.number(), 10) });

function job(id: string, changes: Partial<JobDefinition> = {}): JobDefinition {
  return defineJob({
    id,
    description: `Test job ${id}`,
    schedule: { expression: 'cron(30 2 ? * MON-FRI *)', timeZone: 'America/New_York' },
    timeout: Duration.minutes(30),
    input: Input,
    steps: (b) => b.task('Work', { entry: ENTRY }),
    ...changes,
  });
}

/** Build an app with these jobs only (nothing is synthesized when construction throws). */
function build(...jobs: JobDefinition[]) {
  return synth({ jobs, jobInputs: Object.fromEntries(jobs.map((j) => [j.id, j.input])), nag: false });
}

function fanOut(b: StepBuilder): sfn.IChainable {
  const list = b.task('ListItems', { entry: ENTRY });
  const each = new sfn.Map(b.scope, 'EachItem', {
    itemsPath: '$.results.ListItems.items',
    itemSelector: { 'run.$': b.runPath, 'itemIndex.$': '$$.Map.Item.Index', 'item.$': '$$.Map.Item.Value' },
    resultPath: '$.results.EachItem',
    maxConcurrency: 5,
  });
  each.itemProcessor(b.task('ProcessItem', { entry: ENTRY, inMap: true, data: { 'item.$': '$.item' } }));
  return list.next(b.catchFailures(each));
}

describe('a job with a Map, a queue policy and its own schedule settings', () => {
  const queued = job('fan-out', {
    overlap: 'queue',
    queueMaxWait: Duration.minutes(5),
    destructive: true,
    retentionDays: 30,
    schedule: {
      expression: 'cron(30 2 ? * MON-FRI *)',
      timeZone: 'America/New_York',
      flexibleWindowMinutes: 15,
      startDate: '2027-01-04T00:00:00Z',
      enabled: false,
      retryAttempts: 3,
      maxEventAge: Duration.hours(1),
      input: { limit: 5 },
    },
    steps: fanOut,
  });
  const { template } = build(queued);
  const definition = definitionOf(template, 'fan-out');

  test('the Map is caught to FailRun; the task inside it records its item index and has no catch of its own', () => {
    // A redrive resumes the Map as a whole; its items carry no redrive count (Express children have none).
    expectRedrivableCatch(definition, 'EachItem');
    const inner = definition.States.EachItem?.ItemProcessor?.States.ProcessItem;
    expect(inner?.Catch).toBeUndefined();
    expect(inner?.Parameters).toEqual({
      'run.$': '$.run',
      step: { name: 'ProcessItem', 'itemIndex.$': '$.itemIndex' },
      data: { 'item.$': '$.item' },
    });
    expect(definition.States.ListItems?.Next).toBe('EachItem');
    expect(definition.States.EachItem?.Next).toBe('FinishRun');
  });

  test('StartRun carries the job settings and waits for the lock with backoff beyond queueMaxWait', () => {
    const startRun = definition.States.StartRun;
    expect(startRun?.Parameters?.job).toEqual({
      id: 'fan-out',
      overlap: 'queue',
      leaseSeconds: 30 * 60 + 15 * 60,
      retentionDays: 30,
      destructive: true,
      queueMaxWaitSeconds: 300,
    });
    const lockRetry = startRun?.Retry?.find((r) => r.ErrorEquals.includes(ErrorName.LOCK_HELD));
    expect(lockRetry).toEqual({
      ErrorEquals: [ErrorName.LOCK_HELD],
      IntervalSeconds: 10,
      BackoffRate: 1.5,
      MaxDelaySeconds: 60,
      MaxAttempts: lockRetryAttempts(Duration.minutes(5)),
    });
  });

  test('the schedule uses the job time zone, start date, flexible window, state, retry policy and scheduled input', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
      StartDate: '2027-01-04T00:00:00.000Z',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      State: 'DISABLED',
      Target: {
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule'))[0];
    expect(JSON.parse(schedule?.Properties.Target.Input as string)).toMatchObject({
      limit: 5,
      trigger: { type: 'schedule' },
    });
  });

  test('each task gets its own function, named after the job and the task', () => {
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    expect(functions.filter((id) => id.startsWith('FanOutJobFunctions'))).toHaveLength(2);
    expect(functions.some((id) => id.startsWith('FanOutJobFunctionsProcessItemFunction'))).toBe(true);
  });
});

describe('lock retry attempts', () => {
  test('their cumulative delay exceeds the wait', () => {
    const total = (attempts: number) =>
      Array.from({ length: attempts }, (_, i) => Math.min(10 * 1.5 ** i, 60)).reduce((a, b) => a + b, 0);
    for (const minutes of [0, 1, 5, 10, 60]) {
      const attempts = lockRetryAttempts(Duration.minutes(minutes));
      expect(total(attempts - 1)).toBeGreaterThan(minutes * 60);
    }
  });
});

describe('synth fails with a clear message', () => {
  test('when a top-level Map is not caught to FailRun', () => {
    const uncaught = job('uncaught', {
      steps: (b) => {
        const each = new sfn.Map(b.scope, 'EachItem', { itemsPath: '$.input.items' });
        each.itemProcessor(b.task('Inner', { entry: ENTRY, inMap: true }));
        return b.task('First', { entry: ENTRY }).next(each);
      },
    });
    expect(() => build(uncaught)).toThrow('Job "uncaught": step "EachItem" has no catch to FailRun');
  });

  test('when a top-level Parallel is not caught to FailRun', () => {
    const uncaught = job('parallel', {
      steps: (b) => new sfn.Parallel(b.scope, 'Both').branch(b.task('Left', { entry: ENTRY, inMap: true })),
    });
    expect(() => build(uncaught)).toThrow('Job "parallel": step "Both" has no catch to FailRun');
  });

  test('when an inMap task is used at the top level', () => {
    const misplaced = job('misplaced', { steps: (b) => b.task('Lonely', { entry: ENTRY, inMap: true }) });
    expect(() => build(misplaced)).toThrow('Job "misplaced": step "Lonely" has no catch to FailRun');
  });

  test('when a task id is not PascalCase or takes a lifecycle name', () => {
    expect(() => build(job('bad-id', { steps: (b) => b.task('do-work', { entry: ENTRY }) }))).toThrow(
      'Job "bad-id": task "do-work" must be PascalCase',
    );
    expect(() => build(job('reserved', { steps: (b) => b.task('FinishRun', { entry: ENTRY }) }))).toThrow(
      'Job "reserved": task "FinishRun" uses the name of a lifecycle state',
    );
  });

  test('when a task entry does not exist', () => {
    expect(() =>
      build(job('missing', { steps: (b) => b.task('Work', { entry: 'tasks/nope/nope.ts' }) })),
    ).toThrow(/entry "tasks\/nope\/nope.ts" does not exist/);
  });

  test('when a queue job may wait as long as its timeout', () => {
    const queued = job('queued', { overlap: 'queue', queueMaxWait: Duration.minutes(30) });
    expect(() => build(queued)).toThrow('Job "queued": queueMaxWait must be shorter than timeout');
  });

  test('when the definition is invalid, before anything is built', () => {
    expect(() => build(job('bad-cron', { schedule: { expression: 'cron(* * * * *)' } }))).toThrow(
      /^Job "bad-cron": schedule\.expression is invalid/,
    );
    for (const startDate of ['2027-02-30T00:00:00Z', '2027-01-01', 'soon']) {
      expect(() => build(job('bad-start', { schedule: { expression: 'rate(1 hour)', startDate } }))).toThrow(
        `Job "bad-start": schedule.startDate must be a UTC time like 2027-01-01T00:00:00Z (got "${startDate}")`,
      );
    }
  });
});
