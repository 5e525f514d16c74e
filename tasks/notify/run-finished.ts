/**
 * The run notifier: the ledger table's stream, filtered to runs that ended (stream-filter.ts), whoever wrote
 * the end (FinishRun, FailRun, StartRun, the reconciler, the sweep). For each run that ended it:
 * - puts a "stepjobs Run Finished" event with the run summary on the event bus, for every final run;
 * - when the outcome is one the job's `notify.on` names, publishes the summary to the job's topic (the custom
 *   notification format of Amazon Q Developer in chat applications, plain text for email) and, if the job
 *   has one, posts it to a Slack incoming webhook;
 * - records on the run what it sent to people and what it could not send.
 *
 * Sending is never on a run's path: a notification that cannot be sent is recorded on the run and counted
 * (`NotificationFailed`), and the run stays as it ended. A record the notifier cannot process (the ledger is
 * unavailable) is reported as a batch item failure, so Lambda retries from it; delivery is at least once, and
 * every message carries `<runId>#<status>` to deduplicate on.
 */
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from '../../shared/zod';
import { readJsonList } from '../../shared/config';
import { NOTIFY_ENV, NotifiedJob, type NotifyOutcome } from './config';
import { RunStatus } from '../../shared/constants';
import { describeError } from '../../shared/errors';
import { lifecycleHandler, type TaskDeps } from '../../shared/handler';
import { findStep, recordNotification } from '../../shared/ledger/run-notes';
import type { NotificationRecord, RunRecord } from '../../shared/ledger/items';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import { notificationChannels, notifySdk, type NotificationChannels } from './channels';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, slackMessage, subject, topicMessage } from './formats';
import { isRunFinished } from './stream-filter';
import { buildSummary, type RunFinishedSummary } from './summary';

const StreamRecord = z.looseObject({
  eventID: z.optional(z.string()),
  eventName: z.string(),
  dynamodb: z.looseObject({
    SequenceNumber: z.optional(z.string()),
    NewImage: z.optional(z.record(z.string(), z.unknown())),
    OldImage: z.optional(z.record(z.string(), z.unknown())),
  }),
});

/** A DynamoDB Streams batch, as the event source mapping delivers it. */
export const RunFinishedEvent = z.object({ Records: z.array(StreamRecord) });
export type RunFinishedEvent = z.infer<typeof RunFinishedEvent>;

export interface RunFinishedDeps extends TaskDeps {
  channels: NotificationChannels;
  /** The region console links point to. */
  region: string;
}

export interface RunFinishedResult {
  /** Records Lambda must deliver again (the first one that failed; the ones after it come again with it). */
  batchItemFailures: Array<{ itemIdentifier: string }>;
  notified: Array<{ runId: string; outcome: string; sent: string[]; failed: string[] }>;
  ignored: number;
}

/** The bus when the function's environment names none. */
const DEFAULT_BUS = 'default';

export async function notifyRunsFinished(
  event: RunFinishedEvent,
  deps: RunFinishedDeps,
): Promise<RunFinishedResult> {
  const jobs = notifiedJobs(deps.env);
  const result: RunFinishedResult = { batchItemFailures: [], notified: [], ignored: 0 };
  for (const record of event.Records) {
    if (!isRunFinished(record as Parameters<typeof isRunFinished>[0])) {
      result.ignored += 1;
      continue;
    }
    const run = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) as RunRecord &
      Record<string, NativeAttributeValue>;
    try {
      result.notified.push(await notifyRun(run, jobs, deps));
    } catch (error) {
      logger.error('Could not notify the end of a run; Lambda delivers it again', {
        runId: run.runId,
        error: error as Error,
      });
      // Lambda goes on from the first failed record: the ones after it are delivered again with it.
      result.batchItemFailures.push({
        itemIdentifier: record.dynamodb.SequenceNumber ?? record.eventID ?? '',
      });
      break;
    }
  }
  return result;
}

let parsedJobs: { raw: string | undefined; jobs: NotifiedJob[] } | undefined;

/** The NOTIFY_JOBS setting, parsed once per value: a container (or local mode) notifies run after run. */
function notifiedJobs(env: RunFinishedDeps['env']): NotifiedJob[] {
  const raw = env[NOTIFY_ENV.JOBS];
  if (parsedJobs && raw !== undefined && parsedJobs.raw === raw) return parsedJobs.jobs;
  const jobs = readJsonList(env, NOTIFY_ENV.JOBS, NotifiedJob);
  parsedJobs = { raw, jobs };
  return jobs;
}

