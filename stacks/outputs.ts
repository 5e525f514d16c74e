/**
 * Stack outputs the CLI discovers the deployment from. Their keys are a contract (STACK_OUTPUT in
 * shared/constants.ts), so they are created at the stack's top level, where a construct id is the output key.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { STACK_OUTPUT } from '../shared/constants';
import { JobDefinitionError } from '../workflows/job-definition';
import type { JobWorkflow } from './constructs/job-workflow';

/** `clean-old-volumes` → `CleanOldVolumes`: job ids in construct ids and output keys. */
export function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

export function addDiscoveryOutputs(
  stack: Stack,
  ledgerTable: ITable,
  workflows: readonly JobWorkflow[],
): void {
  new CfnOutput(stack, STACK_OUTPUT.TABLE_NAME, {
    description: 'The run ledger table',
    value: ledgerTable.tableName,
  });
  for (const workflow of workflows) {
    const { id } = workflow.definition;
    new CfnOutput(stack, `${STACK_OUTPUT.STATE_MACHINE_ARN_PREFIX}${pascalCase(id)}`, {
      description: `State machine of job ${id}`,
      value: workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(stack, `${STACK_OUTPUT.SCHEDULE_NAME_PREFIX}${pascalCase(id)}`, {
      description: `Schedule of job ${id}`,
      value: workflow.schedule.scheduleName,
    });
    if (workflow.notifyTopic) {
      new CfnOutput(stack, `NotifyTopicArn${pascalCase(id)}`, {
        description: `SNS topic of the run summaries of job ${id}; subscribe to it (email, Amazon Q Developer)`,
        value: workflow.notifyTopic.topicArn,
      });
    }
  }
  // One report bucket per app: `stepjobs reports` reads the one this output names.
  const [reporting, second] = workflows.filter((w) => w.createdReportBucket);
  if (reporting && second) {
    throw new JobDefinitionError(
      second.definition.id,
      'steps',
      `asks for a report bucket, but job ${reporting.definition.id} has the app's one`,
    );
  }
  if (reporting?.createdReportBucket) {
    new CfnOutput(stack, STACK_OUTPUT.REPORT_BUCKET, {
      description: `The bucket job ${reporting.definition.id} writes its reports to (stepjobs reports)`,
      value: reporting.createdReportBucket.bucketName,
    });
  }
  new CfnOutput(stack, STACK_OUTPUT.JOBS, {
    description: 'Every job: [{ id, stateMachineArn, scheduleName }]',
    value: stack.toJsonString(
      workflows.map((w) => ({
        id: w.definition.id,
        stateMachineArn: w.stateMachine.stateMachineArn,
        scheduleName: w.schedule.scheduleName,
      })),
    ),
  });
}
