import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor, stripKeys, type TableRef } from './dynamo';
import type { ActionRecord, Page } from './items';
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
}
