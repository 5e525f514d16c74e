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
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { TABLE_KEYS } from '../shared/ledger/keys';

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
  /** Close the client and the server (and flush the store when persisted). */
  stop(): Promise<void>;
}

/** A DynamoDB client for the embedded endpoint with dummy credentials and the local region. */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
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
  for (const input of inputs) await waitUntilActive(client, String(input.TableName));
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
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
  const { pk, sk, gsi1, gsi2 } = TABLE_KEYS;
  const attribute = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  const gsi = (index: typeof gsi1 | typeof gsi2) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.pk, KeyType: 'HASH' as const },
      { AttributeName: index.sk, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [pk, sk, gsi1.pk, gsi1.sk, gsi2.pk, gsi2.sk].map(attribute),
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' },
      { AttributeName: sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi(gsi1), gsi(gsi2)],
  };
}
