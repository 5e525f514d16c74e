/**
 * Local mode's outbox: what the run notifier would have sent (topic messages, bus events, Slack posts), kept
 * in a table of the embedded DynamoDB so that `stepjobs outbox` in a later command lists it. The notifier's
 * channels seam (tasks/notify/channels.ts) is filled with real SNS and EventBridge clients whose commands are
 * answered in-process by writing here (local/in-process-client.ts), so nothing reaches AWS and the notifier's
 * own code runs unchanged. Slack posts are written as they would be posted; the webhook secret is not read.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbClientSetup } from '../shared/aws-clients';
import type { Env } from '../shared/config';
import {
  LOCAL_OUTBOX_TABLE,
  provideNotificationChannels,
  type NotificationChannels,
} from '../tasks/notify/channels';
import { createTables } from './embedded-dynamodb';
import { answerInProcess } from './in-process-client';

const LOCAL_OUTBOX_TABLE_NAME = 'StepJobsLocalOutbox';
const PARTITION = 'outbox';

export type OutboxChannel = 'topic' | 'events' | 'slack';

/** One message the notifier would have sent. */
export interface OutboxEntry {
  at: string;
  channel: OutboxChannel;
  /** The topic ARN, the bus name, or the webhook's secret. */
  target: string;
  runId: string;
  jobId: string;
  status: string;
  outcome: string;
  /** The SNS subject, the event's detail type. */
  subject?: string;
  /** The message exactly as it would have been sent (SNS Message, event Detail, webhook body), as text. */
  message: string;
}

class UnsupportedByOutbox extends Error {
  constructor(service: string, command: string) {
    super(
      `Local mode's outbox answers only what the run notifier sends; ${service} ${command} is not one of them`,
    );
    this.name = 'UnsupportedByOutbox';
  }
}

/** Create the outbox table (once) and provide the notifier's local channels; returns the environment for them. */
export async function prepareOutbox(client: DynamoDBClient): Promise<Record<string, string>> {
  await createTables(client, [
    {
      TableName: LOCAL_OUTBOX_TABLE_NAME,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    },
  ]);
  provideNotificationChannels(outboxChannels);
  return { [LOCAL_OUTBOX_TABLE]: LOCAL_OUTBOX_TABLE_NAME };
}

/** The outbox, newest first. */
export async function readOutbox(
  client: DynamoDBClient,
  options: { limit?: number; runId?: string; channel?: OutboxChannel } = {},
): Promise<OutboxEntry[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const limit = options.limit ?? 20;
  const entries: OutboxEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(
      new QueryCommand({
        TableName: LOCAL_OUTBOX_TABLE_NAME,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': PARTITION },
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of res.Items ?? []) {
      const { pk: _pk, sk: _sk, ...entry } = item as OutboxEntry & { pk: string; sk: string };
      if (options.runId && entry.runId !== options.runId) continue;
      if (options.channel && entry.channel !== options.channel) continue;
      entries.push(entry);
      if (entries.length >= limit) return entries;
    }
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return entries;
}

const cache = new Map<string, NotificationChannels>();

/**
 * The notifier's channels writing to the outbox, once per process and endpoint (and local transport), as the
 * ledger's clients are (shared/aws-clients.ts): each embedded DynamoDB needs its own client, and the process
 * that holds the store answers the outbox's writes in process, as it does the ledger's.
 */
function outboxChannels(env: Env): NotificationChannels {
  const table = env[LOCAL_OUTBOX_TABLE] ?? LOCAL_OUTBOX_TABLE_NAME;
  const setup = dynamoDbClientSetup();
  const key = `${table}@${setup.key}`;
  let channels = cache.get(key);
  if (!channels) {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(setup.config));
    const write = async (entry: Omit<OutboxEntry, 'at'>) => {
      const at = new Date().toISOString();
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { pk: PARTITION, sk: `${at}#${randomUUID().slice(0, 8)}`, at, ...entry },
        }),
      );
    };
    channels = {
      sns: answerInProcess(
        new SNSClient({}),
        'localOutbox',
        {
          Publish: async (input) => {
            const message = String(input.Message ?? '');
            await write({
              channel: 'topic',
              target: String(input.TopicArn),
              ...runOfTopicMessage(message),
              ...(input.Subject ? { subject: String(input.Subject) } : {}),
              message,
            });
            return { MessageId: randomUUID() };
          },
        },
        (command) => new UnsupportedByOutbox('SNS', command),
      ),
      events: answerInProcess(
        new EventBridgeClient({}),
        'localOutbox',
        {
          PutEvents: async (input) => {
            const entries = (input.Entries ?? []) as Array<Record<string, unknown>>;
            for (const entry of entries) {
              const detail = String(entry.Detail ?? '{}');
              const summary = JSON.parse(detail) as Partial<OutboxEntry>;
              await write({
                channel: 'events',
                target: String(entry.EventBusName ?? 'default'),
                runId: String(summary.runId),
                jobId: String(summary.jobId),
                status: String(summary.status),
                outcome: String(summary.outcome),
                subject: String(entry.DetailType),
                message: detail,
              });
            }
            return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) };
          },
        },
        (command) => new UnsupportedByOutbox('EventBridge', command),
      ),
      postToWebhook: async (secretId, body, run) => {
        await write({
          channel: 'slack',
          target: `secret ${secretId}`,
          ...run,
          message: JSON.stringify(body),
        });
      },
    };
    cache.set(key, channels);
  }
  return channels;
}

/** The run a topic message is about, from the chat notification's context. */
function runOfTopicMessage(message: string): Pick<OutboxEntry, 'runId' | 'jobId' | 'status' | 'outcome'> {
  const structured = JSON.parse(message) as { default?: string };
  const chat = JSON.parse(structured.default ?? '{}') as {
    metadata?: { additionalContext?: Record<string, string> };
  };
  const context = chat.metadata?.additionalContext ?? {};
  return {
    runId: String(context.runId),
    jobId: String(context.jobId),
    status: String(context.status),
    outcome: String(context.outcome),
  };
}
