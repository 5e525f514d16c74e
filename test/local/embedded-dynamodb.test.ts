import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TableLayoutMismatch,
  createTables,
  ledgerTableInput,
  startEmbeddedDynamoDb,
  type EmbeddedDynamoDb,
} from '../../local/embedded-dynamodb';
import { TABLE_KEYS } from '../../shared/ledger/keys';

describe('embedded DynamoDB', () => {
  let db: EmbeddedDynamoDb;
  beforeAll(async () => {
    db = await startEmbeddedDynamoDb();
  });
  afterAll(async () => {
    await db.stop();
  });

  it('listens on a free port of 127.0.0.1', () => {
    expect(db.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(db.endpoint).not.toMatch(/:0$/);
  });

  it('creates the ledger table with its three indexes and waits until it is ACTIVE', async () => {
    await createTables(db.client, [ledgerTableInput('ledger-a')]);
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: 'ledger-a' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TABLE_KEYS.pk, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sk, KeyType: 'RANGE' },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema?.map((key) => key.AttributeName),
      projection: index.Projection?.ProjectionType,
      status: index.IndexStatus,
    }));
    expect(indexes).toEqual(
      expect.arrayContaining([
        { name: 'gsi1', keys: ['gsi1pk', 'gsi1sk'], projection: 'KEYS_ONLY', status: 'ACTIVE' },
        { name: 'gsi2', keys: ['gsi2pk', 'gsi1sk'], projection: 'KEYS_ONLY', status: 'ACTIVE' },
        { name: 'gsi3', keys: ['gsi3pk', 'gsi1sk'], projection: 'KEYS_ONLY', status: 'ACTIVE' },
      ]),
    );
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('refuses a table left by another version, with other indexes, in one line naming both layouts', async () => {
    const old = ledgerTableInput('ledger-old');
    await createTables(db.client, [
      { ...old, GlobalSecondaryIndexes: old.GlobalSecondaryIndexes?.slice(0, 2) },
    ]);
    const again = createTables(db.client, [old]);
    await expect(again).rejects.toBeInstanceOf(TableLayoutMismatch);
    await expect(again).rejects.toThrow(
      'The local table ledger-old was created by another version of stepjobs (indexes gsi1 gsi1pk/gsi1sk KEYS_ONLY, gsi2 gsi2pk/gsi1sk KEYS_ONLY; this version needs gsi1 gsi1pk/gsi1sk KEYS_ONLY, gsi2 gsi2pk/gsi1sk KEYS_ONLY, gsi3 gsi3pk/gsi1sk KEYS_ONLY): move its data directory aside, or delete it to start a new local ledger',
    );
  });

  it('skips tables that exist, keeping their data', async () => {
    await createTables(db.client, [ledgerTableInput('ledger-b')]);
    const key = { pk: { S: 'JOB#x' }, sk: { S: 'STATE' } };
    await db.client.send(
      new PutItemCommand({ TableName: 'ledger-b', Item: { ...key, note: { S: 'kept' } } }),
    );
    await createTables(db.client, [ledgerTableInput('ledger-b'), ledgerTableInput('ledger-c')]);
    const { Item } = await db.client.send(new GetItemCommand({ TableName: 'ledger-b', Key: key }));
    expect(Item?.note).toEqual({ S: 'kept' });
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: 'ledger-c' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
  });

  it('waits out a slow CREATING phase', async () => {
    const slow = await startEmbeddedDynamoDb({ createTableMs: 150 });
    try {
      const started = Date.now();
      await createTables(slow.client, [ledgerTableInput('slow')]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      const { Table } = await slow.client.send(new DescribeTableCommand({ TableName: 'slow' }));
      expect(Table?.TableStatus).toBe('ACTIVE');
    } finally {
      await slow.stop();
    }
  });

  it('keeps tables and items across restarts when given a path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepjobs-dynalite-'));
    const key = { pk: { S: 'RUN#r1' }, sk: { S: 'RUN' } };
    try {
      const first = await startEmbeddedDynamoDb({ path: dir });
      await createTables(first.client, [ledgerTableInput('persisted')]);
      await first.client.send(
        new PutItemCommand({ TableName: 'persisted', Item: { ...key, status: { S: 'RUNNING' } } }),
      );
      await first.stop();

      const second = await startEmbeddedDynamoDb({ path: dir });
      try {
        await createTables(second.client, [ledgerTableInput('persisted')]);
        const { Item } = await second.client.send(new GetItemCommand({ TableName: 'persisted', Key: key }));
        expect(Item?.status).toEqual({ S: 'RUNNING' });
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stop() can be called twice', async () => {
    const other = await startEmbeddedDynamoDb();
    await other.stop();
    await expect(other.stop()).resolves.toBeUndefined();
  });
});
