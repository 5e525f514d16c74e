/**
 * Local mode's record of executions: what Step Functions itself knows on AWS (DescribeExecution,
 * ListExecutions), kept in a table of the embedded DynamoDB so that every stepjobs process on the same data
 * directory sees it. Each execution is written when it starts (with its input, as Step Functions keeps it) and
 * when it ends, and carries the process that runs it: an execution still RUNNING whose process is gone
 * (killed, crashed) is reported ABORTED, which is how the sweep's local pass finds and ends its run.
 */
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ExecutionDoesNotExist,
  SFNClient,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { createTables } from './embedded-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { answerInProcess, type InProcessHandler } from './in-process-client';
import { currentProcess, isAlive, type ProcessIdentity } from './process-identity';

export const LOCAL_EXECUTIONS_TABLE = 'StepJobsLocalExecutions';
const BY_MACHINE = 'byMachine';

/** The error name (and the cause) the store gives an execution whose process is gone. */
export const PROCESS_EXITED = 'stepjobs.ProcessExited';

interface ExecutionItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  /** `<startDate ISO>#<name>`: the byMachine index's sort key, newest first when read backwards. */
  startKey: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate?: string;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  owner: ProcessIdentity;
}

export interface ExecutionStart {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  startDate: Date;
  /** The execution input as JSON text, as StartExecution received it. */
  input: string;
}

export interface ExecutionEnd {
  status: Exclude<ExecutionStatus, 'RUNNING' | 'PENDING_REDRIVE'>;
  stopDate: Date;
  output?: string;
  error?: string;
  cause?: string;
}

export class LocalExecutionStore {
  private constructor(private readonly doc: DynamoDBDocumentClient) {}

  /** The store in the embedded DynamoDB behind `client`; its table is created on first use. */
  static async open(client: DynamoDBClient): Promise<LocalExecutionStore> {
    await createTables(client, [
      {
        TableName: LOCAL_EXECUTIONS_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'executionArn', AttributeType: 'S' },
          { AttributeName: 'stateMachineArn', AttributeType: 'S' },
          { AttributeName: 'startKey', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'executionArn', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: BY_MACHINE,
            KeySchema: [
              { AttributeName: 'stateMachineArn', KeyType: 'HASH' },
              { AttributeName: 'startKey', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    ]);
    return new LocalExecutionStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    );
  }

  /** Record a started execution, run by this process. */
  async started(start: ExecutionStart): Promise<void> {
    const startDate = start.startDate.toISOString();
    const item: ExecutionItem = {
      executionArn: start.executionArn,
      stateMachineArn: start.stateMachineArn,
      name: start.name,
      startKey: `${startDate}#${start.name}`,
      status: 'RUNNING',
      startDate,
      input: start.input,
      owner: currentProcess(),
    };
    await this.doc.send(new PutCommand({ TableName: LOCAL_EXECUTIONS_TABLE, Item: item }));
  }

  /** Record how an execution ended. */
  async ended(executionArn: string, end: ExecutionEnd): Promise<void> {
    const values: Record<string, unknown> = { ':status': end.status, ':stop': end.stopDate.toISOString() };
    const names: Record<string, string> = { '#status': 'status' };
    const sets = ['#status = :status', 'stopDate = :stop'];
    for (const field of ['output', 'error', 'cause'] as const) {
      if (end[field] === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = end[field];
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: LOCAL_EXECUTIONS_TABLE,
        Key: { executionArn },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ConditionExpression: 'attribute_exists(executionArn)',
      }),
    );
  }

  /** DescribeExecution; `undefined` for an execution the store does not know. */
  async describe(executionArn: string): Promise<DescribeExecutionCommandOutput | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: LOCAL_EXECUTIONS_TABLE, Key: { executionArn }, ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const item = withLiveness(res.Item as ExecutionItem);
    return {
      $metadata: {},
      ...listItem(item),
      input: item.input,
      inputDetails: { included: true },
      ...(item.output === undefined ? {} : { output: item.output, outputDetails: { included: true } }),
      ...(item.error === undefined ? {} : { error: item.error }),
      ...(item.cause === undefined ? {} : { cause: item.cause }),
    };
  }

  /** ListExecutions of one state machine, newest first, one page at a time. */
  async list(
    stateMachineArn: string,
    options: { maxResults?: number; nextToken?: string } = {},
  ): Promise<{ executions: ExecutionListItem[]; nextToken?: string }> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: LOCAL_EXECUTIONS_TABLE,
        IndexName: BY_MACHINE,
        KeyConditionExpression: 'stateMachineArn = :arn',
        ExpressionAttributeValues: { ':arn': stateMachineArn },
        ScanIndexForward: false,
        Limit: options.maxResults ?? 100,
        ExclusiveStartKey: options.nextToken
          ? (JSON.parse(Buffer.from(options.nextToken, 'base64url').toString('utf8')) as Record<
              string,
              unknown
            >)
          : undefined,
      }),
    );
    return {
      executions: (res.Items ?? []).map((item) => listItem(withLiveness(item as ExecutionItem))),
      ...(res.LastEvaluatedKey
        ? { nextToken: Buffer.from(JSON.stringify(res.LastEvaluatedKey)).toString('base64url') }
        : {}),
    };
  }

  /**
   * A Step Functions client that answers DescribeExecution and ListExecutions from this store, in-process;
   * any other command is an error (local mode runs executions itself, never through this client).
   */
  /** `extra` answers more commands (the runtime's StartExecution, for the sweep's catch-ups). */
  stepFunctionsClient(extra: Readonly<Record<string, InProcessHandler>> = {}): SFNClient {
    const client = new SFNClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const handlers: Record<string, InProcessHandler> = {
      DescribeExecution: async (input) => {
        const executionArn = String(input.executionArn);
        const described = await this.describe(executionArn);
        if (!described) {
          throw new ExecutionDoesNotExist({
            message: `Execution Does Not Exist: '${executionArn}'`,
            $metadata: {},
          });
        }
        return described;
      },
      ListExecutions: async (input) =>
        this.list(String(input.stateMachineArn), {
          maxResults: input.maxResults as number | undefined,
          nextToken: input.nextToken as string | undefined,
        }),
      ...extra,
    };
    answerInProcess(
      client,
      'stepjobsLocalExecutions',
      handlers,
      (command) => new Error(`Local mode does not answer Step Functions ${command}`),
    );
    return client;
  }
}

/** An execution still RUNNING whose process is gone has ended: it was aborted with its process. */
function withLiveness(item: ExecutionItem): ExecutionItem {
  if (item.status !== 'RUNNING' || isAlive(item.owner)) return item;
  return {
    ...item,
    status: 'ABORTED',
    stopDate: new Date().toISOString(),
    error: PROCESS_EXITED,
    cause: `The stepjobs process running this execution (pid ${item.owner.pid} on ${item.owner.host}) exited before it ended`,
  };
}

function listItem(item: ExecutionItem): ExecutionListItem {
  return {
    executionArn: item.executionArn,
    stateMachineArn: item.stateMachineArn,
    name: item.name,
    status: item.status,
    startDate: new Date(item.startDate),
    ...(item.stopDate ? { stopDate: new Date(item.stopDate) } : {}),
  };
}
