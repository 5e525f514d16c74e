import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor, stripKeys, type TableRef } from './dynamo';
import type { ActionRecord, Page, PlanBatch } from './items';
import { keys, TABLE_KEYS } from './keys';

const BATCH_SIZE = 25;
const MAX_UNPROCESSED_ROUNDS = 8;

/** The actions jobs planned or took, per run and per resource. */
export class ActionsRepository {
  constructor(private readonly table: TableRef) {}

  /**
   * Write action records (idempotent: one item per run, type and resource, so a retried batch overwrites
   * itself rather than adding a second record).
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

  /** The actions of one run, by type and resource id. */
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

  /** Every action on one resource across runs, newest first. */
  async listByResource(
    resourceId: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<Page<ActionRecord>> {
    const res = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        IndexName: TABLE_KEYS.gsi1.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.gsi1.pk },
        ExpressionAttributeValues: { ':pk': keys.resourceActionsPartition(resourceId) },
        ScanIndexForward: false,
        Limit: options.limit ?? 50,
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    return {
      items: (res.Items ?? []).map((item) => stripKeys<ActionRecord>(item)),
      cursor: encodeCursor(res.LastEvaluatedKey),
    };
  }

  /** Every action of a run, all pages (a plan of 10,000 actions is a handful of 1 MB query pages). */
  async *allByRun(runId: string): AsyncGenerator<ActionRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.listByRun(runId, { limit: 1000, cursor });
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  /** The current records of some actions of a run, by type and resource id (missing ones are absent). */
  async getMany(
    runId: string,
    refs: ReadonlyArray<{ resourceType: string; resourceId: string }>,
  ): Promise<ActionRecord[]> {
    const out: ActionRecord[] = [];
    for (let i = 0; i < refs.length; i += 100) {
      let pending: Record<string, unknown>[] = refs
        .slice(i, i + 100)
        .map((ref) => keys.action(runId, ref.resourceType, ref.resourceId));
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= MAX_UNPROCESSED_ROUNDS) {
          throw new Error(`DynamoDB left ${pending.length} action reads unprocessed after ${round} rounds`);
        }
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const res = await this.table.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.table.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        out.push(
          ...(res.Responses?.[this.table.tableName] ?? []).map((item) => stripKeys<ActionRecord>(item)),
        );
        pending = (res.UnprocessedKeys?.[this.table.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return out;
  }

  /** Store one batch of a run's plan, so Map items carry a batch number instead of the plan itself. */
  async writePlanBatch<T>(batch: PlanBatch<T>): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.planBatch(batch.runId, batch.batch), type: 'plan', ...batch },
      }),
    );
  }

  /** One stored batch of a run's plan; throws when it does not exist (a plan is written before it is applied). */
  async readPlanBatch<T>(runId: string, batch: number): Promise<PlanBatch<T>> {
    const res = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.planBatch(runId, batch),
        ConsistentRead: true,
      }),
    );
    if (!res.Item) throw new Error(`Run ${runId} has no plan batch ${batch}`);
    return stripKeys<PlanBatch<T>>(res.Item);
  }
}
