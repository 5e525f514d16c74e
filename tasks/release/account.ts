/**
 * Which account the release tasks act on: the real one (SDK clients with the Lambda's credentials) or, in
 * local mode, the simulated account kept in the embedded DynamoDB. The choice is configuration, read from the
 * function's environment record, never from a code path that tests or local mode patch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Env } from '../../shared/config';
import { createClients } from './clients';
import type { Clients } from './model';
import { simulatedClients } from './simulated-account';

/** Set (by local mode only) to the table that holds the simulated account's inventory. */
export const SIMULATED_ACCOUNT_TABLE = 'STEPJOBS_SIMULATED_ACCOUNT_TABLE';

const cache = new Map<string, Clients>();

/**
 * The clients for the account `env` names, created once per process. The simulated account's key includes the
 * DynamoDB endpoint, as `ledgerFor` does: the SDK reads `AWS_ENDPOINT_URL_DYNAMODB` when a client is created,
 * and a second embedded DynamoDB in the same process (each CLI command, tests) must not get a client that
 * still points at the first one.
 */
export function accountClients(env: Env): Clients {
  const simulatedTable = env[SIMULATED_ACCOUNT_TABLE];
  const key = simulatedTable
    ? `simulated:${simulatedTable}@${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}`
    : 'aws';
  let clients = cache.get(key);
  if (!clients) {
    clients = simulatedTable ? simulatedClients(new DynamoDBClient({}), simulatedTable) : createClients();
    cache.set(key, clients);
  }
  return clients;
}

/** Whether the account is simulated, for the run summary (a simulated run must say so plainly). */
export function isSimulated(env: Env): boolean {
  return Boolean(env[SIMULATED_ACCOUNT_TABLE]);
}
