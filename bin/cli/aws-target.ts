/**
 * The deployed stack as a CLI target. Resource names come from the stack outputs (the same `Jobs` and
 * `LedgerTableName` outputs local mode reads from the synthesized template); runs start with StartExecution
 * and are followed with DescribeExecution / GetExecutionHistory.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { STACK_OUTPUT, TriggerType } from '../../shared/constants';
import { Ledger } from '../../shared/ledger/ledger';
import { newExecutionName } from '../../local/runtime';
import { CliError } from './errors';
import { ProgressTracker, type ProgressEvent } from './progress';
import type { ExecutionStatus, RunRequest, ScheduleStateChange, StartedRun, Target } from './target';

export interface AwsClients {
  cloudFormation: CloudFormationClient;
  sfn: SFNClient;
  scheduler: SchedulerClient;
  sts: STSClient;
  dynamo: DynamoDBClient;
}

export interface AwsTargetOptions {
  stackName: string;
  clients?: Partial<AwsClients>;
  /** Poll interval while following an execution. @default 2000 */
  pollMs?: number;
}

/** Turn SDK failures that mean "not set up" into one clear line. */
export function explainAwsError(error: unknown, stackName: string): Error {
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new CliError(
      'No AWS credentials found. Set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION, or drop --aws to run locally.',
    );
  }
  if (name === 'InvalidExecutionInput') return new CliError(`Step Functions refused the input: ${message}`);
  if (/Region is missing/i.test(message))
    return new CliError('No AWS region set. Set AWS_REGION or use a profile with a region.');
  if (name === 'ValidationError' && /does not exist/.test(message)) {
    return new CliError(
      `No deployed stack "${stackName}" in this account and region. Deploy it with "npx cdk deploy", or pass --stack.`,
    );
  }
  if (
    name === 'ExpiredTokenException' ||
    name === 'UnrecognizedClientException' ||
    name === 'InvalidClientTokenId'
  ) {
    return new CliError(`AWS rejected the credentials (${name}). Refresh them and try again.`);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CliError(
      `AWS refused the call (${name}): ${message}. docs/scheduling.md lists what the CLI needs.`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

export class AwsTarget implements Target {
  readonly kind = 'aws';

  private constructor(
    private readonly clients: AwsClients,
    readonly ledger: Ledger,
    private readonly machines: Map<string, string>,
    /** Job id → its Scheduler schedule's name (group `default`). */
    private readonly schedules: Map<string, string>,
    private readonly stackName: string,
    private readonly pollMs: number,
  ) {}

  static async open(options: AwsTargetOptions): Promise<AwsTarget> {
    const clients: AwsClients = {
      cloudFormation: options.clients?.cloudFormation ?? new CloudFormationClient({}),
      sfn: options.clients?.sfn ?? new SFNClient({}),
      scheduler: options.clients?.scheduler ?? new SchedulerClient({}),
      sts: options.clients?.sts ?? new STSClient({}),
      dynamo: options.clients?.dynamo ?? new DynamoDBClient({}),
    };
    let outputs: Record<string, string>;
    try {
      const res = await clients.cloudFormation.send(
        new DescribeStacksCommand({ StackName: options.stackName }),
      );
      const stack = res.Stacks?.[0];
      if (!stack) throw new CliError(`No deployed stack "${options.stackName}"`);
      outputs = Object.fromEntries(
        (stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
      );
    } catch (error) {
      throw explainAwsError(error, options.stackName);
    }
    const tableName = outputs[STACK_OUTPUT.TABLE_NAME];
    const jobsJson = outputs[STACK_OUTPUT.JOBS];
    if (!tableName || !jobsJson) {
      throw new CliError(
        `Stack "${options.stackName}" has no ${STACK_OUTPUT.TABLE_NAME}/${STACK_OUTPUT.JOBS} outputs; is it a stepjobs stack?`,
      );
    }
    const deployed = parseJobsOutput(jobsJson, options.stackName);
    const machines = new Map(deployed.map((j) => [j.id, j.stateMachineArn]));
    const schedules = new Map(
      deployed.flatMap((j) => (typeof j.scheduleName === 'string' ? [[j.id, j.scheduleName] as const] : [])),
    );
    return new AwsTarget(
      clients,
      Ledger.fromClient(clients.dynamo, tableName),
      machines,
      schedules,
      options.stackName,
      options.pollMs ?? 2000,
    );
  }

  get jobIds(): string[] {
    return [...this.machines.keys()];
  }

  private caller: Promise<string> | undefined;

  /** The caller's IAM identity ARN (STS GetCallerIdentity), asked once. */
  principal(): Promise<string> {
    this.caller ??= this.clients.sts.send(new GetCallerIdentityCommand({})).then(
      (identity) => identity.Arn ?? 'unknown',
      (error: unknown) => {
        this.caller = undefined;
        throw explainAwsError(error, this.stackName);
      },
    );
    return this.caller;
  }

  async startRun(request: RunRequest): Promise<StartedRun> {
    const stateMachineArn = this.machines.get(request.jobId);
    if (!stateMachineArn)
      throw new CliError(`Job "${request.jobId}" is not deployed in stack ${this.stackName}`);
    let executionArn: string;
    try {
      const trigger = request.trigger ?? { type: TriggerType.CLI };
      const input = { ...request.input, trigger: { ...trigger, principal: await this.principal() } };
      const res = await this.clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: newExecutionName(trigger.type),
          input: JSON.stringify(input),
        }),
      );
      executionArn = res.executionArn ?? '';
    } catch (error) {
      throw explainAwsError(error, this.stackName);
    }
    const runId = executionArn.split(':').pop() ?? '';
    if (!request.wait) return { runId, executionArn, status: 'RUNNING' };
    return { runId, executionArn, ...(await this.follow(executionArn, request.onProgress)) };
  }

  /** Poll the execution until it ends, replaying its history as progress events. */
  private async follow(
    executionArn: string,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<{ status: ExecutionStatus; error?: string; cause?: string }> {
    let seen = 0;
    for (;;) {
      const described = await this.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const progress = historyToProgress(await this.history(executionArn));
      for (const event of progress.slice(seen)) onProgress?.(event);
      seen = progress.length;
      const status = (described.status ?? 'RUNNING') as ExecutionStatus;
      if (status !== 'RUNNING') return { status, error: described.error, cause: described.cause };
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  private async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.clients.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          nextToken,
          maxResults: 1000,
          includeExecutionData: false,
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  /**
   * Enable or disable the job's Scheduler schedule, for `pause --disable-schedule` and `resume`. UpdateSchedule
   * replaces the whole schedule, so it is sent back as GetSchedule returned it with only its state changed;
   * except a start date in the past, which the Scheduler refuses on update (a `rate()` then counts from now).
   */
  async setScheduleState(jobId: string, enabled: boolean): Promise<ScheduleStateChange> {
    const name = this.schedules.get(jobId);
    if (!name) throw new CliError(`Job "${jobId}" has no schedule in stack ${this.stackName}`);
    try {
      const got = await this.clients.scheduler.send(new GetScheduleCommand({ Name: name }));
      const before = got.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
      const wanted = enabled ? 'ENABLED' : 'DISABLED';
      if (before === wanted) return { name, before, changed: false, startDateDropped: false };
      const startDateDropped = got.StartDate !== undefined && got.StartDate.getTime() < Date.now();
      await this.clients.scheduler.send(
        new UpdateScheduleCommand({
          Name: name,
          GroupName: got.GroupName,
          Description: got.Description,
          ScheduleExpression: got.ScheduleExpression,
          ScheduleExpressionTimezone: got.ScheduleExpressionTimezone,
          ...(got.StartDate && !startDateDropped ? { StartDate: got.StartDate } : {}),
          EndDate: got.EndDate,
          FlexibleTimeWindow: got.FlexibleTimeWindow,
          Target: got.Target,
          KmsKeyArn: got.KmsKeyArn,
          ActionAfterCompletion: got.ActionAfterCompletion,
          State: wanted,
        }),
      );
      return { name, before, changed: true, startDateDropped };
    } catch (error) {
      throw explainAwsError(error, this.stackName);
    }
  }

  async close(): Promise<void> {
    for (const client of Object.values(this.clients)) client.destroy();
  }
}

/** The stack's `Jobs` output (`[{ id, stateMachineArn, ... }]`); a stack that holds anything else is not ours. */
function parseJobsOutput(
  text: string,
  stackName: string,
): Array<{ id: string; stateMachineArn: string; scheduleName?: unknown }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`Stack "${stackName}" has a ${STACK_OUTPUT.JOBS} output that is not JSON`, undefined, {
      cause: error,
    });
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (j: { id?: unknown; stateMachineArn?: unknown } | null) =>
        typeof j?.id === 'string' && typeof j.stateMachineArn === 'string',
    );
  if (!valid) {
    throw new CliError(
      `Stack "${stackName}" has a ${STACK_OUTPUT.JOBS} output that is not a list of { id, stateMachineArn }; is it a stepjobs stack?`,
    );
  }
  return parsed as Array<{ id: string; stateMachineArn: string; scheduleName?: unknown }>;
}

/** History events to progress events; a task failure is reported on the state entered last. */
export function historyToProgress(events: readonly HistoryEvent[]): ProgressEvent[] {
  const tracker = new ProgressTracker();
  let lastEntered = '';
  const out: ProgressEvent[] = [];
  for (const event of events) {
    const at = event.timestamp ? new Date(event.timestamp).getTime() : 0;
    if (event.stateEnteredEventDetails?.name) {
      lastEntered = event.stateEnteredEventDetails.name;
      out.push(tracker.event('entered', lastEntered, at));
    } else if (event.stateExitedEventDetails?.name) {
      out.push(tracker.event('exited', event.stateExitedEventDetails.name, at));
    } else {
      const failed = event.taskFailedEventDetails ?? event.lambdaFunctionFailedEventDetails;
      if (failed)
        out.push(tracker.event('failed', lastEntered, at, { error: failed.error, cause: failed.cause }));
    }
  }
  return out;
}
