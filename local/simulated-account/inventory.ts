/** The inventory store: the simulated account's resources in DynamoDB, read and changed as AWS would. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from '../../shared/ledger/dynamo';
import { NOT_FOUND } from './errors';
import type { Of, SimulatedResource, SimulatedType } from './resources';

/** Items read per inventory query when paging; pages returned to callers still hold `pageSize` at most. */
const READ_AHEAD = 100;

/** The table of the inventory: one item per resource, `type` + `id`, `tags` a map. */
export class Inventory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(type: SimulatedType, id: string) {
    return { TableName: this.tableName, Key: { type, id } };
  }

  async get<T extends SimulatedType>(type: T, id: string): Promise<Of<T> | undefined> {
    const out = await this.doc.send(new GetCommand({ ...this.key(type, id), ConsistentRead: true }));
    return out.Item as Of<T> | undefined;
  }

  /** The listed resources that exist (in one batch read per 100), in no particular order. */
  async getMany<T extends SimulatedType>(type: T, ids: readonly string[]): Promise<Of<T>[]> {
    const found: Of<T>[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map((id) => ({ type, id }));
      while (keys.length > 0) {
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        found.push(...((out.Responses?.[this.tableName] ?? []) as Of<T>[]));
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /** Every listed resource, or AWS's NotFound for the first missing one (AWS validates a list as a whole). */
  async getAll<T extends SimulatedType>(type: T, ids: readonly string[]): Promise<Of<T>[]> {
    const found = await Promise.all(ids.map((id) => this.get(type, id)));
    const missing = ids.find((_id, i) => !found[i]);
    if (missing !== undefined) throw NOT_FOUND[type](missing);
    return found as Of<T>[];
  }

  /**
   * One page of `type` in id order after `after`, of at most `limit` resources that `keep` accepts. `next` is
   * the last id returned when more may follow.
   */
  async page<T extends SimulatedType>(
    type: T,
    options: { after?: string; limit: number; keep: (resource: Of<T>) => boolean; prefix?: string },
  ): Promise<{ items: Of<T>[]; next?: string }> {
    const items: Of<T>[] = [];
    let start: Record<string, unknown> | undefined = options.after ? { type, id: options.after } : undefined;
    for (;;) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: options.prefix
            ? '#type = :type AND begins_with(#id, :prefix)'
            : '#type = :type',
          ExpressionAttributeNames: { '#type': 'type', ...(options.prefix ? { '#id': 'id' } : {}) },
          ExpressionAttributeValues: {
            ':type': type,
            ...(options.prefix ? { ':prefix': options.prefix } : {}),
          },
          ExclusiveStartKey: start,
          // Read ahead: a filter may skip most of what is read, and reading `limit + 1` at a time made a
          // filtered describe (a safety snapshot looked up by tag) cost one query per few resources.
          Limit: Number.isFinite(options.limit) ? Math.max(options.limit + 1, READ_AHEAD) : undefined,
          ConsistentRead: true,
        }),
      );
      const batch = (out.Items ?? []) as Of<T>[];
      for (const [index, resource] of batch.entries()) {
        if (!options.keep(resource)) continue;
        items.push(resource);
        if (items.length === options.limit) {
          const more = index < batch.length - 1 || out.LastEvaluatedKey !== undefined;
          return more ? { items, next: resource.id } : { items };
        }
      }
      if (!out.LastEvaluatedKey) return { items };
      start = out.LastEvaluatedKey;
    }
  }

  async all<T extends SimulatedType>(
    type: T,
    keep: (resource: Of<T>) => boolean = () => true,
  ): Promise<Of<T>[]> {
    return (await this.page(type, { limit: Infinity, keep })).items;
  }

  async create(resource: SimulatedResource): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: resource,
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': 'id' },
      }),
    );
  }

  /**
   * Set and remove fields and tags of an existing resource, one map entry at a time (so concurrent changes to
   * other tags are kept). Throws `onConflict(current)` when the resource is missing or `condition`
   * is false. Returns the resource as it was before.
   */
  async update<T extends SimulatedType>(
    type: T,
    id: string,
    change: {
      set?: Record<string, unknown>;
      setTags?: Record<string, string>;
      removeTags?: readonly string[];
      remove?: readonly string[];
      condition?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> };
    },
    onConflict: (current: Of<T> | undefined) => Error,
  ): Promise<Of<T>> {
    const names: Record<string, string> = { '#id': 'id', ...change.condition?.names };
    if (change.setTags || change.removeTags) names['#tags'] = 'tags';
    const values: Record<string, unknown> = { ...change.condition?.values };
    const sets: string[] = [];
    const removes: string[] = [];
    let n = 0;
    for (const [field, value] of Object.entries(change.set ?? {})) {
      names[`#f${n}`] = field;
      values[`:f${n}`] = value;
      sets.push(`#f${n} = :f${n}`);
      n++;
    }
    for (const [key, value] of Object.entries(change.setTags ?? {})) {
      names[`#t${n}`] = key;
      values[`:t${n}`] = value;
      sets.push(`#tags.#t${n} = :t${n}`);
      n++;
    }
    for (const key of change.removeTags ?? []) {
      names[`#t${n}`] = key;
      removes.push(`#tags.#t${n}`);
      n++;
    }
    for (const field of change.remove ?? []) {
      names[`#f${n}`] = field;
      removes.push(`#f${n}`);
      n++;
    }
    const update = [
      sets.length ? `SET ${sets.join(', ')}` : '',
      removes.length ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const condition = ['attribute_exists(#id)', change.condition?.expression].filter(Boolean).join(' AND ');
    if (!update) {
      const current = await this.get(type, id);
      if (!current) throw onConflict(undefined);
      return current;
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          ...this.key(type, id),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes as Of<T>;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw onConflict(await this.get(type, id));
    }
  }

  /** Delete the resource if it exists and `condition` holds; otherwise throw `onConflict(current)`. */
  async remove<T extends SimulatedType>(
    type: T,
    id: string,
    condition: { expression?: string; names?: Record<string, string>; values?: Record<string, unknown> },
    onConflict: (current: Of<T> | undefined) => Error,
  ): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          ...this.key(type, id),
          ConditionExpression: ['attribute_exists(#id)', condition.expression].filter(Boolean).join(' AND '),
          ExpressionAttributeNames: { '#id': 'id', ...condition.names },
          ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw onConflict(await this.get(type, id));
    }
  }

  /** A resource seeded with `vanishOnApply` disappears now, before the mutating call that targets it. */
  async vanishIfArmed(type: SimulatedType, id: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          ...this.key(type, id),
          ConditionExpression: '#vanish = :yes',
          ExpressionAttributeNames: { '#vanish': 'vanishOnApply' },
          ExpressionAttributeValues: { ':yes': true },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
}

/** A document client over `dynamo` (or `dynamo` itself) that stores resources as plain maps. */
export function documentClient(dynamo: DynamoDBClient | DynamoDBDocumentClient): DynamoDBDocumentClient {
  if (dynamo instanceof DynamoDBDocumentClient) return dynamo;
  return DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