async function notifyRun(
  run: RunRecord,
  jobs: readonly NotifiedJob[],
  deps: RunFinishedDeps,
): Promise<RunFinishedResult['notified'][number]> {
  const job = jobs.find((j) => j.jobId === run.jobId);
  if (!job)
    logger.warn('The run belongs to no job the notifier knows; it is put on the bus only', {
      jobId: run.jobId,
    });
  const figuresStep =
    job?.figures && run.status === RunStatus.SUCCEEDED
      ? await findStep(deps.ledger.table, run.runId, job.figures.step)
      : undefined;
  const summary = buildSummary(run, {
    ...(job ? { job } : {}),
    ...(figuresStep ? { figuresStep } : {}),
    region: deps.region,
  });
  const sent: string[] = [];
  const failures: NonNullable<NotificationRecord['failures']> = [];
  const attempt = async (channel: string, send: () => Promise<void>) => {
    try {
      await send();
      sent.push(channel);
    } catch (error) {
      const { name, message } = describeError(error);
      logger.warn('A notification could not be sent; the run is not affected', {
        channel,
        error: error as Error,
      });
      failures.push({ channel, error: { name, cause: message } });
    }
  };
  await attempt('events', () => putEvent(summary, deps));
  const toPeople = job !== undefined && job.on.includes(summary.outcome as NotifyOutcome);
  if (toPeople) {
    await attempt('topic', async () => {
      await deps.channels.sns.send(
        new (notifySdk.sns().PublishCommand)({
          TopicArn: job.topicArn,
          Subject: subject(summary),
          Message: topicMessage(summary),
          MessageStructure: 'json',
        }),
      );
    });
    const secret = job.slackWebhookSecret;
    if (secret)
      await attempt('slack', () => deps.channels.postToWebhook(secret, slackMessage(summary), summary));
  }
  // Only what went to people (or failed) is recorded: an event for every run would cost every run a write.
  if (toPeople || failures.length > 0) {
    await recordNotification(deps.ledger.table, run.runId, {
      at: deps.now().toISOString(),
      outcome: summary.outcome,
      sent,
      ...(failures.length > 0 ? { failures } : {}),
    });
  }
  countRun(run, toPeople, failures.length);
  return { runId: run.runId, outcome: summary.outcome, sent, failed: failures.map((f) => f.channel) };
}

/**
 * The run's metrics, each published at once (a batch holds runs of several jobs): `RunFinished` by job and status
 * and `RunDuration` by job, which the dashboard draws for every outcome (this is the one place that sees them
 * all), and whether its notification went out.
 */
const RAN = new Set<string>([RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABORTED]);

function countRun(run: RunRecord, toPeople: boolean, failed: number): void {
  const byStatus = metrics.singleMetric();
  byStatus.addDimensions({ job: run.jobId, status: run.status });
  byStatus.addMetric('RunFinished', MetricUnit.Count, 1);
  const byJob = metrics.singleMetric();
  byJob.addDimension('job', run.jobId);
  // Durations of runs that ran their steps: a SKIPPED or DUPLICATE run ends in milliseconds and would pull
  // the job's p50 down; a MISSED slot never ran at all.
  if (run.durationMs !== undefined && RAN.has(run.status))
    byJob.addMetric('RunDuration', MetricUnit.Milliseconds, run.durationMs);
  if (toPeople && failed === 0) byJob.addMetric('NotificationSent', MetricUnit.Count, 1);
  if (failed > 0) byJob.addMetric('NotificationFailed', MetricUnit.Count, failed);
}

async function putEvent(summary: RunFinishedSummary, deps: RunFinishedDeps): Promise<void> {
  const res = await deps.channels.events.send(
    new (notifySdk.events().PutEventsCommand)({
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: EVENT_DETAIL_TYPE,
          Detail: JSON.stringify(summary),
          EventBusName: deps.env[NOTIFY_ENV.EVENT_BUS] ?? DEFAULT_BUS,
          Resources: summary.executionArn ? [summary.executionArn] : [],
        },
      ],
    }),
  );
  // PutEvents answers 200 with the entries it refused.
  const refused = res.Entries?.find((entry) => entry.ErrorCode);
  if ((res.FailedEntryCount ?? 0) > 0 || refused) {
    const error = new Error(refused?.ErrorMessage ?? 'PutEvents refused the entry');
    error.name = refused?.ErrorCode ?? 'PutEventsFailed';
    throw error;
  }
}

export const handler = lifecycleHandler('RunFinished', RunFinishedEvent, (event, deps) =>
  notifyRunsFinished(event, {
    ...deps,
    channels: notificationChannels(deps.env),
    region: deps.env.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1',
  }),
);
