/**
 * The deployed stack as a CLI target. Resource names come from the stack outputs (the same `Jobs` and
 * `LedgerTableName` outputs local mode reads from the synthesized template); runs start with StartExecution
 * and are followed with DescribeExecution, GetExecutionHistory (only the new events each poll, see
 * {@link ExecutionHistoryReader}) and DescribeMapRun for a Distributed Map's item counts.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  type GetExecutionHistoryCommandInput,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  type MapRunItemCounts,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { STACK_OUTPUT, TriggerType } from '../../shared/constants';
import { Ledger } from '../../shared/ledger/ledger';
import { newExecutionName } from '../../local/runtime';
import { CliError } from './errors';
import { ProgressTracker, type MapItemCounts, type ProgressEvent } from './progress';
import type {
  DeployedSchedule,
  ExecutionStatus,
  RunRequest,
  ScheduleStateChange,
  StartedRun,
  Target,
} from './target';

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
  /**
   * GetExecutionHistory's `maxResults` while following: each poll re-reads at most one page of events it has
   * seen, and a burst of new events costs one call per page. @default 100
   */
  historyPageSize?: number;
}

/**
 * Turn SDK failures that mean "not set up" into one clear line. `action` (`states:DescribeMapRun`) names the
 * IAM action in a permission error, so the user knows what to ask for.
 */
export function explainAwsError(error: unknown, stackName: string, action?: string): Error {
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new CliError(
      'No AWS credentials found. Set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION, or drop --aws to run locally.',
    );
  }
  if (name === 'InvalidExecutionInput') return new CliError(`Step Functions refused the input: ${message}`);
  if (name === 'ExecutionNotRedrivable')
    return new CliError(`Step Functions cannot redrive this execution: ${message}`);
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
      `AWS refused ${action ?? 'the call'} (${name}): ${message}. docs/scheduling.md lists what the CLI needs.`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

