/**
 * Runtime configuration. A task's configuration is read from an environment record (the Lambda's own
 * environment on AWS; the function's environment from the synthesized template in local mode), validated
 * once, and passed down. Nothing reads `process.env` deep inside the code.
 */
import * as z from './zod';
import { ResolvedCalendar } from './calendar';
import { ConfigError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** Environment variable names set by the TaskFunction construct. */
export const ENV = {
  TABLE_NAME: 'LEDGER_TABLE_NAME',
  /**
   * JSON array of {@link JobMachine} (one per job), for the reconciler and the sweep: which state machine
   * belongs to which job, and how long its executions may run.
   */
  STATE_MACHINES: 'STATE_MACHINES',
} as const;

export const BaseConfig = z.object({
  [ENV.TABLE_NAME]: z.string().check(z.minLength(1)),
});

/**
 * Parse the variables a task needs from `env`. A missing or malformed variable is a {@link ConfigError}
 * that names it.
 */
export function readConfig<S extends z.ZodMiniObject>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid function configuration: ${problems.join('; ')}`);
}

/** One entry of the STATE_MACHINES variable. */
export const JobMachine = z.object({
  jobId: z.string(),
  stateMachineArn: z.string(),
  timeoutSeconds: z.int().check(z.positive()),
  /**
   * The job's run retention, for the run records the reconciler creates for executions StartRun never
   * recorded. @default DEFAULT_RETENTION_DAYS
   */
  retentionDays: z.optional(z.number().check(z.positive())),
  /** The job's overlap policy: catch-ups start one at a time unless it is `allow`. @default 'skip' */
  overlap: z.optional(z.enum(['skip', 'allow', 'queue'])),
  /** The job's schedule, for missed-run detection and catch-up; absent for a job without one. */
  schedule: z.optional(
    z.object({
      /** The Scheduler schedule's name (group `default`): the sweep reads its deployed state with GetSchedule. */
      name: z.string(),
      /** The synthesized schedule: what the sweep expects when the deployed one cannot be read. */
      expression: z.string(),
      timeZone: z.string(),
      startDate: z.optional(z.string()),
      /** Deployed enabled. A job deployed disabled expects no slots. */
      enabled: z.boolean(),
      flexibleWindowMinutes: z.int().check(z.nonnegative()),
      /** How long after a slot (and its flexible window) a delivery may still come before it counts as missed. */
      graceSeconds: z.int().check(z.nonnegative()),
      catchup: z.optional(
        z.object({
          mode: z.enum(['none', 'latest', 'all']),
          windowSeconds: z.int().check(z.positive()),
        }),
      ),
      /** The calendar, without date names (the sweep needs only whether a slot is expected). */
      calendar: z.optional(ResolvedCalendar),
    }),
  ),
});
export type JobMachine = z.infer<typeof JobMachine>;

/** Parse the STATE_MACHINES variable; a malformed value is a ConfigError naming it. */
export function readJobMachines(env: Env): JobMachine[] {
  return readJsonList(env, ENV.STATE_MACHINES, JobMachine);
}

/** Parse a JSON array variable of `schema` items; a missing or malformed value is a ConfigError naming it. */
export function readJsonList<S extends z.ZodMiniType>(env: Env, name: string, schema: S): Array<z.infer<S>> {
  const raw = env[name];
  if (raw === undefined) throw new ConfigError(`Invalid function configuration: ${name} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`Invalid function configuration: ${name} is not JSON`);
  }
  const result = z.array(schema).safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(
      `Invalid function configuration: ${name}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  return result.data;
}
