import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  Decision,
  ErrorName,
  FAILED_STATE_PATH,
  LifecycleState,
  OverlapPolicy,
  RESUME_PATH,
} from '../../shared/constants';
import { unnamedCalendar, type ResolvedCalendar } from '../../shared/calendar';
import type { JobMachine } from '../../shared/config';
import { JobSettings } from '../../shared/contracts';
import {
  DEFAULT_QUEUE_MAX_WAIT,
  DEFAULT_RETENTION_DAYS,
  JobDefinitionError,
  type JobDefinition,
  type StepBuilder,
  type TaskOptions,
  type TaskPolicy,
  DEFAULT_CATCHUP_WINDOW,
  DEFAULT_MISSED_GRACE,
  jobCalendar,
  leaseSeconds,
} from '../../workflows/job-definition';
import { acknowledgeWildcardResources, STAR_RESOURCE_FINDING } from '../nag';
import type { LifecycleFunctions } from './lifecycle-functions';
import { LIFECYCLE_TIMEOUT } from './lifecycle-functions';
import {
  LAMBDA_TRANSIENT_ERRORS,
  LAMBDA_TRANSIENT_RETRY,
  LEDGER_RETRY,
  lockHeldRetry,
  STEP_NOT_STARTED_RETRY,
} from './retries';
import { DEFAULT_REPORT_RETENTION_DAYS, ReportBucket } from './report-bucket';
import { ScheduleTrigger } from './schedule-trigger';
import { secureTopic } from './secure-topic';
import { TaskFunction, type TaskFunctionDefaults } from './task-function';

export interface JobWorkflowProps {
  readonly definition: JobDefinition;
  readonly lifecycle: LifecycleFunctions;
  readonly defaults: TaskFunctionDefaults;
  /** Prefix of the state machine's log group name, e.g. the stack name. */
  readonly namePrefix: string;
  /** The day the job's calendar is resolved from (holidays of its year on). @default today */
  readonly calendarDate?: Date;
  /** The key of the job's own summary topic, when it has one. */
  readonly topicKey: kms.IKey;
  /** The id of every job of the app, for a job that reports on the others. @default this job's id only */
  readonly allJobIds?: readonly string[];
  /** How long the job's reports are kept, when it has a report bucket. @default DEFAULT_REPORT_RETENTION_DAYS */
  readonly reportRetentionDays?: number;
}

/**
 * The errors of FailRun itself that end the execution in `Failed` with the step's error: the ledger stayed
 * unavailable through its retries, Lambda failed it, it crashed or timed out. FailRun's own failure of the
 * execution never carries one of these names (shared/errors.ts executionFailure renames them), so it is never
 * caught: FailRun stays the state that failed, where a redrive restarts.
 */
export const FAIL_RUN_CAUGHT = [
  ErrorName.LEDGER_UNAVAILABLE,
  ...LAMBDA_TRANSIENT_ERRORS,
  'Lambda.Unknown',
  sfn.Errors.TIMEOUT,
] as const;

/** Default Lambda and task timeout of a job step. */
export const DEFAULT_TASK_TIMEOUT = Duration.minutes(1);

const STATES_ERROR_PATH = '$.error';
/** StartRun's view of the execution: its context object as text (see StartRunEvent.executionText). */
export const EXECUTION_TEXT = 'States.JsonToString($$.Execution)';
const DEFAULT_STEP_DATA = { 'input.$': '$.input', 'results.$': '$.results' };
/** State ids become JSONPath members (`$.results.<id>`) and construct ids, so keep them plain. */
const TASK_ID = /^[A-Z][A-Za-z0-9]{0,79}$/;

/**
 * One job: a Standard state machine (JSONPath only) that wraps the job's steps in the run lifecycle, its log
 * group, its task functions and its schedule.
 *
 * ```
 * StartRun ─► Decide ─ RUN ───► <job steps> ─► FinishRun (end)
 *               ├───── REJECT ► Rejected (Fail)       └─ Catch ─► SucceededUnrecorded (the sweep records it)
 *               └───── else ──► Skipped (Succeed)
 * any top-level job step ─ Catch States.ALL ─► FailRun ─► Failed (Fail)
 *                                                 └─ Catch ─┘ (the reconciler records the failure)
 * ```
 *
 * A successful run adds exactly three transitions (StartRun, Decide, FinishRun); steps record themselves
 * in the ledger from inside their handler. The lifecycle states retry an unavailable ledger (LEDGER_RETRY).
 * When that is not enough, each still ends the execution the way the run went, so the record the
 * reconciler or the sweep writes later says what really happened: a FinishRun that cannot write still
 * succeeds the execution, and a FailRun that cannot write still fails it with the step's error. StartRun
 * has no Catch: if it fails, the execution fails and the reconciler records the run.
 *
 * The construct is the job's {@link StepBuilder}: `definition.steps(this)` builds the job's chain with it, and
 * synth fails when a top-level step that can fail is not caught into FailRun.
 */
