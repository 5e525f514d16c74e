/**
 * The simulated account that local mode gives the release job: its inventory lives in a table of the
 * embedded DynamoDB (so it persists between commands like the ledger), seeded on first use. Every function
 * gets its table name in its environment, which is how the release tasks know to use the simulated clients.
 */
import { DeleteTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SIMULATED_ACCOUNT_TABLE } from '../tasks/release/account';
import {
  ensureSimulatedAccountTable,
  readSimulatedAccount,
  seedSimulatedAccount,
  type SimulatedResource,
} from '../tasks/release/simulated-account';
import { simulatedInventory } from '../tasks/release/simulated-inventory';

export const SIMULATED_ACCOUNT_TABLE_NAME = 'StepJobsSimulatedAccount';

export interface SimulatedAccountSetup {
  /** The inventory to seed an empty account with. @default the built-in seed (simulated-inventory.ts) */
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
  return { [SIMULATED_ACCOUNT_TABLE]: SIMULATED_ACCOUNT_TABLE_NAME };
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
