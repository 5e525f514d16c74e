/**
 * Reopening a run whose execution Step Functions redrove. Only the functions a redrive restarts (FailRun, the
 * job steps, StartRun) use it; it is a module of its own so that no other bundle carries it.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { OverlapPolicy, RunStatus } from '../constants';
import { LockHeld, RedriveBlocked } from '../errors';
import { isConditionFailed, type TableRef } from './dynamo';
import type { RunRecord } from './items';
import { counterAttribute } from './jobs-repository';
import { keys, TABLE_KEYS } from './keys';
import type { Ledger } from './ledger';

export interface RedriveSettings {
  /** `$$.Execution.RedriveCount`. */
  count: number;
  overlap: OverlapPolicy;
  leaseSeconds: number;
}

/**
 * Reopen a run for redrive `redrive.count`: take the job lock again as its overlap policy says, make the run
 * RUNNING again, and take back its final count. FailRun, a redriven step and StartRun call it; the first one
 * of a redrive reopens the run, the others find it open. Throws {@link RedriveBlocked}, leaving the run as it
 * was, when another run holds the lock. Returns whether this call reopened it.
 */
export async function reopenRun(
  ledger: Ledger,
  run: Pick<RunRecord, 'runId' | 'jobId'>,
  redrive: RedriveSettings,
  now: Date,
): Promise<boolean> {
  const nowIso = now.toISOString();
  const current = await ledger.runs.find(run.runId);
  if (!current || current.status === RunStatus.RUNNING || (current.redriveCount ?? 0) >= redrive.count)
    return false;
  if (redrive.overlap !== OverlapPolicy.ALLOW) {
    const lease = new Date(now.getTime() + redrive.leaseSeconds * 1000).toISOString();
    try {
      await ledger.jobs.acquireLock(run.jobId, run.runId, nowIso, lease);
    } catch (error) {
      if (error instanceof LockHeld) throw new RedriveBlocked(run.runId, error.holderRunId);
      throw error;
    }
  }
  if (!(await reopenRecord(ledger.table, current, redrive.count, nowIso))) return false;
  await uncount(ledger.table, run.jobId, current.status, nowIso);
  return true;
}

/**
 * The run RUNNING again, out of the final-status indexes, with how the attempt before ended appended to
 * `redrives`. Conditional on the status as read and a lower redrive count, so two reopeners cannot both win.
 */
async function reopenRecord(
  table: TableRef,
  run: RunRecord,
  redriveCount: number,
  nowIso: string,
): Promise<boolean> {
  const previous = {
    at: nowIso,
    status: run.status,
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.run(run.runId),
        UpdateExpression:
          'SET #status = :running, redriveCount = :n, redrivenAt = :now, redrives = list_append(if_not_exists(redrives, :none), :previous) ' +
          `REMOVE endedAt, durationMs, #error, finalizedBy, #output, outputTruncated, notification, ${TABLE_KEYS.gsi2.pk}, ${TABLE_KEYS.gsi3.pk}`,
        ConditionExpression: '#status = :was AND (attribute_not_exists(redriveCount) OR redriveCount < :n)',
        ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#output': 'output' },
        ExpressionAttributeValues: {
          ':running': RunStatus.RUNNING,
          ':was': run.status,
          ':n': redriveCount,
          ':now': nowIso,
          ':none': [],
          ':previous': [previous],
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/** Take back the job's count of the status the run is reopened from: it is counted again when it ends. */
async function uncount(table: TableRef, jobId: string, status: RunStatus, nowIso: string): Promise<void> {
  await table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: keys.jobState(jobId),
      UpdateExpression: 'SET updatedAt = :now ADD #counter :minusOne',
      ExpressionAttributeNames: { '#counter': counterAttribute(status) },
      ExpressionAttributeValues: { ':now': nowIso, ':minusOne': -1 },
    }),
  );
}
