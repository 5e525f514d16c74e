/**
 * Runtime configuration. A task's configuration is read from an environment record (the Lambda's own
 * environment on AWS; the function's environment from the synthesized template in local mode), validated
 * once, and passed down. Nothing reads `process.env` deep inside the code.
 */
import { z } from 'zod';
import { ConfigError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** Environment variable names set by the TaskFunction construct. */
export const ENV = {
  TABLE_NAME: 'LEDGER_TABLE_NAME',
  /** JSON map of state machine ARN to job id, for the reconciler. */
  STATE_MACHINES: 'STATE_MACHINES',
} as const;

export const BaseConfig = z.object({
  [ENV.TABLE_NAME]: z.string().min(1),
});

/**
 * Parse the variables a task needs from `env`. A missing or malformed variable is a {@link ConfigError}
 * that names it.
 */
export function readConfig<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid function configuration: ${problems.join('; ')}`);
}
