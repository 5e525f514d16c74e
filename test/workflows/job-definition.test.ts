import { Duration } from 'aws-cdk-lib';
import * as z from '../../shared/zod';
import {
  defineJob,
  JobDefinitionError,
  validateJobs,
  type JobDefinition,
} from '../../workflows/job-definition';

const Input = z.object({ dryRun: z._default(z.boolean(), true) });

/** A valid definition, fresh for each test, with `changes` applied. */
function job(changes: Partial<JobDefinition> = {}): JobDefinition {
  return defineJob({
    id: 'sample',
    description: 'A sample job',
    schedule: { expression: 'cron(0 3 * * ? *)', timeZone: 'Europe/Paris' },
    timeout: Duration.minutes(10),
    input: Input,
    steps: (b) => b.task('Work', { entry: 'tasks/heartbeat/heartbeat.ts' }),
    ...changes,
  });
}

const registered = (...jobs: JobDefinition[]) => Object.fromEntries(jobs.map((j) => [j.id, j.input]));

function problemOf(jobs: JobDefinition[], inputs = registered(...jobs)): string {
  try {
    validateJobs(jobs, inputs);
  } catch (error) {
    expect(error).toBeInstanceOf(JobDefinitionError);
    return (error as Error).message;
  }
  throw new Error('validateJobs accepted an invalid definition');
}

test('a valid definition passes', () => {
  expect(() => validateJobs([job()], registered(job()))).not.toThrow();
});

test('a bad cron expression names the job and schedule.expression', () => {
  const message = problemOf([job({ schedule: { expression: 'cron(0 3 * * *)' } })]);
  expect(message).toMatch(/^Job "sample": schedule\.expression is invalid/);
  expect(message).toContain('6');
});

test('a cron expression with both day fields set is rejected', () => {
  expect(problemOf([job({ schedule: { expression: 'cron(0 3 1 * MON *)' } })])).toMatch(
    /^Job "sample": schedule\.expression .*"\?"/,
  );
});

test('a bad rate expression names the job and schedule.expression', () => {
  expect(problemOf([job({ schedule: { expression: 'rate(1 minutes)' } })])).toMatch(
    /^Job "sample": schedule\.expression is invalid: .*1 minute/,
  );
  expect(problemOf([job({ schedule: { expression: 'rate(0 hours)' } })])).toMatch(/schedule\.expression/);
  expect(problemOf([job({ schedule: { expression: 'every 5 minutes' } })])).toMatch(/schedule\.expression/);
});

test('an unknown time zone names the job and schedule.timeZone', () => {
  expect(problemOf([job({ schedule: { expression: 'rate(1 day)', timeZone: 'Mars/Olympus' } })])).toMatch(
    /^Job "sample": schedule\.timeZone is invalid: unknown time zone "Mars\/Olympus"/,
  );
});

test('a duplicate id names the job and id', () => {
  const first = job();
  const second = job({ description: 'Another job with the same id' });
  expect(problemOf([first, second], { sample: Input })).toBe('Job "sample": id is used by more than one job');
});

test('an id that cannot name resources is rejected', () => {
  expect(problemOf([job({ id: 'Bad_Id' })])).toMatch(/^Job "Bad_Id": id must be/);
});

test('a timeout over one year names the job and timeout', () => {
  expect(problemOf([job({ timeout: Duration.days(366) })])).toMatch(/^Job "sample": timeout must be between/);
});

test('a retention under a day names the job and retentionDays', () => {
  expect(problemOf([job({ retentionDays: 0.5 })])).toBe(
    'Job "sample": retentionDays must be at least 1 day (got 0.5)',
  );
});

test('an input schema not registered in job-inputs.ts names the job and input', () => {
  expect(problemOf([job()], {})).toMatch(/^Job "sample": input is not the schema registered for it/);
  // A different schema object under the right id is not the registered one either.
  expect(problemOf([job()], { sample: z.object({}) })).toMatch(/^Job "sample": input/);
});

test('a scheduled input the schema rejects names the field', () => {
  const scheduled = job({
    schedule: { expression: 'rate(1 day)', input: { dryRun: 'yes' as unknown as boolean } },
  });
  expect(problemOf([scheduled])).toMatch(/^Job "sample": schedule\.input\.dryRun is invalid/);
});