/** The deployed stack's outputs by key; a missing stack or a refused call is a one-line {@link CliError}. */
export async function stackOutputs(
  cloudFormation: Pick<CloudFormationClient, 'send'>,
  stackName: string,
): Promise<Record<string, string>> {
  try {
    const res = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = res.Stacks?.[0];
    if (!stack) throw new CliError(`No deployed stack "${stackName}"`);
    return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    throw explainAwsError(error, stackName, 'cloudformation:DescribeStacks');
  }
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
    private readonly historyPageSize: number,
  ) {}

  static async open(options: AwsTargetOptions): Promise<AwsTarget> {
    const clients: AwsClients = {
      cloudFormation: options.clients?.cloudFormation ?? new CloudFormationClient({}),
      sfn: options.clients?.sfn ?? new SFNClient({}),
      scheduler: options.clients?.scheduler ?? new SchedulerClient({}),
      sts: options.clients?.sts ?? new STSClient({}),
      dynamo: options.clients?.dynamo ?? new DynamoDBClient({}),
    };
    const outputs = await stackOutputs(clients.cloudFormation, options.stackName);
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
      options.historyPageSize ?? 100,
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
      throw explainAwsError(error, this.stackName, 'states:StartExecution');
    }
    const runId = executionArn.split(':').pop() ?? '';
    if (!request.wait) return { runId, executionArn, status: 'RUNNING' };
    request.onStarted?.({ runId, executionArn });
    return { runId, executionArn, ...(await this.follow(runId, executionArn, request.onProgress)) };
  }

  async redrive(
    executionArn: string,
    request: Pick<RunRequest, 'wait' | 'onStarted' | 'onProgress'>,
  ): Promise<StartedRun> {
    // Which redrive this is: the follow waits for its ExecutionRedriven, not an earlier redrive's.
    const before = await this.call('states:DescribeExecution', () =>
      this.clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
    );
    const redrive = (before.redriveCount ?? 0) + 1;
    await this.call('states:RedriveExecution', () =>
      // The client token makes a retried call one redrive, not two.
      this.clients.sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: randomUUID() })),
    );
    const runId = executionArn.split(':').pop() ?? '';
    if (!request.wait) return { runId, executionArn, status: 'RUNNING' };
    request.onStarted?.({ runId, executionArn });
    return { runId, executionArn, ...(await this.follow(runId, executionArn, request.onProgress, redrive)) };
  }

  /**
   * Poll the execution until it is no longer RUNNING: each poll asks DescribeExecution for the status, reads
   * only the history events added since the last poll, and asks each Distributed Map run still going for its
   * item counts. The history is read after the status, so a poll that sees the end has every event too.
   */
  private async follow(
    runId: string,
    executionArn: string,
    onProgress?: (event: ProgressEvent) => void,
    /** A redriven execution, by the number of its redrive: show only what happens after that redrive. */
    redrive?: number,
  ): Promise<{ status: ExecutionStatus; error?: string; cause?: string }> {
    const sfn = this.clients.sfn;
    const history = new ExecutionHistoryReader(
      (input) =>
        this.call('states:GetExecutionHistory', () => sfn.send(new GetExecutionHistoryCommand(input))),
      executionArn,
      this.historyPageSize,
    );
    const progress = new HistoryProgress();
    const mapRuns = new MapRunProgress((mapRunArn) =>
      this.call('states:DescribeMapRun', () => sfn.send(new DescribeMapRunCommand({ mapRunArn }))),
    );
    /** ExecutionRedriven events read so far, until the one of `redrive`. */
    let redrives = 0;
    let redriven = redrive !== undefined;
    try {
      for (;;) {
        const described = await this.call('states:DescribeExecution', () =>
          sfn.send(new DescribeExecutionCommand({ executionArn })),
        );
        const status = (described.status ?? 'RUNNING') as ExecutionStatus;
        // Just after RedriveExecution the execution may still say how the last attempt ended, or be pending:
        // it is going until the history shows the redrive.
        const going = status === 'RUNNING' || status === 'PENDING_REDRIVE' || redriven;
        let events = await history.read();
        if (!going && !history.ended) events.push(...(await history.reread()));
        if (redriven) {
          // What the attempts before this redrive did is history: start after its ExecutionRedriven.
          const at = events.findIndex((e) => e.type === 'ExecutionRedriven' && ++redrives === redrive);
          if (at >= 0) redriven = false;
          events = at >= 0 ? events.slice(at + 1) : [];
        }
        for (const event of progress.push(events)) onProgress?.(event);
        for (const event of await mapRuns.poll(progress.mapRuns)) onProgress?.(event);
        if (!going) return { status, error: described.error, cause: described.cause };
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      }
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      throw new CliError(
        `${error.message} Run ${runId} goes on in AWS: "stepjobs show ${runId} --aws" shows it.`,
        error.exitCode,
        { cause: error },
      );
    }
  }

  /** One SDK call, its failure explained in one line that names the IAM action. */
  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw explainAwsError(error, this.stackName, action);
    }
  }

  /**
   * The job's schedule as the Scheduler holds it (GetSchedule), for `jobs --aws`. A schedule the stack names
   * but the Scheduler does not have (deleted by hand) is `missing`; any other failure is explained and thrown.
   */
  async deployedSchedule(jobId: string): Promise<DeployedSchedule> {
    const name = this.schedules.get(jobId);
    if (!name) return { status: 'none' };
    try {
      const got = await this.clients.scheduler.send(new GetScheduleCommand({ Name: name }));
      const rateAnchor = got.StartDate ?? got.LastModificationDate ?? got.CreationDate;
      return {
        status: 'found',
        name,
        expression: got.ScheduleExpression ?? '',
        timeZone: got.ScheduleExpressionTimezone ?? 'UTC',
        state: got.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
        ...(got.StartDate ? { startDate: got.StartDate } : {}),
        ...(got.EndDate ? { endDate: got.EndDate } : {}),
        ...(rateAnchor ? { rateAnchor } : {}),
      };
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return { status: 'missing', name };
      throw explainAwsError(error, this.stackName, 'scheduler:GetSchedule');
    }
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

/** The history event types that end an execution: once one is read, the history is complete. */
const EXECUTION_END_EVENTS = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);

/**
 * Reads an execution's history while it runs, each read returning only the events added since the last one,
 * so that following a long run costs what is new, not the whole history, on every poll.
 *
 * How: GetExecutionHistory lists the events in ascending order, `maxResults` per page. A page that comes with
 * a `nextToken` is complete, and the token is where the next page starts. A page without one is the end *for
 * now*: the running execution goes on adding events after it. So the reader keeps, between reads,
 *
 * - the token of the page that holds the next unseen event (none while that is still the first page), and
 * - the id of the last event it returned (event ids count 1, 2, 3... in history order).
 *
 * Each read asks for that page again, drops the events it has already returned (id ≤ the last one), and
 * follows `nextToken` until a page comes without one, keeping each token it moves to. A read costs one call
 * per page of new events, plus at most one page (fewer than `maxResults` events) read again: never the
 * history from its start, however long it is.
 *
 * Two ways back to the start, both one full listing at most and never in a healthy poll:
 * - Tokens expire after 24 hours (InvalidToken). A run that adds less than a page a day keeps its token
 *   that long; the reader then lists from the start once, skipping what it has returned, and goes on with
 *   the fresh tokens.
 * - {@link reread} when the execution has ended but its end event was not read: whatever the cause, the
 *   final progress is then complete.
 */
export class ExecutionHistoryReader {
  /** Token of the page holding the next unseen event; undefined: the first page. */
  private pageToken: string | undefined;
  private lastEventId = 0;
  private endSeen = false;

  constructor(
    private readonly getHistory: (
      input: GetExecutionHistoryCommandInput,
    ) => Promise<Pick<GetExecutionHistoryCommandOutput, 'events' | 'nextToken'>>,
    private readonly executionArn: string,
    private readonly pageSize: number,
  ) {}

