/**
 * Every key of the ledger table is built here and nowhere else.
 *
 * Table `pk`/`sk`, plus three KEYS_ONLY GSIs (readers fetch the items they list with one BatchGetItem per page):
 *   GSI1 "by-parent" (`gsi1pk`/`gsi1sk`): a job's runs by start time (set when the run is created); a
 *        resource's applied actions by time.
 *   GSI2 "by-facet"  (`gsi2pk`/`gsi1sk`): a job's final runs by status and trigger, `JOB#<job>#<status>#<trigger>`
 *        (set when the run becomes final).
 *   GSI3 "by-status" (`gsi3pk`/`gsi1sk`): every job's final runs by status, `STATUS#<status>`, for audit.
 * GSI2 and GSI3 sort on GSI1's sort key attribute: one attribute, three orders. KEYS_ONLY, because a run item
 * is rewritten at every lifecycle step and an ALL projection pays for every rewrite again in each index; see
 * docs/architecture.md ("Indexes and what they cost").
 */

export const TABLE_KEYS = {
  pk: 'pk',
  sk: 'sk',
  gsi1: { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  gsi2: { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi1sk' },
  gsi3: { name: 'gsi3', pk: 'gsi3pk', sk: 'gsi1sk' },
  ttl: 'expiresAt',
} as const;

/** The table's three indexes, in the order the stack declares them. */
export const INDEXES = [TABLE_KEYS.gsi1, TABLE_KEYS.gsi2, TABLE_KEYS.gsi3] as const;
export type IndexKeys = (typeof INDEXES)[number];

const JOB = 'JOB#';
const RUN = 'RUN#';
const RES = 'RES#';
const STATUS = 'STATUS#';

export const keys = {
  jobState: (jobId: string) => ({ pk: `${JOB}${jobId}`, sk: 'STATE' }),
  slot: (jobId: string, scheduledTime: string) => ({ pk: `${JOB}${jobId}`, sk: `SLOT#${scheduledTime}` }),
  /** An operator's action on a job (unlock), newest last. */
  jobOperation: (jobId: string, at: string, id: string) => ({ pk: `${JOB}${jobId}`, sk: `OP#${at}#${id}` }),
  jobOperationPrefix: 'OP#',
  jobPartition: (jobId: string) => `${JOB}${jobId}`,
  run: (runId: string) => ({ pk: `${RUN}${runId}`, sk: 'RUN' }),
  runPartition: (runId: string) => `${RUN}${runId}`,
  /** The whole input texts of a run whose inputs are too long for its run item. */
  runInputs: (runId: string) => ({ pk: `${RUN}${runId}`, sk: 'INPUT' }),
  step: (runId: string, name: string, itemIndex?: number) => ({
    pk: `${RUN}${runId}`,
    sk: itemIndex === undefined ? `STEP#${name}` : `STEP#${name}#${String(itemIndex).padStart(6, '0')}`,
  }),
  stepPrefix: 'STEP#',
  action: (runId: string, resourceType: string, resourceId: string) => ({
    pk: `${RUN}${runId}`,
    sk: `ACTION#${resourceType}#${resourceId}`,
  }),
  actionPrefix: 'ACTION#',
  /** One batch of a run's plan (a list of planned actions), read by one apply Map item. */
  planBatch: (runId: string, batch: number) => ({
    pk: `${RUN}${runId}`,
    sk: `PLAN#${String(batch).padStart(6, '0')}`,
  }),
  planBatchPrefix: 'PLAN#',
  /** GSI1 sort key of a run: start time, then run id (unique, so it also serves as a page cursor). */
  runOrder: (startedAt: string, runId: string) => `${startedAt}#${runId}`,
  /** GSI1: a job's runs, newest first by querying descending. */
  jobRuns: (jobId: string, startedAt: string, runId: string) => ({
    gsi1pk: `${JOB}${jobId}`,
    gsi1sk: keys.runOrder(startedAt, runId),
  }),
  jobRunsPartition: (jobId: string) => `${JOB}${jobId}`,
  /** GSI2: a job's final runs of one status and trigger. */
  runFacetPartition: (jobId: string, status: string, trigger: string) =>
    `${JOB}${jobId}#${status}#${trigger}`,
  /** GSI3: final runs of every job with one status. */
  runStatusPartition: (status: string) => `${STATUS}${status}`,
  /** The GSI2 and GSI3 keys a run gets when it becomes final. */
  finalRun: (jobId: string, status: string, trigger: string) => ({
    gsi2pk: keys.runFacetPartition(jobId, status, trigger),
    gsi3pk: keys.runStatusPartition(status),
  }),
  /** GSI1: every action carried out on a resource (dry runs plan, and are listed per run only). */
  resourceActions: (resourceId: string, at: string, runId: string) => ({
    gsi1pk: `${RES}${resourceId}`,
    gsi1sk: `${at}#${runId}`,
  }),
  resourceActionsPartition: (resourceId: string) => `${RES}${resourceId}`,
};

/**
 * The run id is the execution name, the last segment of the execution ARN
 * (`arn:aws:states:<region>:<account>:execution:<stateMachine>:<name>`), so "run by ARN" needs no index.
 */
export function runIdFromExecutionArn(executionArn: string): string {
  const parts = executionArn.split(':');
  const name = parts[7];
  if (parts[5] !== 'execution' || !name) {
    throw new Error(`Not a Step Functions execution ARN: ${executionArn}`);
  }
  return name;
}
