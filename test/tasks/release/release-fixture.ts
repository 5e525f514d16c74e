/**
 * Real dependencies for the release job's task logic (Plan, ApplyBatch, Report): a new ledger table and a new
 * simulated account table in the test file's embedded DynamoDB, the simulated account's SDK clients over it,
 * and a StepContext built by hand. Every call makes new tables, so no test sees another's data.
 */
import { randomUUID } from 'node:crypto';
import type { StepContext } from '../../../shared/handler';
import type { ActionRecord } from '../../../shared/ledger/items';
import type { Ledger } from '../../../shared/ledger/ledger';
import { SIMULATED_ACCOUNT_TABLE } from '../../../tasks/release/account';
import { ReleaseInput } from '../../../tasks/release/input';
import type { Clients } from '../../../tasks/release/model';
import {
  ensureSimulatedAccountTable,
  readSimulatedAccount,
  seedSimulatedAccount,
  simulatedClients,
  type SimulatedResource,
} from '../../../local/simulated-account';
import { simulatedInventory } from '../../../local/simulated-account';
import { runRef } from '../../helpers/builders';
import type { LedgerFixture } from '../../helpers/ledger';
import { actionsOf } from '../../../shared/ledger/actions-repository';

/** The clock of these tests: the seed is placed in time around it, and every StepContext reads it. */
export const NOW = new Date('2026-06-15T12:00:00.000Z');
export const JOB_ID = 'release-idle-resources';

export interface ReleaseWorld {
  ledger: Ledger;
  /** The simulated account's clients (pass them to plan/applyBatch as their third argument). */
  clients: Clients;
  /** The simulated account's table. */
  accountTable: string;
  /** Every resource of the simulated account as stored now. */
  inventory(): Promise<SimulatedResource[]>;
  /** One resource as stored now, or undefined when it is gone. */
  resource(id: string): Promise<SimulatedResource | undefined>;
  /** Replace (or add) resources in the account, as someone changing them between plan and apply would. */
  put(...resources: SimulatedResource[]): Promise<void>;
  /** A StepContext of run `runId` for `step` (a Map item when `itemIndex` is given). */
  ctx(runId: string, step: string, itemIndex?: number): StepContext;
  /** Every action of a run in the ledger. */
  actions(runId: string): Promise<ActionRecord[]>;
}

export interface SimulatedAccountFixture {
  /** The account's table. */
  tableName: string;
  /** The account's clients. */
  clients: Clients;
  /** Every resource of the account as stored now. */
  stored(): Promise<SimulatedResource[]>;
  /** One resource as stored now, or undefined when it is gone. */
  find(id: string): Promise<SimulatedResource | undefined>;
}

/**
 * A new simulated account table seeded with `resources` (@default the built-in seed at NOW), and clients for
 * it whose clock is `now`. Shared by the account's own tests and {@link releaseWorld}.
 */
export async function newSimulatedAccount(
  db: LedgerFixture,
  resources: readonly SimulatedResource[] = simulatedInventory(NOW),
  now: () => Date = () => NOW,
): Promise<SimulatedAccountFixture> {
  const tableName = `simulated-${randomUUID().slice(0, 8)}`;
  await ensureSimulatedAccountTable(db.client(), tableName);
  await seedSimulatedAccount(db.client(), tableName, resources);
  const clients = simulatedClients(db.client(), tableName, 'us-east-1', '000000000000', { now });
  const stored = () => readSimulatedAccount(db.client(), tableName);
  const find = async (id: string) => (await stored()).find((r) => r.id === id);
  return { tableName, clients, stored, find };
}

/** A new ledger and a new simulated account seeded with `resources` (@default the built-in seed at NOW). */
export async function releaseWorld(
  db: LedgerFixture,
  resources: readonly SimulatedResource[] = simulatedInventory(NOW),
  now: () => Date = () => NOW,
): Promise<ReleaseWorld> {
  const ledger = await db.fresh();
  const account = await newSimulatedAccount(db, resources, now);
  return {
    ledger,
    clients: account.clients,
    accountTable: account.tableName,
    inventory: account.stored,
    resource: account.find,
    put: (...changed) => seedSimulatedAccount(db.client(), account.tableName, changed),
    ctx: (runId, step, itemIndex) => ({
      ledger,
      env: { LEDGER_TABLE_NAME: ledger.tableName, [SIMULATED_ACCOUNT_TABLE]: account.tableName },
      now,
      run: runRef({ runId, jobId: JOB_ID, startedAt: NOW.toISOString() }),
      step: itemIndex === undefined ? { name: step } : { name: step, itemIndex },
      attempt: 1,
      remainingMs: () => 600_000,
    }),
    actions: async (runId) => {
      const all: ActionRecord[] = [];
      for await (const action of actionsOf(ledger).allByRun(runId)) all.push(action);
      return all;
    },
  };
}

/** The job input through its real schema (defaults applied). */
export function releaseInput(input: Record<string, unknown> = {}): ReleaseInput {
  return ReleaseInput.parse(input);
}

/** A new run id per call. */
export function newRunId(): string {
  return `run-${randomUUID().slice(0, 8)}`;
}
