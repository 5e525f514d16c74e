/**
 * Pages over the ledger's KEYS_ONLY indexes: newest first, merged across several index partitions, then the
 * page's items read in one BatchGetItem. A page costs one query per partition (each at most a page of keys)
 * plus one batch read, whatever the length of the history: a filter is a partition, never a FilterExpression
 * over a partition that may hold 100,000 runs with none matching.
 *
 * The cursor is the sort key of the last item of the page (`<startedAt>#<runId>`, unique), so the next page
 * asks every partition for what sorts before it; nothing in the cursor depends on the partitions, and any
 * filter can be repeated with it.
 */
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { TableRef } from './dynamo';
import type { IndexKeys } from './keys';

type Key = Record<string, unknown>;

/** One index partition to read, newest first. */
export interface IndexPartition {
  index: IndexKeys;
  partition: string;
}

/** Sort-key bounds of a page: at or after `since`, before `before` (both optional). */
export interface SortRange {
  since?: string;
  before?: string;
}

/** A page's table keys, newest first, and the cursor for the next page (absent on the last). */
export interface KeyPage {
  keys: Array<{ key: Key; order: string }>;
  cursor?: string;
}

/** Where a source found its keys: a partition, or a function (the bounded "still running" window). */
export type KeySource =
  | IndexPartition
  | ((
      range: SortRange,
      limit: number,
    ) => Promise<{ keys: Array<{ key: Key; order: string }>; more: boolean }>);

export class InvalidCursor extends Error {
  constructor(cursor: string) {
    super(`Invalid page cursor "${cursor}": use the --cursor value the previous page printed`);
    this.name = 'InvalidCursor';
  }
}

export function encodePageCursor(order: string): string {
  return Buffer.from(JSON.stringify({ before: order })).toString('base64url');
}

export function decodePageCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (typeof parsed.before === 'string' && parsed.before.length > 0) return parsed.before;
  } catch {
    // fall through: one message for every malformed cursor
  }
  throw new InvalidCursor(cursor);
}

/** Up to `limit` keys of one partition in [since, before), newest first. */
export async function queryPartition(
  table: TableRef,
  source: IndexPartition,
  range: SortRange,
  limit: number,
): Promise<{ keys: Array<{ key: Key; order: string }>; more: boolean }> {
  const { index } = source;
  const names: Record<string, string> = { '#pk': index.pk };
  const values: Record<string, unknown> = { ':pk': source.partition };
  let condition = '#pk = :pk';
  if (range.since !== undefined || range.before !== undefined) names['#sk'] = index.sk;
  if (range.since !== undefined && range.before !== undefined) {
    // BETWEEN includes `before`, the previous page's last item (or `until`, which no `<time>#<runId>` equals).
    condition += ' AND #sk BETWEEN :since AND :before';
    values[':since'] = range.since;
    values[':before'] = range.before;
  } else if (range.since !== undefined) {
    condition += ' AND #sk >= :since';
    values[':since'] = range.since;
  } else if (range.before !== undefined) {
    condition += ' AND #sk < :before';
    values[':before'] = range.before;
  }
  const res = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      IndexName: index.name,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      // Two more than asked: one for the bound BETWEEN includes, one to know whether the partition has more
      // without another query (DynamoDB returns a LastEvaluatedKey whenever it stops at Limit).
      Limit: limit + 2,
    }),
  );
  const keys = (res.Items ?? [])
    .map((item) => ({ key: { pk: item.pk, sk: item.sk }, order: String(item[index.sk]) }))
    .filter((k) => range.before === undefined || k.order < range.before);
  return { keys: keys.slice(0, limit), more: keys.length > limit };
}

/** The newest `limit` keys across `sources` in the range, and a cursor when any source has more. */
export async function mergedKeyPage(
  table: TableRef,
  sources: readonly KeySource[],
  options: { limit: number; since?: string; until?: string; cursor?: string },
): Promise<KeyPage> {
  const after = decodePageCursor(options.cursor);
  const before =
    after !== undefined && (options.until === undefined || after < options.until) ? after : options.until;
  const range: SortRange = { since: options.since, before };
  // DynamoDB refuses a BETWEEN whose bounds are out of order; such a range is simply empty.
  if (range.since !== undefined && range.before !== undefined && range.since >= range.before)
    return { keys: [] };
  const found = await Promise.all(
    sources.map((source) =>
      typeof source === 'function'
        ? source(range, options.limit)
        : queryPartition(table, source, range, options.limit),
    ),
  );
  const all = found
    .flatMap((f) => f.keys)
    .sort((a, b) => (a.order < b.order ? 1 : a.order > b.order ? -1 : 0));
  const keys = all.slice(0, options.limit);
  const more = all.length > keys.length || found.some((f) => f.more);
  const last = keys.at(-1);
  return { keys, ...(more && last ? { cursor: encodePageCursor(last.order) } : {}) };
}

/**
 * The items of `keys` in their order: reads of 100 keys at a time, unprocessed keys read again; a key whose
 * item is gone is left out. `attributes` limits what is read (the keys are always included). Reads are
 * strongly consistent unless `consistent` is false: a listing page, whose keys came from an index (itself
 * eventually consistent), reads at half the price.
 */
export async function batchGetInOrder(
  table: TableRef,
  keys: readonly Key[],
  attributes?: readonly string[],
  consistent = true,
): Promise<Key[]> {
  const projection = attributes && {
    ProjectionExpression: ['pk', 'sk', ...attributes].map((_, i) => `#a${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(['pk', 'sk', ...attributes].map((a, i) => [`#a${i}`, a])),
  };
  const byKey = new Map<string, Key>();
  const id = (key: Key) => `${String(key.pk)}\u0000${String(key.sk)}`;
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= 8)
        throw new Error(`DynamoDB left ${pending.length} reads unprocessed after ${round} rounds`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const res = await table.doc.send(
        new BatchGetCommand({
          RequestItems: { [table.tableName]: { Keys: pending, ConsistentRead: consistent, ...projection } },
        }),
      );
      for (const item of res.Responses?.[table.tableName] ?? []) byKey.set(id(item), item);
      pending = (res.UnprocessedKeys?.[table.tableName]?.Keys ?? []) as typeof pending;
    }
  }
  return keys.map((k) => byKey.get(id(k))).filter((item): item is Key => item !== undefined);
}
