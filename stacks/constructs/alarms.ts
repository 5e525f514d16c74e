import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { secureTopic } from './secure-topic';

export interface AlarmedJob {
  readonly jobId: string;
  readonly stateMachine: sfn.IStateMachine;
  /** Where the Scheduler puts triggers it could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
}

export interface AlarmsProps {
  readonly jobs: readonly AlarmedJob[];
  /** Where the reconciler's undeliverable status events go. */
  readonly reconcilerDeadLetterQueue: sqs.IQueue;
  /** Where status events the reconciler failed on go (its on-failure destination). */
  readonly reconcilerFailureQueue: sqs.IQueue;
  /** The sweep: an alarm watches its errors (a failed sweep is only replayed by the next one). */
  readonly sweepFunction: lambda.IFunction;
  /** The namespace and service dimension of the functions' metrics, for the sweep's own metrics. */
  readonly metrics: { readonly namespace: string; readonly serviceName: string };
  /** The key the alarm topic is encrypted with (CloudWatch must be able to use it). */
  readonly topicKey: kms.IKey;
  /** Subscribe this address to the alarm topic. @default no subscription (subscribe to the topic yourself) */
  readonly email?: string | null;
}

/**
 * What an operator must hear about without reading the ledger: a run that failed, timed out or was aborted,
 * and a trigger or status event that could not be delivered (a missed run). Every alarm notifies one topic.
 */
export class Alarms extends Construct {
  readonly topic: sns.ITopic;
  readonly alarms: cloudwatch.IAlarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const topic = secureTopic(this, 'Topic', `${Stack.of(this).stackName} job alarms`, props.topicKey);
    if (props.email) topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.topic = topic;

    for (const job of props.jobs) {
      const period = Duration.minutes(5);
      const ended = new cloudwatch.MathExpression({
        label: `${job.jobId} executions failed, timed out or aborted`,
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: job.stateMachine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: job.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
          aborted: job.stateMachine.metricAborted({ period, statistic: 'Sum' }),
        },
        period,
      });
      this.alarm(
        `${job.jobId}-run-failed`,
        `A run of ${job.jobId} failed, timed out or was aborted; see "stepjobs history ${job.jobId} --status FAILED".`,
        ended,
      );
      this.alarm(
        `${job.jobId}-missed-run`,
        `A scheduled slot of ${job.jobId} did not run: no delivery came, or its schedule is disabled or deleted. See "stepjobs history ${job.jobId} --status MISSED".`,
        new cloudwatch.Metric({
          namespace: props.metrics.namespace,
          metricName: 'MissedRuns',
          dimensionsMap: { service: props.metrics.serviceName, job: job.jobId },
          period: Duration.minutes(15),
          statistic: 'Sum',
        }),
      );
      this.alarm(
        `${job.jobId}-trigger-undelivered`,
        `EventBridge Scheduler could not start ${job.jobId}: a scheduled run was missed. The trigger waits in the dead-letter queue.`,
        job.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
        }),
      );
    }
    this.alarm(
      'reconciler-failed',
      'The reconciler failed on a status event after its retries (the event is in its failure queue); the 15-minute sweep will still finalize the run.',
      props.reconcilerFailureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    );
    const sweepMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: props.metrics.namespace,
        metricName,
        dimensionsMap: { service: props.metrics.serviceName },
        period: Duration.minutes(15),
        statistic: 'Sum',
      });
    this.alarm(
      'runs-repaired-by-sweep',
      'The sweep had to end or record runs that the state machine and the reconciler did not: the ledger was unavailable or status events were lost. See "stepjobs history <job>" for runs finalized by the sweep.',
      new cloudwatch.MathExpression({
        label: 'runs the sweep ended or recorded',
        expression: 'finalized + recorded',
        usingMetrics: { finalized: sweepMetric('SweepFinalized'), recorded: sweepMetric('SweepRecorded') },
        period: Duration.minutes(15),
      }),
    );
    this.alarm(
      'sweep-failed',
      'The sweep failed (see its log group); until it runs again, runs the state machine could not record stay unrecorded and stale locks stay held.',
      props.sweepFunction.metricErrors({ period: Duration.minutes(30), statistic: 'Sum' }),
    );
    this.alarm(
      'reconciler-event-undelivered',
      'A Step Functions status event could not be delivered to the reconciler; the 15-minute sweep will still finalize the run.',
      props.reconcilerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    );
  }

  /** Alarm on the run notifier's failure queue: runs whose end no summary or event announced. */
  watchNotifier(failureQueue: sqs.IQueue): void {
    this.alarm(
      'notifier-failed',
      'The run notifier could not process the end of a run after its retries (the stream record is in its failure queue): no summary or event went out for that run. The run itself is recorded; see "stepjobs history".',
      failureQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    );
  }

  private alarm(name: string, description: string, metric: cloudwatch.IMetric): void {
    const id = name.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase());
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No executions in a period is the normal case, not missing data to worry about.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
