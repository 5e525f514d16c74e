/**
 * The embedded DynamoDB: dynalite in-process on 127.0.0.1, on a free port, in memory or persisted under a
 * directory. Local mode and the tests use it; handlers reach it through `AWS_ENDPOINT_URL_DYNAMODB`.
 *
 * dynalite has no TTL API and no transactions, so nothing here (or in the ledger) uses them.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { SdkRequestHandler } from './dynamodb-transport';
import type { AddressInfo } from 'node:net';
import { INDEXES, TABLE_KEYS, type IndexKeys } from '../shared/ledger/keys';

export const LOCAL_REGION = 'us-east-1';
/** Dummy credentials: dynalite checks that requests are signed, not by whom. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface EmbeddedDynamoDbOptions {
  /** Directory for the LevelDB store, so data survives restarts. @default in memory */
  path?: string;
  /**
   * How long dynalite keeps a new table CREATING, in ms. The real service takes seconds; locally there is
   * nothing to wait for. @default 0
   */
  createTableMs?: number;
}

export interface EmbeddedDynamoDb {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  /** A client for this endpoint with dummy credentials. */
  client: DynamoDBClient;
  /**
   * The transport every DynamoDB client of this process should use for `endpoint`, when it is not plain HTTP
   * (a data directory's store, held here or by another process: local/shared-dynamodb.ts).
   */
  requestHandler?: SdkRequestHandler;
  /** Resolves when every write so far is durable (a no-op where the store is in memory or elsewhere). */
  flush?(): Promise<void>;
  /** Close the client and the server (and flush the store when persisted). */
  stop(): Promise<void>;
}

/**
 * A DynamoDB client for the embedded endpoint with dummy credentials and the local region; with `transport`,
 * its requests go through that instead of plain HTTP (local/dynamodb-transport.ts).
 */
export function localDynamoDbClient(
  endpoint: string,
  options: { transport?: SdkRequestHandler; maxAttempts?: number } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    // The SDK's handler type is Smithy's; the transport has the part of it the client calls.
    ...(options.transport ? { requestHandler: options.transport as never } : {}),
  });
}

/** Start dynalite on 127.0.0.1 on a free port. */
export async function startEmbeddedDynamoDb(
  options: EmbeddedDynamoDbOptions = {},
): Promise<EmbeddedDynamoDb> {
  const server = dynalite({
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoDbClient(endpoint);
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    client,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      return stopped;
    },
  };
}

/** An embedded DynamoDB served by someone else (another process, a test): `stop()` closes only the client. */
export function connectEmbeddedDynamoDb(endpoint: string): EmbeddedDynamoDb {
  const client = localDynamoDbClient(endpoint);
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
    },
  };
}

const ACTIVE_POLL_MS = 10;
const ACTIVE_TIMEOUT_MS = 30_000;

/**
 * Create each table unless it exists (a persisted store keeps its tables), then wait until all are ACTIVE:
 * dynalite, like DynamoDB, answers CreateTable with CREATING.
 */
export async function createTables(
  client: DynamoDBClient,
  inputs: readonly CreateTableCommandInput[],
): Promise<void> {
  for (const input of inputs) {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if (!(error instanceof ResourceInUseException || (error as Error).name === 'ResourceInUseException')) {
        throw new Error(`Could not create table ${input.TableName}`, { cause: error });
      }
    }
  }
  for (const input of inputs) {
    const table = await waitUntilActive(client, String(input.TableName));
    const difference = layoutDifference(input, table);
    if (difference) throw new TableLayoutMismatch(String(input.TableName), difference);
  }
}

/**
 * A data directory written by a version of stepjobs with other keys or indexes: its table cannot serve this
 * version's queries, and silently recreating it would lose its history.
 */
export class TableLayoutMismatch extends Error {
  constructor(tableName: string, difference: string) {
    super(
      `The local table ${tableName} was created by another version of stepjobs (${difference}): move its data directory aside, or delete it to start a new local ledger`,
    );
    this.name = 'TableLayoutMismatch';
  }
}

type IndexLayout = { name: string; keys: string; projection: string };

function indexLayouts(
  indexes:
    | ReadonlyArray<{
        IndexName?: string;
        KeySchema?: ReadonlyArray<{ AttributeName?: string }>;
        Projection?: { ProjectionType?: string };
      }>
    | undefined,
): IndexLayout[] {
  return (indexes ?? [])
    .map((index) => ({
      name: String(index.IndexName),
      keys: (index.KeySchema ?? []).map((k) => k.AttributeName).join('/'),
      projection: String(index.Projection?.ProjectionType ?? 'ALL'),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** How an existing table's keys and indexes differ from what `input` would create; undefined when they match. */
export function layoutDifference(
  input: CreateTableCommandInput,
  table: TableDescription | undefined,
): string | undefined {
  const describe = (layouts: IndexLayout[]) =>
    layouts.map((l) => `${l.name} ${l.keys} ${l.projection}`).join(', ') || 'none';
  const wantKeys = (input.KeySchema ?? []).map((k) => k.AttributeName).join('/');
  const haveKeys = (table?.KeySchema ?? []).map((k) => k.AttributeName).join('/');
  if (wantKeys !== haveKeys) return `keys ${haveKeys}, expected ${wantKeys}`;
  const want = describe(indexLayouts(input.GlobalSecondaryIndexes));
  const have = describe(indexLayouts(table?.GlobalSecondaryIndexes));
  return want === have ? undefined : `indexes ${have}; this version needs ${want}`;
}

async function waitUntilActive(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return Table;
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} is still ${Table?.TableStatus} after ${ACTIVE_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
  }
}

/**
 * The ledger table as a CreateTable input, from the key names in shared/ledger/keys.ts. Tests use it; the local
 * runtime creates its tables from the synthesized template instead; both take their key names from TABLE_KEYS.
 */
export function ledgerTableInput(tableName: string): CreateTableCommandInput {
  const { pk, sk } = TABLE_KEYS;
  const attribute = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  const gsi = (index: IndexKeys) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.pk, KeyType: 'HASH' as const },
      { AttributeName: index.sk, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
  });
  const names = new Set<string>([pk, sk, ...INDEXES.flatMap((index) => [index.pk, index.sk])]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...names].map(attribute),
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' },
      { AttributeName: sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: INDEXES.map(gsi),
  };
}
