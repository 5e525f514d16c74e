/**
 * DynamoDB's capacity arithmetic for the benches, and a proxy that applies it to real traffic. dynalite (the
 * embedded DynamoDB) reports consumed capacity for the table only, and not for indexes, so the proxy works it
 * out itself: it reads each written item before and after the write, and prices the write by DynamoDB's rules
 * for on-demand tables:
 *
 * - an item's size is the sum of its attribute names and values (strings in UTF-8 bytes, numbers about one byte
 *   per two digits plus one, maps and lists 3 bytes plus their members, booleans and nulls 1 byte);
 * - a write costs one unit per KB of the larger of the item before and after (a failed conditional write
 *   still costs the item's size, at least one unit);
 * - each index whose entry appears, disappears or changes costs one unit per KB of its entry (index and table
 *   keys plus the projected attributes), twice when its key changes (a delete and a put);
 * - a read costs one unit per 4 KB (half for an eventually consistent read); a query per 4 KB of what it
 *   returns, a batched read per item.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  type AttributeValue,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';

type Item = Record<string, AttributeValue>;

export interface IndexDef {
  name: string;
  keys: string[];
  projection: 'ALL' | 'KEYS_ONLY' | string[];
}

export interface TableDef {
  name: string;
  keys: string[];
  indexes: IndexDef[];
}

/** A table as CreateTable defines it (the local runtime reads these from the synthesized template). */
export function tableDef(input: CreateTableCommandInput): TableDef {
  return {
    name: String(input.TableName),
    keys: (input.KeySchema ?? []).map((k) => String(k.AttributeName)),
    indexes: (input.GlobalSecondaryIndexes ?? []).map((g) => ({
      name: String(g.IndexName),
      keys: (g.KeySchema ?? []).map((k) => String(k.AttributeName)),
      projection:
        g.Projection?.ProjectionType === 'INCLUDE'
          ? (g.Projection.NonKeyAttributes ?? [])
          : ((g.Projection?.ProjectionType ?? 'ALL') as 'ALL' | 'KEYS_ONLY'),
    })),
  };
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (value.B !== undefined) return (value.B as Uint8Array).length ?? 0;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined)
    return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + Math.ceil(s.length / 2) + 1, 0);
  return 0;
}

export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

const units = (bytes: number, per: number) => Math.max(1, Math.ceil(bytes / per));

