/**
 * The typed app configuration. It is read once, from the `stepjobs` object of the cdk.json context, when the
 * app is built, and handed to constructs as props: no construct reads context itself.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';

/** The CDK context key that holds the configuration. */
export const APP_CONFIG_CONTEXT_KEY = 'stepjobs';

/** Log retention periods CloudWatch Logs accepts (RetentionDays.INFINITE aside). */
const RETENTION_VALUES = Object.values(RetentionDays).filter(
  (value): value is number => typeof value === 'number' && value !== RetentionDays.INFINITE,
);

/** Levels that both Powertools and Lambda's JSON log filtering understand, so the two always agree. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const AppConfigSchema = z.strictObject({
  /** The CloudFormation stack name; it also prefixes state machine, schedule and log group names. */
  stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must be 1-64 letters, digits or dashes'),
  /** POWERTOOLS_SERVICE_NAME of every function. */
  serviceName: z.string().min(1),
  /** POWERTOOLS_METRICS_NAMESPACE of every function. */
  metricsNamespace: z.string().min(1),
  logLevel: z.enum(LOG_LEVELS),
  /** Retention of every Lambda and state machine log group. */
  logRetentionDays: z
    .number()
    .int()
    .refine((days) => RETENTION_VALUES.includes(days), {
      message: `must be one of the CloudWatch Logs retention periods (${RETENTION_VALUES.join(', ')})`,
    }),
  tableDeletionProtection: z.boolean(),
  /**
   * Days a job report (the audit digest's, in the job's report bucket) is kept before an S3 lifecycle rule
   * deletes it. @default 400
   */
  reportRetentionDays: z.number().int().min(1).max(36_500).default(400),
  /** An email address subscribed to the alarm topic; null for none (subscribe to the topic's output yourself). */
  alarmEmail: z.email().nullable(),
  /**
   * The customer-managed KMS key every log group is encrypted with; null to have the stack create one (with
   * rotation). A key of your own must let `logs.<region>.amazonaws.com` use it (docs/architecture.md).
   */
  logKmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be the ARN of a KMS key')
    .nullable(),
});

export type AppConfig = Readonly<z.infer<typeof AppConfigSchema>> & {
  /** `logRetentionDays` as the enum CDK wants. */
  readonly logRetention: RetentionDays;
};

export class AppConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppConfigError';
  }
}

/**
 * Validate the raw `stepjobs` context value. Throws an {@link AppConfigError} naming every bad key, e.g.
 * `cdk.json context "stepjobs.logRetentionDays": must be one of ...`.
 */
export function parseAppConfig(raw: unknown): AppConfig {
  if (raw === undefined || raw === null) {
    throw new AppConfigError(`cdk.json context "${APP_CONFIG_CONTEXT_KEY}" is missing`);
  }
  const result = AppConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      // An unknown key is reported on its parent object; name the key itself so a typo is easy to find.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys
        .map((key) => {
          const path = [APP_CONFIG_CONTEXT_KEY, ...issue.path.map(String), ...(key ? [key] : [])].join('.');
          return `cdk.json context "${path}": ${issue.message}`;
        })
        .join('\n');
    });
    throw new AppConfigError(`Invalid app configuration:\n${problems.join('\n')}`);
  }
  return { ...result.data, logRetention: result.data.logRetentionDays as RetentionDays };
}
