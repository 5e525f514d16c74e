import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { holdingQueue } from './holding-queue';
import { TriggerType } from '../../shared/constants';
import type { JobSchedule } from '../../workflows/job-definition';

export interface ScheduleTriggerProps {
  readonly jobId: string;
  readonly description: string;
  readonly schedule: JobSchedule<Record<string, unknown>>;
  readonly stateMachine: sfn.IStateMachine;
}

/** Scheduler's own defaults and limits, applied explicitly so the template says what happens. */
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_MAX_EVENT_AGE = Duration.hours(24);
const MAX_DESCRIPTION = 512;

/**
 * The EventBridge Scheduler schedule that starts a job's executions, with a dead-letter queue for deliveries
 * that run out of retries.
 *
 * The execution input carries the schedule's context attributes as `trigger`, so StartRun can tell scheduled
 * runs from manual ones and deduplicate repeated deliveries of one slot on (jobId, scheduledTime): delivery is
 * at least once, and the execution name differs on every attempt.
 */
export class ScheduleTrigger extends Construct {
  readonly schedule: scheduler.ISchedule;
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: ScheduleTriggerProps) {
    super(scope, id);
    const { schedule } = props;

    const deadLetterQueue = holdingQueue(
      this,
      'DeadLetterQueue',
      "This queue is itself the dead-letter queue of the job's Scheduler target; nothing consumes it automatically, so a DLQ behind it would never receive anything.",
    );

    const minutes = schedule.flexibleWindowMinutes ?? 0;
    const trigger = {
      type: TriggerType.SCHEDULE,
      scheduledTime: scheduler.ContextAttribute.scheduledTime,
      scheduleArn: scheduler.ContextAttribute.scheduleArn,
      attempt: scheduler.ContextAttribute.attemptNumber,
    };
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `${props.jobId}: ${props.description}`.slice(0, MAX_DESCRIPTION),
      // Verbatim: the same string the synth-time validation and the local simulator evaluate.
      schedule: scheduler.ScheduleExpression.expression(
        schedule.expression,
        TimeZone.of(schedule.timeZone ?? 'UTC'),
      ),
      timeWindow:
        minutes > 0 ? scheduler.TimeWindow.flexible(Duration.minutes(minutes)) : scheduler.TimeWindow.off(),
      enabled: schedule.enabled ?? true,
      ...(schedule.startDate ? { start: new Date(schedule.startDate) } : {}),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ ...schedule.input, trigger }),
        deadLetterQueue,
        retryAttempts: schedule.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
        maxEventAge: schedule.maxEventAge ?? DEFAULT_MAX_EVENT_AGE,
      }),
    });
    this.deadLetterQueue = deadLetterQueue;
  }
}
