import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { NOTIFY_ENV, type NotifiedJob } from '../../tasks/notify/config';
import { RUN_FINISHED_PATTERNS } from '../../tasks/notify/stream-filter';
import { DEFAULT_NOTIFY_ON, type JobDefinition } from '../../workflows/job-definition';
import { acknowledgeGrantWildcards } from '../nag';
import { holdingQueue } from './holding-queue';
import { TaskFunction, type TaskFunctionDefaults } from './task-function';

/** One job as the notifier needs it: its definition's `notify`, and the topic its summaries go to. */
export interface NotifiedJobProps {
  readonly definition: JobDefinition;
  readonly topic: sns.ITopic;
}

export interface RunNotifierProps {
  readonly defaults: TaskFunctionDefaults;
  /** The ledger table: its stream is what the notifier reads. */
  readonly table: dynamodb.ITable;
  readonly jobs: readonly NotifiedJobProps[];
}

/** Lambda allows 4 KB of environment in all. */
const MAX_JOBS_ENV_BYTES = 3000;
const TOKEN_ALLOWANCE = 'x'.repeat(140);

/**
 * Tells people and systems that runs ended: the ledger table's stream (new and old images), filtered to the
 * records where a run became final, invokes the notifier (tasks/notify/run-finished.ts). It puts every final
 * run on the default event bus and sends the outcomes each job names to its topic and Slack webhook.
 *
 * The stream, not the lifecycle functions, because one place then sees every end whoever writes it (FinishRun,
 * FailRun, StartRun, the reconciler, the sweep), and no send is ever on a run's path or in a lifecycle bundle.
 * Records it fails on are retried (bisected, from the failed record), then go to its failure queue, alarmed.
 */
export class RunNotifier extends Construct {
  readonly function: TaskFunction;
  /** Stream records the notifier could not process after its retries. */
  readonly failureQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: RunNotifierProps) {
    super(scope, id);
    const jobs: NotifiedJob[] = props.jobs.map(({ definition, topic }) => {
      const notify = definition.notify ?? {};
      return {
        jobId: definition.id,
        on: [...(notify.on ?? DEFAULT_NOTIFY_ON)],
        topicArn: topic.topicArn,
        ...(notify.figures ? { figures: notify.figures } : {}),
        ...(notify.slackWebhookSecret ? { slackWebhookSecret: notify.slackWebhookSecret } : {}),
      };
    });
    assertEnvironmentFits(jobs);
    this.function = new TaskFunction(this, 'RunFinished', {
      defaults: props.defaults,
      entry: 'tasks/notify/run-finished.ts',
      timeout: Duration.minutes(1),
      environment: {
        [NOTIFY_ENV.JOBS]: Stack.of(this).toJsonString(jobs),
        [NOTIFY_ENV.EVENT_BUS]: 'default',
      },
      asyncFailureHandling:
        "Invoked by a DynamoDB Streams event source mapping, not asynchronously: records it fails on are retried from the failed one, then sent to the mapping's on-failure destination (the encrypted FailureQueue, alarmed).",
    });
    const fn = this.function.fn;

    this.failureQueue = holdingQueue(
      this,
      'FailureQueue',
      "This queue is the notifier's on-failure destination: it holds the stream position of runs whose end was not sent, for an operator; nothing consumes it that would need a DLQ.",
    );
    fn.addEventSource(
      new eventSources.DynamoEventSource(props.table, {
        // Only runs that end from now on: a first deploy on a table with history must not announce old runs.
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 5,
        maxRecordAge: Duration.hours(6),
        onFailure: new eventSources.SqsDlq(this.failureQueue),
        filters: RUN_FINISHED_PATTERNS.map((pattern) => lambda.FilterCriteria.filter(pattern)),
      }),
    );

    // Every final run goes on the account's default bus.
    events.EventBus.fromEventBusName(this, 'DefaultBus', 'default').grantPutEventsTo(fn);
    const topics = new Map(props.jobs.map(({ topic }) => [topic.node.addr, topic]));
    for (const topic of topics.values()) topic.grantPublish(fn);
    Validations.of(this.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to an encrypted topic needs kms:GenerateDataKey* (SNS asks for a data key of either kind); the grant is on the topic key only.',
    });
    for (const job of props.jobs) {
      const secretId = job.definition.notify?.slackWebhookSecret;
      if (!secretId) continue;
      const secret = secretId.startsWith('arn:')
        ? secretsmanager.Secret.fromSecretCompleteArn(this, `${job.definition.id}Webhook`, secretId)
        : secretsmanager.Secret.fromSecretNameV2(this, `${job.definition.id}Webhook`, secretId);
      acknowledgeGrantWildcards(
        secret.grantRead(fn),
        this.function.role,
        `The Slack webhook secret of ${job.definition.id} is named, not imported by ARN: Secrets Manager appends six random characters to a secret's name in its ARN, which the wildcard stands for.`,
      );
    }
  }
}

function assertEnvironmentFits(jobs: readonly NotifiedJob[]): void {
  const bytes = Buffer.byteLength(
    JSON.stringify(jobs.map((j) => ({ ...j, topicArn: TOKEN_ALLOWANCE }))),
    'utf8',
  );
  if (bytes <= MAX_JOBS_ENV_BYTES) return;
  throw new Error(
    `The notifier's job list (${NOTIFY_ENV.JOBS}) would take about ${bytes} bytes of the 4 KB Lambda environment` +
      ` (at most ${MAX_JOBS_ENV_BYTES}): shorten the jobs' notify.figures labels and paths.`,
  );
}
