/**
 * The local outbox's client goes the way the ledger's does (shared/aws-clients.ts dynamoDbClientSetup): through
 * local mode's transport for the endpoint, answered by the store in this process. Nothing listens at the
 * endpoint itself, so a client that ignored the transport would fail.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDbStore } from '../../local/dynamodb-store';
import { routedRequestHandler } from '../../local/dynamodb-transport';
import { localDynamoDbClient } from '../../local/embedded-dynamodb';
import { prepareOutbox, readOutbox } from '../../local/outbox';
import { provideDynamoDbTransport } from '../../shared/aws-clients';
import { notificationChannels } from '../../tasks/notify/channels';

const ENDPOINT = 'http://127.0.0.1:9';
const saved = { ...process.env };
let dir: string;
let store: DynamoDbStore;
const transport = () =>
  routedRequestHandler(
    () => ({ store }),
    async () => undefined,
  );

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'stepjobs-outbox-'));
  store = await DynamoDbStore.open(path.join(dir, 'dynamodb'));
  provideDynamoDbTransport(ENDPOINT, transport() as never);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: ENDPOINT,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});

afterAll(async () => {
  process.env = saved;
  provideDynamoDbTransport(ENDPOINT, undefined);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const context = { runId: 'run-1', jobId: 'heartbeat', status: 'FAILED', outcome: 'FAILED' };

test("the notifier's outbox writes reach the store through local mode's transport", async () => {
  const client = localDynamoDbClient(ENDPOINT, { transport: transport() });
  const env = await prepareOutbox(client);
  await notificationChannels(env).sns.send(
    new PublishCommand({
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      Message: JSON.stringify({ default: JSON.stringify({ metadata: { additionalContext: context } }) }),
    }),
  );
  const entries = await readOutbox(client);
  expect(entries).toEqual([expect.objectContaining({ channel: 'topic', ...context })]);
});
