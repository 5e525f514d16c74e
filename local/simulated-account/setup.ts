/**
 * The simulated account that local mode gives the release job: its inventory lives in a table of the
 * embedded DynamoDB (so it persists between commands like the ledger), seeded on first use. Every function
 * gets its table name in its environment, which is how the release tasks know to use the simulated clients,
 * and this module provides them (tasks/release/account.ts).
 */
import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbClientSetup } from '../../shared/aws-clients';
import type { Env } from '../../shared/config';
import { provideSimulatedAccount, SIMULATED_ACCOUNT_TABLE } from '../../tasks/release/account';
import type { Clients } from '../../tasks/release/model';
import { simulatedClients } from './clients';
import { ensureSimulatedAccountTable, readSimulatedAccount, seedSimulatedAccount } from './table';
import type { SimulatedResource } from './resources';
import { simulatedInventory } from './seed';

export const SIMULATED_ACCOUNT_TABLE_NAME = 'StepJobsSimulatedAccount';

export interface SimulatedAccountSetup {
  /** The inventory to seed an empty account with. @default the built-in seed (seed.ts) */
  seed?: (now: Date) => SimulatedResource[];
  /** Drop whatever the account holds and seed it again. @default false */
  reset?: boolean;
}

/** Create (and, when empty, seed) the simulated account; returns the environment that points tasks at it. */
export async function prepareSimulatedAccount(
  client: DynamoDBClient,
  setup: SimulatedAccountSetup = {},
  now = new Date(),
): Promise<Record<string, string>> {
  if (setup.reset) {
    try {
      await client.send(new DeleteTableCommand({ TableName: SIMULATED_ACCOUNT_TABLE_NAME }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    await waitUntilDeleted(client, SIMULATED_ACCOUNT_TABLE_NAME);
  }
  await ensureSimulatedAccountTable(client, SIMULATED_ACCOUNT_TABLE_NAME);
  const existing = await readSimulatedAccount(client, SIMULATED_ACCOUNT_TABLE_NAME);
  if (existing.length === 0) {
    await seedSimulatedAccount(client, SIMULATED_ACCOUNT_TABLE_NAME, (setup.seed ?? simulatedInventory)(now));
  }
  provideSimulatedAccount(simulatedAccountClients);
  return { [SIMULATED_ACCOUNT_TABLE]: SIMULATED_ACCOUNT_TABLE_NAME };
}

const cache = new Map<string, Clients>();

/**
 * The simulated account's clients for the table `env` names, once per process and endpoint (and local
 * transport): a second embedded DynamoDB in the same process (each CLI command, tests) must not get a client
 * that still points at the first one.
 */
export function simulatedAccountClients(env: Env): Clients {
  const table = env[SIMULATED_ACCOUNT_TABLE] ?? SIMULATED_ACCOUNT_TABLE_NAME;
  const setup = dynamoDbClientSetup();
  const key = `${table}@${setup.key}`;
  let clients = cache.get(key);
  if (!clients) {
    clients = simulatedClients(new DynamoDBClient(setup.config), table);
    cache.set(key, clients);
  }
  return clients;
}

const DELETE_POLL_MS = 10;
const DELETE_TIMEOUT_MS = 30_000;

/**
 * DeleteTable only starts the deletion (the table is DELETING for a while, in dynalite too), and creating the
 * table again before it is gone fails: wait until DescribeTable no longer finds it.
 */
async function waitUntilDeleted(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + DELETE_TIMEOUT_MS;
  for (;;) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Date.now() > deadline) {
        throw new Error(`Table ${tableName} is still ${Table?.TableStatus} after ${DELETE_TIMEOUT_MS} ms`);
      }
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, DELETE_POLL_MS));
  }
}
