import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { DynamoDbStore } from '../../local/dynamodb-store';
import { routedRequestHandler } from '../../local/dynamodb-transport';
import { createTables, ledgerTableInput, localDynamoDbClient } from '../../local/embedded-dynamodb';

jest.setTimeout(60_000);

/** A real SDK client whose transport answers from `store`. */
function clientOf(store: DynamoDbStore): DynamoDBClient {
  return localDynamoDbClient('http://127.0.0.1:9', {
    maxAttempts: 1,
    transport: routedRequestHandler(
      () => ({ store }),
      async () => undefined,
    ),
  });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stepjobs-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const item = (id: string, extra: Record<string, { S: string }> = {}) => ({
  pk: { S: id },
  sk: { S: 'RUN' },
  ...extra,
});

test('what was written is there when the directory is opened again', async () => {
  const dataDir = path.join(dir, 'data');
  const store = await DynamoDbStore.open(dataDir);
  const client = clientOf(store);
  await createTables(client, [ledgerTableInput('ledger')]);
  await client.send(
    new PutItemCommand({ TableName: 'ledger', Item: item('RUN#a', { note: { S: 'kept' } }) }),
  );
  await store.close();

  const again = await DynamoDbStore.open(dataDir);
  const read = clientOf(again);
  // The table (and its indexes) came back too: createTables finds it, with the same layout.
  await createTables(read, [ledgerTableInput('ledger')]);
  const { Item } = await read.send(
    new GetItemCommand({ TableName: 'ledger', Key: { pk: { S: 'RUN#a' }, sk: { S: 'RUN' } } }),
  );
  expect(Item?.note).toEqual({ S: 'kept' });
  await again.close();
});

test('each request’s writes reach the disk in one batch: an item and its index entries, all or none', async () => {
  const dataDir = path.join(dir, 'data');
  const store = await DynamoDbStore.open(dataDir);
  const client = clientOf(store);
  await createTables(client, [ledgerTableInput('ledger')]);
  await store.flush();
  const spy = jest.spyOn(ClassicLevel.prototype, 'batch');
  // A run item indexed by GSI1 (dynalite writes the index entry first, then the item), then a change of an
  // indexed attribute (the old entry deleted, a new one put, then the item).
  await client.send(
    new PutItemCommand({
      TableName: 'ledger',
      Item: { ...item('RUN#a'), gsi1pk: { S: 'JOB#x' }, gsi1sk: { S: '2026-01-01T00:00:00.000Z#a' } },
    }),
  );
  await store.flush();
  await client.send(
    new PutItemCommand({
      TableName: 'ledger',
      Item: { ...item('RUN#a'), gsi1pk: { S: 'JOB#x' }, gsi1sk: { S: '2026-01-01T00:00:00.001Z#a' } },
    }),
  );
  await store.flush();
  const written = (spy.mock.calls as unknown as Array<[Array<{ type: string; key: Uint8Array }>]>).map(
    ([ops]) => ops.map((op) => `${op.type} ${Buffer.from(op.key).toString().split('~')[0]}`),
  );
  expect(written).toEqual([
    ['put index-global', 'put item-ledger'],
    ['del index-global', 'put index-global', 'put item-ledger'],
  ]);
  spy.mockRestore();
  await store.close();
});

test("answers with DynamoDB's errors, as dynalite's server does", async () => {
  const store = await DynamoDbStore.open(path.join(dir, 'data'));
  const client = clientOf(store);
  await createTables(client, [ledgerTableInput('ledger')]);
  await client.send(new PutItemCommand({ TableName: 'ledger', Item: item('RUN#a') }));
  await expect(
    client.send(
      new PutItemCommand({
        TableName: 'ledger',
        Item: item('RUN#a'),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  await expect(client.send(new ScanCommand({ TableName: 'missing' }))).rejects.toMatchObject({
    name: 'ResourceNotFoundException',
  });
  await expect(
    client.send(new PutItemCommand({ TableName: 'ledger', Item: { pk: { S: 'RUN#b' } } })),
  ).rejects.toMatchObject({ name: 'ValidationException' });
  expect(await store.handle('DynamoDB_20120810.DropEverything', '{}')).toMatchObject({
    statusCode: 400,
    body: expect.stringContaining('UnknownOperationException'),
  });
  expect(await store.handle('DynamoDB_20120810.GetItem', '{not json')).toMatchObject({
    statusCode: 400,
    body: expect.stringContaining('SerializationException'),
  });
  await store.close();
});

test('a process killed while writing leaves a prefix of its writes, in order, and nothing else', async () => {
  const dataDir = path.join(dir, 'data');
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('tsx/cjs'),
      path.join(__dirname, '..', 'fixtures', 'local', 'store-writer.ts'),
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // Killed once items 0 to 19 are known to be on disk, among writes that are not yet.
  const durable = 20;
  let printed = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
      if (printed.includes(`flushed ${durable}\n`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it flushed`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const store = await DynamoDbStore.open(dataDir);
  const { Items = [] } = await clientOf(store).send(new ScanCommand({ TableName: 'prefix' }));
  const ids = Items.map((i) => Number(i.id?.N)).sort((a, b) => a - b);
  expect(ids.length).toBeGreaterThanOrEqual(durable);
  expect(ids).toEqual(ids.map((_, i) => i));
  await store.close();
});
