/**
 * The embedded DynamoDB's store, held in this process: dynalite's engine (its validations and actions, the
 * same code its HTTP server runs) over an in-memory level, loaded from a data directory's LevelDB when it opens
 * and written through to it in order.
 *
 * Why not dynalite's own LevelDB mode: every LevelDB read and write there is a trip through libuv's thread
 * pool, about 33 of them for a heartbeat run, and on a small VM those trips, not the work, took most of a
 * run's time (bench/schedule-local). Here reads never leave memory, and the writes of a turn of the event
 * loop reach LevelDB as one batch.
 *
 * Durability: LevelDB always holds a prefix of the writes, in order (batches are written one after the
 * other), so a process killed mid-run leaves the ledger as it was a moment before, which the recovery pass
 * repairs like any interrupted run. {@link DynamoDbStore.flush} waits until every write so far is on disk:
 * the local runtime flushes before it reports a run's end, and a request from another process is answered
 * only after its writes are flushed.
 */
import { ClassicLevel } from 'classic-level';
import { AsyncLocalStorage } from 'node:async_hooks';
import { crc32 } from 'node:zlib';

/** What dynalite's engine needs of its store (dynalite/db `create()`), as far as this module uses it. */
interface EngineStore {
  db: LevelLike;
  lifecycleManager?: { gracefulClose(cb: (error?: Error) => void): void };
}

interface WriteOperation {
  type: 'put' | 'del';
  encodedKey: Uint8Array | string;
  encodedValue?: Uint8Array | string;
}

interface LevelLike {
  on(event: 'write', listener: (operations: WriteOperation[]) => void): void;
  batch(
    operations: Array<{
      type: 'put';
      key: Uint8Array;
      value: Uint8Array;
      keyEncoding: 'view';
      valueEncoding: 'view';
    }>,
  ): Promise<void>;
}

type Callback = (error: (Error & { statusCode?: number; body?: unknown }) | null, data?: unknown) => void;
type Action = (store: EngineStore, data: unknown, cb: Callback) => void;
interface ActionValidation {
  types: unknown;
  custom?: unknown;
}

