/**
 * The simulated account that local mode gives the release job: its inventory lives in a table of the
 * embedded DynamoDB (so it persists between commands like the ledger), seeded on first use. Every function
 * gets its table name in its environment, which is how the release tasks know to use the simulated clients.
 */
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
  }
  await ensureSimulatedAccountTable(client, SIMULATED_ACCOUNT_TABLE_NAME);
  const existing = await readSimulatedAccount(client, SIMULATED_ACCOUNT_TABLE_NAME);
  if (existing.length === 0) {
    await seedSimulatedAccount(client, SIMULATED_ACCOUNT_TABLE_NAME, (setup.seed ?? simulatedInventory)(now));
  }
  return { [SIMULATED_ACCOUNT_TABLE]: SIMULATED_ACCOUNT_TABLE_NAME };
}
