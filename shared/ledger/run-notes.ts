/**
 * Notes written on a run after it ended, by functions that only annotate it: what the run notifier sent
 * (and the step output its figures come from), and who started a console run (from CloudTrail). Plain
 * functions over the ledger's table rather than RunsRepository methods, so the lifecycle functions' bundles,
 * which never write these, do not carry them.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RunStatus, TriggerType } from '../constants';
import { isConditionFailed, stripKeys, type TableRef } from './dynamo';
import type { NotificationRecord, StepRecord } from './items';
import { keys } from './keys';

/** One step of a run (the top-level step when `itemIndex` is absent), or `undefined` when it never started. */
export async function findStep(
  table: TableRef,
  runId: string,
  name: string,
  itemIndex?: number,
): Promise<StepRecord | undefined> {
  const res = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: keys.step(runId, name, itemIndex) }),
  );
  return res.Item ? stripKeys<StepRecord>(res.Item) : undefined;
}

/**
 * Record what the run notifier sent about a final run. The condition keeps it off a run that is RUNNING
 * again (redriven) or gone; such a run's next final status gets its own notification.
 */
export async function recordNotification(
  table: TableRef,
  runId: string,
  notification: NotificationRecord,
): Promise<boolean> {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.run(runId),
        UpdateExpression: 'SET notification = :n',
        ConditionExpression: 'attribute_exists(pk) AND #status <> :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':n': notification, ':running': RunStatus.RUNNING },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/**
 * Name who started a manual run (from CloudTrail): only a run with no principal yet, started with no trigger
 * of its own (a console or API call). Returns `recorded`, `known` (it has a principal, or another trigger)
 * or `missing` (no record yet: StartRun has not written it).
 */
export async function recordCaller(
  table: TableRef,
  runId: string,
  principal: string,
): Promise<'recorded' | 'known' | 'missing'> {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.run(runId),
        UpdateExpression: 'SET #trigger.principal = :p, #trigger.principalSource = :source',
        ConditionExpression:
          'attribute_exists(pk) AND #trigger.#type = :manual AND attribute_not_exists(#trigger.principal)',
        ExpressionAttributeNames: { '#trigger': 'trigger', '#type': 'type' },
        ExpressionAttributeValues: {
          ':p': principal,
          ':source': 'cloudtrail',
          ':manual': TriggerType.MANUAL,
        },
      }),
    );
    return 'recorded';
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    const res = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.run(runId), ProjectionExpression: 'pk' }),
    );
    return res.Item ? 'known' : 'missing';
  }
}