export class JobWorkflow extends Construct implements StepBuilder {
  readonly stateMachine: sfn.IStateMachine;
  readonly schedule: scheduler.ISchedule;
  /** Where the Scheduler puts triggers it could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  readonly definition: JobDefinition;
  readonly ledgerTable: ITable;
  /** Pass it into Map items as `{ 'run.$': '$.run', 'itemIndex.$': '$$.Map.Item.Index', ... }` (itemSelector). */
  readonly runPath = '$.run';

  private readonly defaults: TaskFunctionDefaults;
  private readonly functions: Construct;
  private readonly failRun: sfn.TaskStateBase;
  private readonly resume: sfn.Choice;
  private readonly caught = new Set<sfn.State>();
  private readonly invoked = new Set<lambda.IFunction>();
  private readonly taskIds = new Set<string>();
  private readonly taskFns: lambda.IFunction[] = [];
  /** The job's own summary topic, when its `notify.topic` is `job`. */
  readonly notifyTopic?: sns.ITopic;
  readonly allJobIds: readonly string[];
  private readonly reportRetentionDays: number;
  private reports?: s3.IBucket;

  constructor(scope: Construct, id: string, props: JobWorkflowProps) {
    super(scope, id);
    const { definition, lifecycle } = props;
    this.definition = definition;
    this.defaults = props.defaults;
    this.calendarDate = props.calendarDate ?? new Date();
    this.ledgerTable = props.defaults.ledgerTable;
    this.allJobIds = props.allJobIds ?? [definition.id];
    this.reportRetentionDays = props.reportRetentionDays ?? DEFAULT_REPORT_RETENTION_DAYS;
    this.functions = new Construct(this, 'Functions');

    const failed = this.failWithError(LifecycleState.FAILED);
    // Each caught state adds its branch (catchFailures); anything else cannot come back from FailRun.
    this.resume = new sfn.Choice(this, LifecycleState.RESUME).otherwise(failed);
    this.failRun = this.invoke(LifecycleState.FAIL_RUN, lifecycle.failRun, {
      payload: {
        'run.$': '$.run',
        'error.$': STATES_ERROR_PATH,
        'failedState.$': FAILED_STATE_PATH,
        redrive: this.redriveRef,
      },
      resultPath: '$.redrive',
      timeout: LIFECYCLE_TIMEOUT,
    });
    this.failRun.addRetry(LEDGER_RETRY);
    // FailRun records the run and then fails the execution itself (tasks/lifecycle/fail-run.ts): it is the state
    // that failed, where Step Functions restarts a redrive, and from where FailRun resumes the failed step. Only
    // when it cannot record (the ledger, Lambda itself) does the execution end in `Failed`, with the step's
    // error, for the reconciler to record.
    this.failRun.addCatch(failed, { errors: [...FAIL_RUN_CAUGHT], resultPath: '$.failRunError' });
    this.failRun.next(this.resume);

    const startRun = this.startRun(lifecycle.startRun);
    const steps = definition.steps(this);
    this.assertStepsCaught(steps);
    const figuresStep = definition.notify?.figures?.step;
    if (figuresStep !== undefined && !this.taskIds.has(figuresStep)) {
      throw new JobDefinitionError(
        definition.id,
        'notify.figures.step',
        `names "${figuresStep}", which is not one of the job's tasks (${[...this.taskIds].join(', ')})`,
      );
    }
    if (definition.notify?.topic === 'job') {
      this.notifyTopic = secureTopic(this, 'NotifyTopic', `${definition.id} run summaries`, props.topicKey);
    }
    const finishRun = this.invoke(LifecycleState.FINISH_RUN, lifecycle.finishRun, {
      payload: { 'run.$': '$.run', 'results.$': '$.results' },
      resultPath: '$.summary',
      timeout: LIFECYCLE_TIMEOUT,
    });
    finishRun.addRetry(LEDGER_RETRY);
    // The steps succeeded: a FinishRun that cannot write must not fail the run. The execution succeeds with the
    // results in its output, and the sweep records the run SUCCEEDED from them. FinishRun itself is the last
    // state of a successful run: a Succeed after it would cost a transition and do nothing.
    finishRun.addCatch(new sfn.Succeed(this, LifecycleState.SUCCEEDED_UNRECORDED), {
      errors: [sfn.Errors.ALL],
      resultPath: '$.finishRunError',
    });
    const decide = new sfn.Choice(this, LifecycleState.DECIDE)
      .when(sfn.Condition.stringEquals('$.decision', Decision.RUN), sfn.Chain.start(steps).next(finishRun))
      .when(
        sfn.Condition.stringEquals('$.decision', Decision.REJECT),
        this.failWithError(LifecycleState.REJECTED),
      )
      .otherwise(new sfn.Succeed(this, LifecycleState.SKIPPED));

    const logGroup = new logs.LogGroup(this, 'Logs', {
      // Under /aws/vendedlogs/ so that log delivery does not grow the account's CloudWatch Logs resource policy.
      logGroupName: `/aws/vendedlogs/states/${props.namePrefix}-${definition.id}`,
      retention: props.defaults.logRetention,
      encryptionKey: props.defaults.logEncryptionKey,
      // The ledger is the durable run history; a retained group with a fixed name would block re-creating the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(sfn.Chain.start(startRun).next(decide)),
      timeout: definition.timeout,
      comment: definition.description,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledgeWildcardResources(
      stateMachine,
      [...this.invoked].flatMap((fn) => fn.resourceArnsForGrantInvoke),
      'LambdaInvoke grants each invoked function and its qualified versions (`<arn>:*`); every wildcard is bounded to one function of this job.',
    );
    Validations.of(stateMachine).acknowledge({
      id: STAR_RESOURCE_FINDING,
      reason:
        'X-Ray tracing (xray:PutTraceSegments etc.) and CloudWatch Logs delivery (logs:CreateLogDelivery etc.) support no resource-level permissions.',
    });
    this.acknowledgeDistributedMapPolicy(stateMachine);
    this.stateMachine = stateMachine;

    const trigger = new ScheduleTrigger(this, 'Trigger', {
      jobId: definition.id,
      description: definition.description,
      schedule: definition.schedule,
      stateMachine,
    });
    this.schedule = trigger.schedule;
    this.scheduleDeadLetterQueue = trigger.deadLetterQueue;
  }

  /** What the sweep needs to know of the job's schedule to find missed slots and make them up. */
  get sweptSchedule(): NonNullable<JobMachine['schedule']> {
    const { schedule } = this.definition;
    const catchup = schedule.catchup;
    return {
      name: this.schedule.scheduleName,
      expression: schedule.expression,
      timeZone: schedule.timeZone ?? 'UTC',
      ...(schedule.startDate ? { startDate: schedule.startDate } : {}),
      enabled: schedule.enabled ?? true,
      flexibleWindowMinutes: schedule.flexibleWindowMinutes ?? 0,
      graceSeconds: (schedule.missedGrace ?? DEFAULT_MISSED_GRACE).toSeconds(),
      ...(catchup && catchup.mode !== 'none'
        ? {
            catchup: {
              mode: catchup.mode,
              windowSeconds: (catchup.window ?? DEFAULT_CATCHUP_WINDOW).toSeconds(),
            },
          }
        : {}),
      ...(this.calendar ? { calendar: unnamedCalendar(this.calendar) } : {}),
    };
  }

  /** The job's calendar, resolved into concrete dates once, at synth (holidays from this year on). */
  get calendar(): ResolvedCalendar | undefined {
    if (this.resolvedCalendar === null)
      this.resolvedCalendar = jobCalendar(this.definition, this.calendarDate);
    return this.resolvedCalendar;
  }
  private resolvedCalendar: ResolvedCalendar | undefined | null = null;
  private readonly calendarDate: Date;

  get scope(): Construct {
    return this;
  }

  /** The job's report bucket, created on first use (see {@link StepBuilder.reportBucket}). */
  reportBucket(): s3.IBucket {
    this.reports ??= new ReportBucket(this, 'Reports', { retentionDays: this.reportRetentionDays }).bucket;
    return this.reports;
  }

  /** The report bucket, when the job's steps asked for one (the stack outputs its name). */
  get createdReportBucket(): s3.IBucket | undefined {
    return this.reports;
  }

  /** The job's own task functions, one per `task()` (not the lifecycle functions every job shares). */
  get taskFunctions(): readonly lambda.IFunction[] {
    return this.taskFns;
  }

  /** The job's settings as StartRun receives them. */
  get settings(): JobSettings {
    const { definition } = this;
    const overlap = definition.overlap ?? OverlapPolicy.SKIP;
    return JobSettings.parse({
      id: definition.id,
      overlap,
      leaseSeconds: leaseSeconds(definition),
      retentionDays: definition.retentionDays ?? DEFAULT_RETENTION_DAYS,
      destructive: definition.destructive ?? false,
      queueMaxWaitSeconds: overlap === OverlapPolicy.QUEUE ? this.queueMaxWait.toSeconds() : 0,
      calendar: this.calendar,
    });
  }

  task(id: string, options: TaskOptions): sfn.TaskStateBase {
    const jobId = this.definition.id;
    if (!TASK_ID.test(id)) {
      throw new JobDefinitionError(
        jobId,
        `task "${id}"`,
        'must be PascalCase letters and digits (it names the state and $.results.<id>)',
      );
    }
    if ((Object.values(LifecycleState) as string[]).includes(id)) {
      throw new JobDefinitionError(jobId, `task "${id}"`, 'uses the name of a lifecycle state');
    }
    this.taskIds.add(id);
    const timeout = options.timeout ?? DEFAULT_TASK_TIMEOUT;
    const fn = new TaskFunction(this.functions, id, {
      defaults: this.defaults,
      entry: options.entry,
      timeout,
      memorySize: options.memorySize,
      environment: options.environment,
      description: `${jobId} ${id}: ${options.entry}`,
    }).fn;
    this.taskFns.push(fn);
    for (const policy of options.policies ?? []) this.addTaskPolicy(jobId, id, fn, policy);
    const step: Record<string, unknown> = { name: id };
    if (options.inMap) step['itemIndex.$'] = '$.itemIndex';
    else if (options.itemIndexPath) step['itemIndex.$'] = options.itemIndexPath;
    const state = this.invoke(id, fn, {
      payload: {
        'run.$': this.runPath,
        step,
        data: options.data ?? DEFAULT_STEP_DATA,
        // Express children of a Distributed Map have no redrive: the parent's redrive reruns the map.
        ...(options.inMap ? {} : { redrive: this.redriveRef }),
      },
      resultPath: options.resultPath ?? `$.results.${id}`,
      timeout,
    });
    state.addRetry(STEP_NOT_STARTED_RETRY);
    for (const retry of options.retry ?? []) state.addRetry(retry);
    return options.inMap ? state : this.catchFailures(state);
  }

  /**
   * A Distributed Map makes CDK add `DistributedMapPolicy` on the state machine role: starting and describing
   * the map's own child executions, whose ARNs exist only at run time.
   */
  private acknowledgeDistributedMapPolicy(stateMachine: sfn.StateMachine): void {
    const policy = stateMachine.node.tryFindChild('DistributedMapPolicy') as iam.Policy | undefined;
    if (!policy) return;
    const statements =
      (policy.document.toJSON() as { Statement?: Array<{ Resource?: string | string[] }> }).Statement ?? [];
    acknowledgeWildcardResources(
      policy,
      statements.flatMap((st) =>
        Array.isArray(st.Resource) ? st.Resource : st.Resource ? [st.Resource] : [],
      ),
      "A Distributed Map starts and stops its own child executions (and map runs) of this state machine; their ARNs exist only at run time, so the wildcard is bounded to this state machine's executions.",
    );
  }

  /** Attach a declared policy; its wildcard resources are acknowledged with the reason the job gave, or synth fails. */
  private addTaskPolicy(jobId: string, taskId: string, fn: lambda.IFunction, policy: TaskPolicy): void {
    fn.addToRolePolicy(policy.statement);
    const wildcards = policy.statement.resources.filter((resource) => resource.includes('*'));
    if (wildcards.length === 0) return;
    if (!policy.wildcardReason) {
      throw new JobDefinitionError(
        jobId,
        `task "${taskId}" policy ${policy.statement.sid ?? ''}`.trim(),
        `has wildcard resources (${wildcards.join(', ')}) but no wildcardReason saying why they cannot be narrowed`,
      );
    }
    const role = fn.role;
    if (!role) throw new JobDefinitionError(jobId, `task "${taskId}"`, 'has no role to attach its policy to');
    acknowledgeWildcardResources(role, wildcards, policy.wildcardReason);
    if (wildcards.includes('*'))
      Validations.of(role).acknowledge({ id: STAR_RESOURCE_FINDING, reason: policy.wildcardReason });
  }

  /**
   * Catch every failure of `state` into FailRun, through a Pass state that names `state` for it, and let the
   * Resume choice come back to `state` when a redrive reopens the run (costs nothing on the success path).
   */
  catchFailures<T extends sfn.Map | sfn.DistributedMap | sfn.Parallel | sfn.TaskStateBase>(state: T): T {
    const caught = new sfn.Pass(this, `${state.stateId}Caught`, {
      result: sfn.Result.fromString(state.stateId),
      resultPath: FAILED_STATE_PATH,
    });
    caught.next(this.failRun);
    state.addCatch(caught, { errors: [sfn.Errors.ALL], resultPath: STATES_ERROR_PATH });
    this.resume.when(sfn.Condition.stringEquals(RESUME_PATH, state.stateId), state);
    this.caught.add(state);
    return state;
  }

  /** What a task needs to reopen its run when the execution is redriven (see RedriveRef). */
  private get redriveRef(): Record<string, unknown> {
    const { overlap, leaseSeconds } = this.settings;
    return { 'count.$': '$$.Execution.RedriveCount', overlap, leaseSeconds };
  }

  private get queueMaxWait(): Duration {
    return this.definition.queueMaxWait ?? DEFAULT_QUEUE_MAX_WAIT;
  }

  /** A Fail state that ends the execution with the error at `$.error` (a Catch's, or StartRun's REJECT). */
  private failWithError(id: string): sfn.Fail {
    return new sfn.Fail(this, id, {
      errorPath: `${STATES_ERROR_PATH}.Error`,
      causePath: `${STATES_ERROR_PATH}.Cause`,
    });
  }

  private startRun(fn: lambda.IFunction): sfn.TaskStateBase {
    const { definition } = this;
    const settings = this.settings;
    if (
      settings.overlap === OverlapPolicy.QUEUE &&
      this.queueMaxWait.toSeconds() >= definition.timeout.toSeconds()
    ) {
      throw new JobDefinitionError(definition.id, 'queueMaxWait', 'must be shorter than timeout');
    }
    const state = this.invoke(LifecycleState.START_RUN, fn, {
      payload: {
        // The context object as text: see StartRunEvent.executionText.
        'executionText.$': EXECUTION_TEXT,
        execution: {
          'id.$': '$$.Execution.Id',
          'name.$': '$$.Execution.Name',
          'startTime.$': '$$.Execution.StartTime',
        },
        job: settings,
      },
      // The StartRunResult replaces the raw input: { decision, run, input, results, error?, reason? }. That is
      // the default with no ResultPath at all; an explicit "ResultPath": "$" means the same on AWS, but the
      // local engine writes the result under a "$" key instead.
      resultPath: undefined,
      timeout: LIFECYCLE_TIMEOUT,
    });
    state.addRetry(LEDGER_RETRY);
    if (settings.overlap === OverlapPolicy.QUEUE) state.addRetry(lockHeldRetry(this.queueMaxWait));
    return state;
  }

  private invoke(
    id: string,
    fn: lambda.IFunction,
    options: { payload: Record<string, unknown>; resultPath: string | undefined; timeout: Duration },
  ): tasks.LambdaInvoke {
    const state = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(options.payload),
      payloadResponseOnly: true,
      // Our own retry below, so the list is explicit and includes throttling.
      retryOnServiceExceptions: false,
      resultPath: options.resultPath,
      taskTimeout: sfn.Timeout.duration(options.timeout),
    });
    state.addRetry(LAMBDA_TRANSIENT_RETRY);
    this.invoked.add(fn);
    return state;
  }

  /** Every top-level state of the job that can fail must lead to FailRun, or the run would never be recorded. */
  private assertStepsCaught(steps: sfn.IChainable): void {
    for (const state of sfn.State.findReachableStates(steps.startState, { includeErrorHandlers: true })) {
      if (state === this.failRun) continue;
      const canFail =
        state instanceof sfn.TaskStateBase || state instanceof sfn.MapBase || state instanceof sfn.Parallel;
      if (canFail && !this.caught.has(state)) {
        throw new JobDefinitionError(
          this.definition.id,
          `step "${state.stateId}"`,
          'has no catch to FailRun: build tasks with builder.task(...) and wrap Map/Parallel states in builder.catchFailures(...)',
        );
      }
    }
  }
}
