/**
 * The audit digest's configuration, as the workflow writes it into the function's environment at synth
 * (workflows/audit-digest.ts) and the task reads it once per invocation with {@link readDigestConfig}.
 */
import * as z from '../../shared/zod';
import { readConfig, readJsonList, type Env } from '../../shared/config';

export const DIGEST_ENV = {
  /** The bucket the reports are written to (the job's report bucket). */
  BUCKET: 'REPORT_BUCKET',
  /** JSON array of the app's job ids, known at synth: the jobs the digest covers. */
  JOB_IDS: 'DIGEST_JOB_IDS',
  /** IANA time zone of the windows and the report keys' dates (the job's schedule's zone). */
  TIME_ZONE: 'DIGEST_TIME_ZONE',
  /** The job whose Report step figures (actions, estimated saving) the digest sums; empty for none. */
  RELEASE_JOB_ID: 'DIGEST_RELEASE_JOB_ID',
} as const;

const DigestEnv = z.object({
  [DIGEST_ENV.BUCKET]: z.string().check(z.minLength(3)),
  [DIGEST_ENV.TIME_ZONE]: z
    .string()
    .check(z.refine((zone) => isTimeZone(zone), 'must be an IANA time zone like Europe/Berlin')),
  [DIGEST_ENV.RELEASE_JOB_ID]: z.optional(z.string()),
});

export interface DigestConfig {
  bucket: string;
  jobIds: string[];
  timeZone: string;
  /** Absent when the app has no release job. */
  releaseJobId?: string;
}

/** The digest's configuration from its environment; a missing or malformed variable is a ConfigError naming it. */
export function readDigestConfig(env: Env): DigestConfig {
  const config = readConfig(DigestEnv, env);
  const release = config[DIGEST_ENV.RELEASE_JOB_ID];
  return {
    bucket: config[DIGEST_ENV.BUCKET],
    jobIds: readJsonList(env, DIGEST_ENV.JOB_IDS, z.string().check(z.minLength(1))),
    timeZone: config[DIGEST_ENV.TIME_ZONE],
    ...(release ? { releaseJobId: release } : {}),
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