/* eslint-disable @typescript-eslint/no-require-imports -- dynalite ships CommonJS modules without types */
const engine = {
  db: require('dynalite/db') as { create(options: Record<string, unknown>): EngineStore },
  validations: require('dynalite/validations') as {
    checkTypes(data: unknown, types: unknown): unknown;
    checkValidations(data: unknown, types: unknown, custom: unknown, store: EngineStore): void;
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The operations this store answers: every one dynalite implements. */
const OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
] as const;

const actions = new Map<string, { action: Action; validation: ActionValidation }>();
function operation(name: string): { action: Action; validation: ActionValidation } | undefined {
  if (!(OPERATIONS as readonly string[]).includes(name)) return undefined;
  let entry = actions.get(name);
  if (!entry) {
    const file = name.charAt(0).toLowerCase() + name.slice(1);
    /* eslint-disable @typescript-eslint/no-require-imports -- one dynalite module per operation */
    entry = {
      action: require(`dynalite/actions/${file}`) as Action,
      validation: require(`dynalite/validations/${file}`) as ActionValidation,
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    actions.set(name, entry);
  }
  return entry;
}

type DiskOperation = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** The writes of one request, held until it ends. */
interface RequestWrites {
  ops: DiskOperation[];
  ended: boolean;
}

/** A DynamoDB JSON-protocol answer: the status code and body DynamoDB would send. */
export interface StoreResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
}

/** The API versions DynamoDB's JSON protocol names in `X-Amz-Target`. */
const API_VERSIONS = ['DynamoDB_20111205', 'DynamoDB_20120810'];

export class DynamoDbStore {
  private queue: DiskOperation[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly engine: EngineStore,
    private readonly disk: ClassicLevel<Uint8Array, Uint8Array>,
    /** Where the store persists, for messages. */
    readonly location: string,
  ) {
    engine.db.on('write', (operations) => this.written(operations));
  }

  /**
   * Open the store, loaded from the LevelDB at `dataDir` and written through to it. Fails with LevelDB's own
   * error (`LEVEL_DATABASE_NOT_OPEN` caused by a held lock) when another process holds it. (A store in memory
   * only is dynalite's own server: local/embedded-dynamodb.ts.)
   */
  static async open(dataDir: string): Promise<DynamoDbStore> {
    const store = engine.db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const disk = new ClassicLevel<Uint8Array, Uint8Array>(dataDir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    await disk.open();
    try {
      // The whole directory, in pages, before the first request: every read after this is from memory.
      const iterator = disk.iterator();
      try {
        for (;;) {
          const entries = await iterator.nextv(2048);
          if (entries.length === 0) break;
          // Encodings per operation: dynalite's wrapper of `batch` takes no options argument.
          await store.db.batch(
            entries.map(([key, value]) => ({
              type: 'put' as const,
              key,
              value,
              keyEncoding: 'view' as const,
              valueEncoding: 'view' as const,
            })),
          );
        }
      } finally {
        await iterator.close();
      }
    } catch (error) {
      await disk.close();
      throw error;
    }
    return new DynamoDbStore(store, disk, dataDir);
  }

  /**
   * Answer one DynamoDB JSON-protocol request (`X-Amz-Target` and body), as dynalite's server does: the same
   * type checks, validations and actions, and the same error bodies.
   */
  async handle(target: string | undefined, body: string): Promise<StoreResponse> {
    if (this.closed) return reply(503, { __type: 'com.amazon.coral.service#ServiceUnavailableException' });
    if (this.failure) {
      return reply(500, {
        __type: 'com.amazon.coral.service#InternalFailure',
        message: `The local store at ${this.location} could not be written: ${this.failure.message}`,
      });
    }
    const [api, name] = (target ?? '').split('.');
    const entry = name && API_VERSIONS.includes(api ?? '') ? operation(name) : undefined;
    if (!entry) return reply(400, { __type: 'com.amazon.coral.service#UnknownOperationException' });
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : undefined;
    } catch {
      return reply(400, { __type: 'com.amazon.coral.service#SerializationException' });
    }
    if (data === undefined) return reply(400, { __type: 'com.amazon.coral.service#SerializationException' });
    try {
      data = engine.validations.checkTypes(data, entry.validation.types);
      engine.validations.checkValidations(data, entry.validation.types, entry.validation.custom, this.engine);
    } catch (error) {
      const failure = error as Error & { statusCode?: number; body?: unknown };
      if (failure.statusCode) return reply(failure.statusCode, failure.body);
      throw error;
    }
    // dynalite writes a request in several steps (an item's index entries, then the item): they reach the disk
    // together, in one batch, so that a process killed in between leaves all of them or none.
    const writes: RequestWrites = { ops: [], ended: false };
    return new Promise<StoreResponse>((resolve, reject) => {
      this.requestWrites.run(writes, () =>
        entry.action(this.engine, data, (error, result) => {
          writes.ended = true;
          this.commit(writes.ops);
          if (error?.statusCode) resolve(reply(error.statusCode, error.body));
          else if (error) reject(error);
          else resolve(reply(200, result));
        }),
      );
    });
  }

  /** Resolves when every write made so far is in LevelDB; rejects when one could not be written. */
  async flush(): Promise<void> {
    for (;;) {
      const writing = this.writing;
      await writing;
      if (this.failure) throw this.failure;
      if (this.queue.length === 0 && writing === this.writing) return;
    }
  }

  /** Flush, then close LevelDB (and the engine). The store answers nothing after this. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.disk.close();
      await new Promise<void>((resolve) =>
        this.engine.lifecycleManager
          ? this.engine.lifecycleManager.gracefulClose(() => resolve())
          : resolve(),
      );
    }
  }

  /** The writes of the request under way (an AsyncLocalStorage follows dynalite's callbacks and promises). */
  private readonly requestWrites = new AsyncLocalStorage<RequestWrites>();

  /** A write to the in-memory level: kept with its request until the request ends, else queued at once. */
  private written(operations: WriteOperation[]): void {
    const ops = operations.map((op): DiskOperation => {
      const key = bytes(op.encodedKey);
      return op.type === 'put'
        ? { type: 'put', key, value: bytes(op.encodedValue ?? '') }
        : { type: 'del', key };
    });
    // A timer a request set (CreateTable's, which makes the table ACTIVE) runs in its context after it ended.
    const request = this.requestWrites.getStore();
    if (request && !request.ended) request.ops.push(...ops);
    else this.commit(ops);
  }

  /**
   * Queue a request's writes for the disk, together. Requests that touch the same item are one after the other
   * (dynalite locks the item), so committing in the order requests end keeps each key's writes in order.
   */
  private commit(ops: DiskOperation[]): void {
    if (ops.length === 0) return;
    const wasEmpty = this.queue.length === 0;
    this.queue.push(...ops);
    // One batch per turn: whatever was queued while the previous batch was written goes in the next.
    if (wasEmpty) this.writing = this.writing.then(() => this.writeQueued());
  }

  private async writeQueued(): Promise<void> {
    if (this.failure || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      await this.disk.batch(batch);
    } catch (error) {
      // Later writes must not reach disk without this one: stop writing, and fail every request from here.
      this.failure = error as Error;
    }
  }
}

function bytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function reply(statusCode: number, data: unknown): StoreResponse {
  const body = JSON.stringify(data);
  return {
    statusCode,
    body,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-crc32': String(crc32(body)),
      'x-amzn-requestid': `local-${Math.random().toString(36).slice(2, 14)}`,
    },
  };
}
