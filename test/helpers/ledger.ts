/**
 * One embedded DynamoDB per test file, and a new empty ledger table per test: tests share the server, never
 * data. Call {@link useEmbeddedLedger} at the top level of a test file; it registers beforeAll/afterAll.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import {
  createTables,
  ledgerTableInput,
  startEmbeddedDynamoDb,
  type EmbeddedDynamoDb,
} from '../../local/embedded-dynamodb';
import { Ledger } from '../../shared/ledger/ledger';

export interface LedgerFixture {
  /** A ledger over a new, empty table. */
  fresh(): Promise<Ledger>;
  /** A new, empty ledger table; returns its name (for handlers that build their own ledger from env). */
  freshTable(): Promise<string>;
  /** `http://127.0.0.1:<port>` of this file's embedded DynamoDB. */
  endpoint(): string;
  client(): DynamoDBClient;
}

export function useEmbeddedLedger(): LedgerFixture {
  let db: EmbeddedDynamoDb | undefined;
  beforeAll(async () => {
    db = await startEmbeddedDynamoDb();
  });
  afterAll(async () => {
    await db?.stop();
  });
  const started = (): EmbeddedDynamoDb => {
    if (!db)
      throw new Error('The embedded DynamoDB is not started: call useEmbeddedLedger() at the top level');
    return db;
  };
  const freshTable = async (): Promise<string> => {
    const name = `ledger-${randomUUID().slice(0, 8)}`;
    await createTables(started().client, [ledgerTableInput(name)]);
    return name;
  };
  return {
    freshTable,
    fresh: async () => Ledger.fromClient(started().client, await freshTable()),
    endpoint: () => started().endpoint,
    client: () => started().client,
  };
}
