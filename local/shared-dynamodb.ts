/**
 * The embedded DynamoDB of a data directory, shared by every stepjobs command on it. The first command to
 * need the directory holds its store itself, in memory and written through to LevelDB
 * (local/dynamodb-store.ts), and serves it to the others (local/ledger-server.ts); the others forward their
 * requests to it. When the holder ends, or is killed, the next request of another command finds nobody there
 * and that command takes the store over, so no command depends on another one staying.
 *
 * Both kinds of command talk to DynamoDB through the real SDK: only the transport under it differs
 * (local/dynamodb-transport.ts), and it keeps working when the store moves.
 */
import { ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { DynamoDbStore } from './dynamodb-store';
import { routedRequestHandler, type SdkRequestHandler, type StoreRoute } from './dynamodb-transport';
import { localDynamoDbClient, type EmbeddedDynamoDb } from './embedded-dynamodb';
import { readInfo, serveLedger, serverFiles, type LedgerServer } from './ledger-server';
import { currentProcess, isAlive } from './process-identity';

export class LedgerServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerServerError';
  }
}

const CONNECT_TIMEOUT_MS = 20_000;
/** A spawn lock older than this belongs to a process that died while opening the store. */
const STALE_LOCK_MS = 15_000;

type Holding =
  { kind: 'held'; store: DynamoDbStore; server: LedgerServer } | { kind: 'forwarded'; port: number };

/** Connect to the store of `dataDir`: hold it when nobody does, else forward to the process that does. */
export async function connectSharedDynamoDb(dataDir: string): Promise<EmbeddedDynamoDb> {
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const connection = new SharedConnection(dataDir);
  return connection.embedded(await connection.find());
}

class SharedConnection {
  private holding: Holding | undefined;
  private finding: Promise<Holding> | undefined;
  private stopped = false;
  readonly requestHandler: SdkRequestHandler;

  constructor(private readonly dataDir: string) {
    this.requestHandler = routedRequestHandler(
      () => this.route(),
      (port) => this.lost(port),
    );
  }

  /** Who holds the store now; a request that finds nobody is sent again after {@link lost}. */
  private route(): StoreRoute {
    const holding = this.holding;
    if (!holding || this.stopped)
      throw new LedgerServerError(`The local ledger of ${this.dataDir} is closed`);
    return holding.kind === 'held' ? { store: holding.store } : { port: holding.port };
  }

  /** The process at `port` is gone: find the store again (taking it over if nobody has). */
  private async lost(port: number): Promise<void> {
    if (this.holding?.kind === 'forwarded' && this.holding.port === port) await this.find();
  }

  /** Find the store's holder, or hold it; concurrent callers share one search. */
  find(): Promise<Holding> {
    this.finding ??= this.search().finally(() => {
      this.finding = undefined;
    });
    return this.finding;
  }

  private async search(): Promise<Holding> {
    const files = serverFiles(this.dataDir);
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const info = readInfo(files.info);
      if (info && isAlive({ pid: info.pid, host: currentProcess().host })) {
        if (await answers(info.port)) return (this.holding = { kind: 'forwarded', port: info.port });
      }
      if (takeSpawnLock(files.spawnLock)) {
        try {
          // Whatever the file names is dead or deaf (checked above); a new holder writes its own.
          if (readInfo(files.info)?.pid === info?.pid) rmSync(files.info, { force: true });
          const store = await DynamoDbStore.open(this.dataDir);
          try {
            return (this.holding = { kind: 'held', store, server: await serveLedger(store, this.dataDir) });
          } catch (error) {
            await store.close();
            throw error;
          }
        } catch (error) {
          // Most often LevelDB's lock: the process that held the store is still closing it. Try again.
          lastError = error;
        } finally {
          rmSync(files.spawnLock, { force: true });
        }
      }
      await sleep(25);
    }
    throw new LedgerServerError(
      `The local ledger at ${this.dataDir} could not be opened within ${CONNECT_TIMEOUT_MS / 1000} s` +
        (lastError ? `: ${(lastError as Error).message}` : ''),
    );
  }

  embedded(holding: Holding): EmbeddedDynamoDb {
    const port = holding.kind === 'held' ? holding.server.port : holding.port;
    const endpoint = `http://127.0.0.1:${port}`;
    const client = localDynamoDbClient(endpoint, { transport: this.requestHandler });
    return {
      endpoint,
      client,
      requestHandler: this.requestHandler,
      flush: () => this.flush(),
      stop: () => this.stop(client),
    };
  }

  private async flush(): Promise<void> {
    if (this.holding?.kind === 'held') await this.holding.store.flush();
  }

  private async stop(client: DynamoDBClient): Promise<void> {
    if (this.stopped) return;
    await this.finding?.catch(() => undefined);
    this.stopped = true;
    client.destroy();
    this.requestHandler.destroy();
    if (this.holding?.kind === 'held') {
      // Others on the directory find nobody at the port from here on, and take the store over.
      await this.holding.server.close();
      await this.holding.store.close();
    }
  }
}

/** Whether a process answers DynamoDB requests at `port` (the holder's announcement may be stale). */
async function answers(port: number): Promise<boolean> {
  const client = localDynamoDbClient(`http://127.0.0.1:${port}`, { maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

function takeSpawnLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx'));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
    } catch {
      // gone already
    }
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
