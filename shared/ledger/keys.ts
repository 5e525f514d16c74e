/**
 * Every key of the ledger table is built here and nowhere else.
 *
 * Table `pk`/`sk`, plus two overloaded GSIs:
 *   GSI1 "by-parent" (`gsi1pk`/`gsi1sk`): a job's runs by start time; a resource's actions by time.
 *   GSI2 "by-day"    (`gsi2pk`/`gsi2sk`): every run of every job, bucketed by UTC start day, for audit.
 * See docs/architecture.md for the access patterns each serves.
 */

export const TABLE_KEYS = {
  pk: 'pk',
  sk: 'sk',
  gsi1: { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  gsi2: { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  ttl: 'expiresAt',
} as const;

const JOB = 'JOB#';
const RUN = 'RUN#';
const RES = 'RES#';
const DAY = 'DAY#';

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
  /** GSI1: a job's runs, newest first by querying descending. */
  jobRuns: (jobId: string, startedAt: string, runId: string) => ({
    gsi1pk: `${JOB}${jobId}`,
    gsi1sk: `${startedAt}#${runId}`,
  }),
  jobRunsPartition: (jobId: string) => `${JOB}${jobId}`,
  /** GSI1: every action ever taken on a resource. */
  resourceActions: (resourceId: string, at: string, runId: string) => ({
    gsi1pk: `${RES}${resourceId}`,
    gsi1sk: `${at}#${runId}`,
  }),
  resourceActionsPartition: (resourceId: string) => `${RES}${resourceId}`,
  /** GSI2: all runs started on a UTC day. */
  runsByDay: (startedAt: string, runId: string) => ({
    gsi2pk: `${DAY}${startedAt.slice(0, 10)}`,
    gsi2sk: `${startedAt}#${runId}`,
  }),
  dayPartition: (day: string) => `${DAY}${day}`,
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
