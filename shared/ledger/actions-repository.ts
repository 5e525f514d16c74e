import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor, stripKeys, type TableRef } from './dynamo';
import { batchGetInOrder, mergedKeyPage } from './index-pages';
import type { ActionRecord, Page, PlanBatch, PlanEntry } from './items';
import { keys, TABLE_KEYS } from './keys';

const BATCH_SIZE = 25;
const MAX_UNPROCESSED_ROUNDS = 8;

const repositories = new WeakMap<TableRef, ActionsRepository>();

/** The actions repository of a ledger (one per ledger table). */
export function actionsOf(ledger: { readonly table: TableRef }): ActionsRepository {
  let repository = repositories.get(ledger.table);
  if (!repository) {
    repository = new ActionsRepository(ledger.table);
    repositories.set(ledger.table, repository);
  }
  return repository;
}

/** The actions jobs planned or took, per run and per resource. */
export class ActionsRepository {
  constructor(private readonly table: TableRef) {}

  /**
   * Write the outcomes of actions carried out (idempotent: one item per run, type and resource, so a retried
   * batch overwrites itself rather than adding a second record), each indexed by resource (GSI1).
   */
  async record(actions: readonly ActionRecord[]): Promise<void> {
    for (let i = 0; i < actions.length; i += BATCH_SIZE) {
      let requests = actions.slice(i, i + BATCH_SIZE).map((action) => ({
        PutRequest: {
          Item: {
            ...keys.action(action.runId, action.resourceType, action.resourceId),
            ...keys.resourceActions(action.resourceId, action.at, action.runId),
            type: 'action',
            ...action,
          },
        },
      }));
      for (let round = 0; requests.length > 0; round += 1) {
        if (round >= MAX_UNPROCESSED_ROUNDS) {
          throw new Error(`DynamoDB left ${requests.length} action writes unprocessed after ${round} rounds`);
        }
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const res = await this.table.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table.tableName]: requests } }),
        );
        requests = (res.UnprocessedItems?.[this.table.tableName] ?? []) as typeof requests;
      }
    }
  }

  /** The recorded outcomes of one run's actions, by type and resource id. */
  async listByRun(
    runId: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<Page<ActionRecord>> {
    const res = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.runPartition(runId), ':prefix': keys.actionPrefix },
        Limit: options.limit ?? 100,
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    return {
      items: (res.Items ?? []).map((item) => stripKeys<ActionRecord>(item)),
      cursor: encodeCursor(res.LastEvaluatedKey),
    };
  }

  /** Every action carried out on one resource across runs, newest first: a page of index keys, then the items. */
  async listByResource(
    resourceId: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<Page<ActionRecord>> {
    const page = await mergedKeyPage(
      this.table,
      [{ index: TABLE_KEYS.gsi1, partition: keys.resourceActionsPartition(resourceId) }],
      { limit: options.limit ?? 50, cursor: options.cursor },
    );
    const items = await batchGetInOrder(
      this.table,
      page.keys.map((k) => k.key),
    );
    return {
      items: items.map((item) => stripKeys<ActionRecord>(item)),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    };
  }

  /**
   * Every action of a run, in plan order: each planned action with its recorded outcome, or PLANNED when it has
   * none (a dry run, or a batch that was never applied); then any recorded action no plan batch lists. Plan
   * batches are read a query page at a time; the outcomes of a run that applied are read first (the policy's
   * caps bound them).
   */
  async *allByRun(runId: string): AsyncGenerator<ActionRecord> {
    const outcomes = new Map<string, ActionRecord>();
    for await (const action of this.recordedByRun(runId)) outcomes.set(actionKey(action), action);
    for await (const batch of this.planBatches(runId)) {
      for (const entry of batch.actions) {
        const key = actionKey(entry);
        const recorded = outcomes.get(key);
        if (recorded) {
          outcomes.delete(key);
          yield recorded;
        } else yield plannedRecord(batch, entry);
      }
    }
    yield* outcomes.values();
  }

  private async *recordedByRun(runId: string): AsyncGenerator<ActionRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.listByRun(runId, { limit: 1000, cursor });
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  /** A run's plan batches in order, a query page (at most 1 MB) at a time. */
  async *planBatches(runId: string): AsyncGenerator<PlanBatch> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.runPartition(runId), ':prefix': keys.planBatchPrefix },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of res.Items ?? []) yield stripKeys<PlanBatch>(item);
      startKey = res.LastEvaluatedKey;
    } while (startKey);
  }

  /** The current records of some actions of a run, by type and resource id (missing ones are absent). */
  async getMany(
    runId: string,
    refs: ReadonlyArray<{ resourceType: string; resourceId: string }>,
  ): Promise<ActionRecord[]> {
    const items = await batchGetInOrder(
      this.table,
      refs.map((ref) => keys.action(runId, ref.resourceType, ref.resourceId)),
    );
    return items.map((item) => stripKeys<ActionRecord>(item));
  }

  /** Store one batch of a run's plan, so Map items carry a batch number instead of the plan itself. */
  async writePlanBatch(batch: PlanBatch): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.planBatch(batch.runId, batch.batch), type: 'plan', ...batch },
      }),
    );
  }

  /** One stored batch of a run's plan; throws when it does not exist (a plan is written before it is applied). */
  async readPlanBatch(runId: string, batch: number): Promise<PlanBatch> {
    const res = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.planBatch(runId, batch),
        ConsistentRead: true,
      }),
    );
    if (!res.Item) throw new Error(`Run ${runId} has no plan batch ${batch}`);
    return stripKeys<PlanBatch>(res.Item);
  }
}

function actionKey(action: Pick<ActionRecord, 'resourceType' | 'resourceId'>): string {
  return `${action.resourceType}#${action.resourceId}`;
}

/** A planned action of `batch` as a record with outcome PLANNED. */
function plannedRecord(batch: PlanBatch, entry: PlanEntry): ActionRecord {
  return {
    runId: batch.runId,
    jobId: batch.jobId,
    ...entry,
    dryRun: batch.dryRun,
    outcome: 'PLANNED',
    at: batch.at,
    expiresAt: batch.expiresAt,
  };
}
