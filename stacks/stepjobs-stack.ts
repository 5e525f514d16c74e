import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type * as z from '../shared/zod';
import { validateJobs, type JobDefinition } from '../workflows/job-definition';
import type { AppConfig } from './app-config';
import { Alarms } from './constructs/alarms';
import { CallerRecorder } from './constructs/caller-recorder';
import { JobsDashboard } from './constructs/dashboard';
import { JobWorkflow } from './constructs/job-workflow';
import { LedgerTable } from './constructs/ledger-table';
import { LogEncryptionKey } from './constructs/log-encryption-key';
import { LifecycleFunctions } from './constructs/lifecycle-functions';
import { Reconciler } from './constructs/reconciler';
import { RunNotifier } from './constructs/run-notifier';
import { TopicKey } from './constructs/secure-topic';
import type { TaskFunctionDefaults } from './constructs/task-function';
import { addDiscoveryOutputs, pascalCase } from './outputs';

export interface StepJobsStackProps extends StackProps {
  readonly config: AppConfig;
  readonly jobs: readonly JobDefinition[];
  /** The input schema registered for each job id (tasks/lifecycle/job-inputs.ts). */
  readonly jobInputs: Readonly<Record<string, z.ZodMiniType>>;
  /** The day calendars are resolved from. @default today */
  readonly calendarDate?: Date;
}

/**
 * The whole app in one stack: the ledger, the shared lifecycle functions, one workflow per job, and the
 * reconciler. It only composes constructs.
 */
export class StepJobsStack extends Stack {
  constructor(scope: Construct, id: string, props: StepJobsStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Before anything is built, so a bad definition stops synth with a message naming the job and field.
    validateJobs(props.jobs, props.jobInputs);

    const ledger = new LedgerTable(this, 'Ledger', { deletionProtection: config.tableDeletionProtection });
    const defaults: TaskFunctionDefaults = {
      serviceName: config.serviceName,
      metricsNamespace: config.metricsNamespace,
      logLevel: config.logLevel,
      logRetention: config.logRetention,
      logEncryptionKey: new LogEncryptionKey(this, 'LogEncryption', { keyArn: config.logKmsKeyArn }).key,
      ledgerTable: ledger.table,
    };
    const lifecycle = new LifecycleFunctions(this, 'Lifecycle', { defaults });
    const topicKey = new TopicKey(this, 'TopicEncryption').key;
    const workflows = props.jobs.map(
      (definition) =>
        new JobWorkflow(this, `${pascalCase(definition.id)}Job`, {
          definition,
          lifecycle,
          defaults,
          namePrefix: this.stackName,
          topicKey,
          allJobIds: props.jobs.map((job) => job.id),
          reportRetentionDays: config.reportRetentionDays,
          ...(props.calendarDate ? { calendarDate: props.calendarDate } : {}),
        }),
    );
    const reconciler = new Reconciler(this, 'Reconciler', {
      defaults,
      machines: workflows.map((w) => ({
        jobId: w.definition.id,
        stateMachine: w.stateMachine,
        timeout: w.definition.timeout,
        retentionDays: w.settings.retentionDays,
        overlap: w.settings.overlap,
        schedule: w.sweptSchedule,
        scheduleArn: w.schedule.scheduleArn,
      })),
    });
    new CallerRecorder(this, 'Callers', { defaults, stateMachines: workflows.map((w) => w.stateMachine) });
    const alarms = new Alarms(this, 'Alarms', {
      jobs: workflows.map((w) => ({
        jobId: w.definition.id,
        stateMachine: w.stateMachine,
        scheduleDeadLetterQueue: w.scheduleDeadLetterQueue,
      })),
      reconcilerDeadLetterQueue: reconciler.deadLetterQueue,
      reconcilerFailureQueue: reconciler.failureQueue,
      sweepFunction: reconciler.sweepFunction.fn,
      metrics: { namespace: config.metricsNamespace, serviceName: config.serviceName },
      email: config.alarmEmail,
      topicKey,
    });
    const notifier = new RunNotifier(this, 'Notifier', {
      defaults,
      table: ledger.table,
      jobs: workflows.map((w) => ({ definition: w.definition, topic: w.notifyTopic ?? alarms.topic })),
    });
    alarms.watchNotifier(notifier.failureQueue);
    new JobsDashboard(this, 'Dashboard', {
      metrics: { namespace: config.metricsNamespace, serviceName: config.serviceName },
      jobs: workflows.map((w) => ({
        jobId: w.definition.id,
        stateMachine: w.stateMachine,
        scheduleDeadLetterQueue: w.scheduleDeadLetterQueue,
        functions: w.taskFunctions,
        ...(w.definition.dashboard ? { figures: w.definition.dashboard } : {}),
      })),
    });
    addDiscoveryOutputs(this, ledger.table, workflows);
    new CfnOutput(this, 'AlarmTopicArn', {
      value: alarms.topic.topicArn,
      description: 'SNS topic of the job alarms (failed runs, undelivered triggers); subscribe to it',
    });
  }
}
