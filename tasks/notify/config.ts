/**
 * The run notifier's configuration: which outcomes of which job go where, as the stack writes it into the
 * notifier's environment. It lives with the notifier, not in shared/config.ts, so that no other function's
 * bundle carries it.
 */
import * as z from '../../shared/zod';

export const NOTIFY_ENV = {
  /** JSON array of {@link NotifiedJob}: where each job's run summaries go. */
  JOBS: 'NOTIFY_JOBS',
  /** The event bus every final run is put on (the account's default bus). */
  EVENT_BUS: 'EVENT_BUS_NAME',
} as const;

/** Outcomes a job can be notified of; `CHANGED` is a SUCCEEDED run whose figures say it changed something. */
export const NOTIFY_OUTCOMES = ['FAILED', 'TIMED_OUT', 'ABORTED', 'MISSED', 'SKIPPED', 'CHANGED'] as const;
export type NotifyOutcome = (typeof NOTIFY_OUTCOMES)[number];

/** One entry of the NOTIFY_JOBS variable: where a job's run summaries go, and what they hold. */
export const NotifiedJob = z.object({
  jobId: z.string(),
  /** The outcomes sent to the topic (and Slack). Every final run still becomes an event. */
  on: z.array(z.enum(NOTIFY_OUTCOMES)),
  /** The SNS topic the job's summaries go to. */
  topicArn: z.string(),
  /** Key figures: fields of one step's output, by label, as dot paths; `changed` counts what the run changed. */
  figures: z.optional(
    z.object({
      step: z.string(),
      fields: z.record(z.string(), z.string()),
      changed: z.optional(z.string()),
    }),
  ),
  /** A Secrets Manager secret (name or ARN) holding a Slack incoming-webhook URL. */
  slackWebhookSecret: z.optional(z.string()),
});
export type NotifiedJob = z.infer<typeof NotifiedJob>;