function indexEntry(table: TableDef, index: IndexDef, item: Item | undefined): Item | undefined {
  if (!item || index.keys.some((k) => item[k] === undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const names = new Set([
    ...table.keys,
    ...index.keys,
    ...(index.projection === 'KEYS_ONLY' ? [] : index.projection),
  ]);
  return Object.fromEntries(Object.entries(item).filter(([k]) => names.has(k)));
}

/** DynamoDB's per-item storage overhead, in the table and in each index entry. */
const STORAGE_OVERHEAD_BYTES = 100;

/** Bytes an item is billed for in storage: the item and each of its index entries, 100 bytes overhead each. */
export function storedBytes(table: TableDef, item: Item): number {
  return table.indexes.reduce(
    (bytes, index) => {
      const entry = indexEntry(table, index, item);
      return entry ? bytes + itemSize(entry) + STORAGE_OVERHEAD_BYTES : bytes;
    },
    itemSize(item) + STORAGE_OVERHEAD_BYTES,
  );
}

const same = (a: Item | undefined, b: Item | undefined) => JSON.stringify(a) === JSON.stringify(b);

/** Write units of one write of `before` into `after` (either may be absent), table and indexes apart. */
export function writeUnits(
  table: TableDef,
  before: Item | undefined,
  after: Item | undefined,
  failed: boolean,
) {
  if (failed) return { table: units(itemSize(before), 1024), indexes: 0 };
  let indexes = 0;
  for (const index of table.indexes) {
    const old = indexEntry(table, index, before);
    const now = indexEntry(table, index, after);
    if (same(old, now)) continue;
    const keyChanged =
      old && now && index.keys.some((k) => JSON.stringify(old[k]) !== JSON.stringify(now[k]));
    if (old && (keyChanged || !now)) indexes += units(itemSize(old), 1024);
    if (now) indexes += units(itemSize(now), 1024);
  }
  return { table: units(Math.max(itemSize(before), itemSize(after)), 1024), indexes };
}

export interface Tally {
  requests: number;
  writeRequests: number;
  readRequests: number;
  tableWrites: number;
  indexWrites: number;
  reads: number;
}

export const emptyTally = (): Tally => ({
  requests: 0,
  writeRequests: 0,
  readRequests: 0,
  tableWrites: 0,
  indexWrites: 0,
  reads: 0,
});

/** What each write touched: the item's key, for attributing units to lifecycle, steps or the job. */
export interface WriteRecord {
  /** The request it was part of, numbered from 1: a batch's items share one. */
  request: number;
  table: string;
  op: string;
  key: Item;
  tableUnits: number;
  indexUnits: number;
}

/**
 * An HTTP proxy in front of a DynamoDB endpoint that prices every request with {@link writeUnits} and read
 * rules, reading items before and after each write through its own client (straight to the target).
 */
export class CapacityProxy {
  readonly writes: WriteRecord[] = [];
  tally: Tally = emptyTally();
  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    private readonly tables: Map<string, TableDef>,
    private readonly client: DynamoDBClient,
  ) {}

  static async start(targetEndpoint: string, tables: readonly TableDef[]): Promise<CapacityProxy> {
    const handlers: Array<(req: IncomingMessage, res: ServerResponse) => Promise<void>> = [];
    const server = createServer((req, res) => void handlers[0]?.(req, res));
    const client = new DynamoDBClient({
      endpoint: targetEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const proxy = new CapacityProxy(
      server,
      new URL(targetEndpoint),
      new Map(tables.map((t) => [t.name, t])),
      client,
    );
    handlers.push((req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.tally = emptyTally();
    this.writes.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.client.destroy();
  }

  private async get(table: TableDef, key: Item): Promise<Item | undefined> {
    const res = await this.client.send(
      new GetItemCommand({ TableName: table.name, Key: key, ConsistentRead: true }),
    );
    return res.Item;
  }

  private keyOf(table: TableDef, item: Item): Item {
    return Object.fromEntries(table.keys.map((k) => [k, item[k] as AttributeValue]));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const body = JSON.parse(text || '{}') as Record<string, unknown>;
    // The items a write touches, as [table, key] pairs, and how they were before.
    const touched: Array<{ table: TableDef; key: Item }> = [];
    const tableOf = (name: unknown) => this.tables.get(String(name));
    if (op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem') {
      const table = tableOf(body.TableName);
      if (table)
        touched.push({
          table,
          key: op === 'PutItem' ? this.keyOf(table, body.Item as Item) : (body.Key as Item),
        });
    } else if (op === 'BatchWriteItem') {
      for (const [name, requests] of Object.entries(
        body.RequestItems as Record<
          string,
          Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
        >,
      )) {
        const table = tableOf(name);
        if (!table) continue;
        for (const r of requests)
          touched.push({
            table,
            key: r.PutRequest ? this.keyOf(table, r.PutRequest.Item) : (r.DeleteRequest?.Key ?? {}),
          });
      }
    }
    const before = await Promise.all(touched.map((t) => this.get(t.table, t.key)));
    const answer = await this.forward(req, text);
    const tally = this.tally;
    tally.requests += 1;
    if (touched.length > 0) tally.writeRequests += 1;
    const failed = answer.status === 400 && answer.body.includes('ConditionalCheckFailed');
    const unprocessed =
      op === 'BatchWriteItem'
        ? ((JSON.parse(answer.body || '{}') as { UnprocessedItems?: Record<string, unknown[]> })
            .UnprocessedItems ?? {})
        : {};
    for (const [i, t] of touched.entries()) {
      if (Object.keys(unprocessed).length > 0) break; // priced when it is retried (dynalite never leaves any)
      const after = failed ? before[i] : await this.get(t.table, t.key);
      const cost = writeUnits(t.table, before[i], after, failed);
      tally.tableWrites += cost.table;
      tally.indexWrites += cost.indexes;
      this.writes.push({
        request: tally.requests,
        table: t.table.name,
        op,
        key: t.key,
        tableUnits: cost.table,
        indexUnits: cost.indexes,
      });
    }
    if (op === 'GetItem' || op === 'Query' || op === 'BatchGetItem' || op === 'Scan') {
      tally.readRequests += 1;
      const parsed = JSON.parse(answer.body || '{}') as {
        Item?: Item;
        Items?: Item[];
        Responses?: Record<string, Item[]>;
      };
      const consistent = Boolean(body.ConsistentRead);
      const factor = consistent ? 1 : 0.5;
      if (op === 'GetItem') tally.reads += units(itemSize(parsed.Item), 4096) * factor;
      else if (op === 'BatchGetItem') {
        // BatchGetItem says ConsistentRead per table.
        const perTable = body.RequestItems as Record<string, { ConsistentRead?: boolean }>;
        for (const [name, items] of Object.entries(parsed.Responses ?? {}))
          for (const item of items)
            tally.reads += units(itemSize(item), 4096) * (perTable[name]?.ConsistentRead ? 1 : 0.5);
      } else
        tally.reads +=
          units(
            (parsed.Items ?? []).reduce((n, item) => n + itemSize(item), 0),
            4096,
          ) * factor;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  private forward(
    req: IncomingMessage,
    text: string,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.target.host },
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            const { 'content-length': _length, ...headers } = answer.headers;
            resolve({
              status: answer.statusCode ?? 500,
              headers,
              body: Buffer.concat(parts).toString('utf8'),
            });
          });
        },
      );
      upstream.on('error', reject);
      upstream.end(text);
    });
  }
}
