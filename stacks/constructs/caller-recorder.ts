import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { holdingQueue } from './holding-queue';
import { TaskFunction, type TaskFunctionDefaults } from './task-function';

export interface CallerRecorderProps {
  readonly defaults: TaskFunctionDefaults;
  /** The job state machines whose StartExecution calls name their callers. */
  readonly stateMachines: readonly sfn.IStateMachine[];
}

/**
 * Names who started console runs: CloudTrail's "AWS API Call via CloudTrail" event for StartExecution of our
 * state machines (delivered by EventBridge when the account has a trail logging management events) invokes
 * RecordCaller (tasks/lifecycle/record-caller.ts), which writes the caller on the run. Without such a trail
 * nothing arrives, and runs say their caller is unknown. Events that come before StartRun has written the
 * run are retried for up to two hours; what is still undelivered then waits in the dead-letter queue.
 */
export class CallerRecorder extends Construct {
  readonly function: TaskFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: CallerRecorderProps) {
    super(scope, id);
    this.function = new TaskFunction(this, 'RecordCaller', {
      defaults: props.defaults,
      entry: 'tasks/lifecycle/record-caller.ts',
      timeout: Duration.seconds(15),
      asyncFailureHandling:
        'Invoked by an EventBridge rule whose target retries for two hours and then keeps the event in its dead-letter queue; a caller that cannot be named costs only the name (the run says it is unknown).',
    });
    this.deadLetterQueue = holdingQueue(
      this,
      'DeadLetterQueue',
      'This queue is itself the dead-letter queue of the caller rule target: it keeps CloudTrail events whose run could not be named, for an operator.',
    );
    this.rule = new events.Rule(this, 'StartExecutionCalled', {
      description: 'CloudTrail StartExecution calls of stepjobs state machines: who started each run',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['states.amazonaws.com'],
          eventName: ['StartExecution'],
          // Calls Step Functions refused started nothing.
          errorCode: [{ exists: false }],
          requestParameters: { stateMachineArn: props.stateMachines.map((m) => m.stateMachineArn) },
        },
      },
      targets: [
        new eventsTargets.LambdaFunction(this.function.fn, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 30,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }
}
