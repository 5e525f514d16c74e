/**
 * The simulated account: what local mode releases, instead of a real one. The clients are real `EC2Client`,
 * `CloudWatchLogsClient` and `STSClient` instances (the SDK paginators check `instanceof`), so the adapters
 * run unchanged, but a middleware at the `initialize` step answers every command in-process, before anything
 * is serialized, signed or sent: no request leaves the process.
 *
 * The inventory lives in a DynamoDB table (the embedded one in local mode), one item per resource, keyed by
 * type (partition) and resource id (sort key), tags as a map. Every write is conditional or touches single map
 * entries, so concurrent apply batches never lose each other's writes. Lists paginate for real (small pages by
 * default, so local runs exercise pagination); missing resources fail with AWS's error names; releases change
 * state as AWS would. A command the adapters do not use fails with {@link UnsupportedBySimulatedAccount}.
 *
 * `vanishOnApply`: a resource seeded with it is deleted just before the first mutating call that targets it
 * (CreateTags, CreateSnapshot, DeleteVolume, PutRetentionPolicy...), which then answers NotFound, as if someone
 * deleted it between the plan and the apply. Describe calls leave it alone, so discovery and dry runs see it.
 */
export { simulatedClients } from './clients';
export { SimulatedServiceError, UnsupportedBySimulatedAccount } from './errors';
export type { SimulatedResource, SimulatedType } from './resources';
export type { SimulatedAccountOptions } from './service';
export { ensureSimulatedAccountTable, readSimulatedAccount, seedSimulatedAccount } from './table';
export { expectedCounts, inventorySeed, scaleInventory, simulatedInventory, type SeedCase } from './seed';
export { prepareSimulatedAccount, SIMULATED_ACCOUNT_TABLE_NAME, type SimulatedAccountSetup } from './setup';
