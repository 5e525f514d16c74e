import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ENV, type JobMachine } from '../../shared/config';
import { acknowledgeGrantWildcards } from '../nag';
import { holdingQueue } from './holding-queue';
import { TaskFunction, type TaskFunctionDefaults } from './task-function';

/** One job's state machine, as the reconciler and the sweep need to know it. */
export interface ReconciledMachine {
  readonly jobId: string;
  readonly stateMachine: sfn.IStateMachine;
  /** The state machine's TimeoutSeconds: a RUNNING run older than this has certainly ended. */
  readonly timeout: Duration;
  /** How long the job keeps run records; the reconciler records runs StartRun never did. */
  readonly retentionDays: number;
  readonly overlap?: JobMachine['overlap'];
  /** The job's schedule as the sweep checks its slots. @default no slot check */
  readonly schedule?: JobMachine['schedule'];
  /** The Scheduler schedule's ARN: the sweep may only read it. */
  readonly scheduleArn?: string;
}

/** Lambda allows 4 KB of environment in all; the sweep's job list must leave room for the rest. */
const MAX_MACHINES_ENV_BYTES = 3500;
/** What an ARN or name token of the job list may take once deployed, for the size check. */
const TOKEN_ALLOWANCE = 'x'.repeat(140);

export interface ReconcilerProps {
  readonly defaults: TaskFunctionDefaults;
  readonly machines: readonly ReconciledMachine[];
  /** How often the sweep runs. @default Duration.minutes(15) */
  readonly sweepInterval?: Duration;
}

/** Execution statuses that end a run without FinishRun or FailRun having recorded it. */
export const UNRECORDED_END_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;

/**
 * Records the runs the state machine itself could not: executions that were aborted, timed out, or failed
 * outside the job steps' catch (StartRun or FailRun failing, `States.Runtime`).
 *
 * - The reconciler reacts to "Execution Status Change" events of our state machines.
 * - Those events are best effort, so a sweep also runs periodically and asks Step Functions about runs the
 *   ledger still shows as RUNNING.
 */
export class Reconciler extends Construct {
  readonly reconcileFunction: TaskFunction;
  readonly sweepFunction: TaskFunction;
  /** Status events EventBridge could not deliver to the reconciler. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Status events the reconciler failed on, after Lambda's own retries (its on-failure destination). */
  readonly failureQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    const machines: JobMachine[] = props.machines.map((m) => ({
      jobId: m.jobId,
      stateMachineArn: m.stateMachine.stateMachineArn,
      timeoutSeconds: m.timeout.toSeconds(),
      retentionDays: m.retentionDays,
      ...(m.overlap ? { overlap: m.overlap } : {}),
      ...(m.schedule ? { schedule: m.schedule } : {}),
    }));
    assertEnvironmentFits(machines);
    const environment = { [ENV.STATE_MACHINES]: Stack.of(this).toJsonString(machines) };