  /** Whether the execution's end event has been read: no event can follow it. */
  get ended(): boolean {
    return this.endSeen;
  }

  /** The events added since the last read, in history order. */
  async read(): Promise<HistoryEvent[]> {
    const fresh: HistoryEvent[] = [];
    // At most one way back to the start per read: a token just handed out that is refused is an error.
    let restarted = false;
    for (;;) {
      let page: Pick<GetExecutionHistoryCommandOutput, 'events' | 'nextToken'>;
      try {
        page = await this.page();
      } catch (error) {
        if ((error as Error).name !== 'InvalidToken' || this.pageToken === undefined || restarted)
          throw error;
        // The token expired (24 hours): list from the start; the events already returned are skipped.
        restarted = true;
        this.pageToken = undefined;
        continue;
      }
      for (const event of page.events ?? []) {
        const id = event.id ?? 0;
        if (id <= this.lastEventId) continue;
        fresh.push(event);
        this.lastEventId = id;
        if (event.type && EXECUTION_END_EVENTS.has(event.type)) this.endSeen = true;
      }
      if (!page.nextToken) return fresh;
      this.pageToken = page.nextToken;
    }
  }

  /** Lists from the start, returning only the events not returned yet. */
  reread(): Promise<HistoryEvent[]> {
    this.pageToken = undefined;
    return this.read();
  }

  private page(): Promise<Pick<GetExecutionHistoryCommandOutput, 'events' | 'nextToken'>> {
    return this.getHistory({
      executionArn: this.executionArn,
      maxResults: this.pageSize,
      includeExecutionData: false,
      ...(this.pageToken ? { nextToken: this.pageToken } : {}),
    });
  }
}

/**
 * History events to progress events, across polls: one tracker, so an exit read in a later poll than its
 * entry still gets its duration. A task failure is reported on the state entered last.
 */
class HistoryProgress {
  private readonly tracker = new ProgressTracker();
  private lastEntered = '';
  /** The Distributed Map runs the history has started, each with the Map state that started it. */
  readonly mapRuns: Array<{ arn: string; state: string }> = [];

  push(events: readonly HistoryEvent[]): ProgressEvent[] {
    const out: ProgressEvent[] = [];
    for (const event of events) {
      const at = event.timestamp ? new Date(event.timestamp).getTime() : 0;
      if (event.stateEnteredEventDetails?.name) {
        this.lastEntered = event.stateEnteredEventDetails.name;
        out.push(this.tracker.event('entered', this.lastEntered, at));
      } else if (event.stateExitedEventDetails?.name) {
        out.push(this.tracker.event('exited', event.stateExitedEventDetails.name, at));
      } else if (event.mapRunStartedEventDetails?.mapRunArn) {
        this.mapRuns.push({ arn: event.mapRunStartedEventDetails.mapRunArn, state: this.lastEntered });
      } else {
        const failed = event.taskFailedEventDetails ?? event.lambdaFunctionFailedEventDetails;
        if (failed)
          out.push(
            this.tracker.event('failed', this.lastEntered, at, { error: failed.error, cause: failed.cause }),
          );
      }
    }
    return out;
  }
}

/** History events to progress events, all at once. */
export function historyToProgress(events: readonly HistoryEvent[]): ProgressEvent[] {
  return new HistoryProgress().push(events);
}

/**
 * A Distributed Map's items run in child executions, whose events never reach the parent's history: its
 * progress is DescribeMapRun's item counts, asked of each Map run until it ends, and shown when they change.
 */
class MapRunProgress {
  private readonly runs = new Map<string, { shown?: string; ended: boolean }>();

  constructor(
    private readonly describe: (
      mapRunArn: string,
    ) => Promise<{ status?: string; itemCounts?: MapRunItemCounts }>,
  ) {}

  async poll(started: ReadonlyArray<{ arn: string; state: string }>): Promise<ProgressEvent[]> {
    const out: ProgressEvent[] = [];
    for (const { arn, state } of started) {
      const run = this.runs.get(arn) ?? { ended: false };
      this.runs.set(arn, run);
      if (run.ended) continue;
      const described = await this.describe(arn);
      const items = mapItemCounts(described.itemCounts);
      const key = JSON.stringify(items);
      if (key !== run.shown) out.push({ kind: 'map', state, timestamp: Date.now(), items });
      run.shown = key;
      run.ended = described.status !== 'RUNNING';
    }
    return out;
  }
}

function mapItemCounts(counts: MapRunItemCounts | undefined): MapItemCounts {
  return {
    succeeded: counts?.succeeded ?? 0,
    failed: counts?.failed ?? 0,
    running: counts?.running ?? 0,
    pending: counts?.pending ?? 0,
    timedOut: counts?.timedOut ?? 0,
    aborted: counts?.aborted ?? 0,
    total: counts?.total ?? 0,
  };
}
