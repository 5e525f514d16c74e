/**
 * Which account the release tasks act on: the real one (SDK clients with the Lambda's credentials) or, in
 * local mode, the simulated account kept in the embedded DynamoDB. The choice is configuration (the
 * function's environment names the simulated account's table, which only local mode sets), and the simulated
 * account's code is local mode's own (local/simulated-account): it fills the seam below, so it never ships in
 * a Lambda bundle and task code never imports it.
 */
import type { Env } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { createClients } from './clients';
import type { Clients } from './model';

/** Set (by local mode only) to the table that holds the simulated account's inventory. */
export const SIMULATED_ACCOUNT_TABLE = 'STEPJOBS_SIMULATED_ACCOUNT_TABLE';

/** Clients for the simulated account named in `env`; local mode provides it. */
export type SimulatedAccountProvider = (env: Env) => Clients;

let simulatedAccount: SimulatedAccountProvider | undefined;

/** Local mode's seam: where the release tasks get the simulated account's clients from. */
export function provideSimulatedAccount(provider: SimulatedAccountProvider): void {
  simulatedAccount = provider;
}

/** The clients for the account `env` names. */
export function accountClients(env: Env): Clients {
  if (!isSimulated(env)) return createClients();
  if (!simulatedAccount) {
    throw new ConfigError(
      `${SIMULATED_ACCOUNT_TABLE} is set, but no simulated account is provided: only local mode runs against one`,
    );
  }
  return simulatedAccount(env);
}

/** Whether the account is simulated, for the run summary (a simulated run must say so plainly). */
export function isSimulated(env: Env): boolean {
  return Boolean(env[SIMULATED_ACCOUNT_TABLE]);
}