    this.reconcileFunction = new TaskFunction(this, 'Reconcile', {
      defaults: props.defaults,
      entry: 'tasks/lifecycle/reconcile.ts',
      timeout: Duration.seconds(30),
      environment,
      asyncFailureHandling:
        'Invoked asynchronously by an EventBridge rule; a failed invocation goes, after Lambda retries it, to its on-failure destination (the encrypted FailureQueue, alarmed), which keeps the event and the error, as a DLQ would not.',
    });
    this.deadLetterQueue = holdingQueue(
      this,
      'DeadLetterQueue',
      'This queue is itself the dead-letter queue of the reconciler rule target; the sweep records the same runs anyway, so nothing needs a DLQ behind it.',
    );
    this.failureQueue = holdingQueue(
      this,
      'FailureQueue',
      "This queue is the reconciler's on-failure destination: it holds events for an operator (and the sweep records the same runs), so nothing consumes it that would need a DLQ.",
    );
    this.reconcileFunction.fn.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.failureQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    // An event without its input (too large for an event) is completed from DescribeExecution.
    for (const machine of props.machines) {
      acknowledgeGrantWildcards(
        machine.stateMachine.grantExecution(this.reconcileFunction.fn, 'states:DescribeExecution'),
        this.reconcileFunction.role,
        `The reconciler describes executions of the ${machine.jobId} state machine whose event left out the input; the wildcard is the execution name of that one machine.`,
      );
    }
    new events.Rule(this, 'ExecutionEnded', {
      description: 'Runs of stepjobs state machines that ended without FinishRun or FailRun',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...UNRECORDED_END_STATUSES],
          stateMachineArn: props.machines.map((m) => m.stateMachine.stateMachineArn),
        },
      },
      targets: [
        new eventsTargets.LambdaFunction(this.reconcileFunction.fn, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    this.sweepFunction = new TaskFunction(this, 'Sweep', {
      defaults: props.defaults,
      entry: 'tasks/lifecycle/sweep.ts',
      // It may describe many executions, one call each.
      timeout: Duration.minutes(5),
      environment,
      asyncFailureHandling:
        'Invoked every 15 minutes by an EventBridge schedule; a failed sweep needs no replay (the next one covers the same runs from the ledger and Step Functions), and its errors raise an alarm.',
    });
    for (const machine of props.machines) {
      acknowledgeGrantWildcards(
        machine.stateMachine.grantExecution(this.sweepFunction.fn, 'states:DescribeExecution'),
        this.sweepFunction.role,
        `The sweep describes executions of the ${machine.jobId} state machine; the wildcard is the execution name of that one machine.`,
      );
      // To find executions that ended without a run record (StartRun failed or its event was lost).
      machine.stateMachine.grant(this.sweepFunction.fn, 'states:ListExecutions');
      if (machine.schedule?.catchup) machine.stateMachine.grantStartExecution(this.sweepFunction.fn);
      if (machine.scheduleArn) {
        // Missed-run detection reads the deployed schedule: its state, expression and flexible window. Reads only.
        this.sweepFunction.fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['scheduler:GetSchedule'], resources: [machine.scheduleArn] }),
        );
      }
    }
    // An EventBridge rule rather than a Scheduler schedule: it invokes through the function's resource policy,
    // so no role (and no IAM wildcard for qualified versions) is needed.
    const sweepSchedule = new events.Rule(this, 'SweepSchedule', {
      description: 'Records stepjobs runs whose end no event reported',
      schedule: events.Schedule.rate(props.sweepInterval ?? Duration.minutes(15)),
      targets: [
        new eventsTargets.LambdaFunction(this.sweepFunction.fn, {
          // A missed sweep needs no replay: the next one covers the same runs.
          retryAttempts: 2,
          maxEventAge: Duration.minutes(10),
        }),
      ],
    });
    Validations.of(sweepSchedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The sweep schedule fires every 15 minutes and an undelivered sweep needs no replay: the next one looks at the same runs. Sweep errors raise an alarm.',
    });
  }
}

/**
 * The reconciler's and the sweep's job list rides in their environment, which Lambda caps at 4 KB. Calendars
 * make it grow (one date per holiday): fail the synth, naming the jobs, rather than the deploy.
 */
function assertEnvironmentFits(machines: readonly JobMachine[]): void {
  const deployed = machines.map((m) => ({
    ...m,
    stateMachineArn: TOKEN_ALLOWANCE,
    ...(m.schedule ? { schedule: { ...m.schedule, name: TOKEN_ALLOWANCE } } : {}),
  }));
  const bytes = Buffer.byteLength(JSON.stringify(deployed), 'utf8');
  if (bytes <= MAX_MACHINES_ENV_BYTES) return;
  const calendars = machines.filter((m) => m.schedule?.calendar).map((m) => m.jobId);
  throw new Error(
    `The sweep's job list (${ENV.STATE_MACHINES}) would take about ${bytes} bytes of the 4 KB Lambda environment` +
      ` (at most ${MAX_MACHINES_ENV_BYTES}).` +
      (calendars.length > 0
        ? ` Calendars of ${calendars.join(', ')} add a date per holiday: lower their calendar.holidayYears.`
        : ''),
  );
}
