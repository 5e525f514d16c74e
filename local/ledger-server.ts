/**
 * The ledger server: how the process that holds a data directory's store (local/shared-dynamodb.ts) serves it
 * to the other stepjobs processes on the same directory (`history` typed while `schedule --local` runs), as a
 * local database server would. LevelDB admits one process at a time, so the others reach the store through
 * this process, over HTTP on 127.0.0.1, with DynamoDB's own JSON protocol.
 *
 * A request from another process is answered only once its writes are on disk (see local/dynamodb-store.ts),
 * so whatever another process was told happened survives this one being killed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { DynamoDbStore } from './dynamodb-store';

/** Where a data directory's holder says where it listens. */
export function serverFiles(dataDir: string) {
  return {
    /** `{ pid, port, startedAt }` of the process that holds the store, written once it answers. */
    info: `${dataDir}.server.json`,
    /** Taken (exclusive create) by the process about to open the store, so two do not try at once. */
    spawnLock: `${dataDir}.spawn.lock`,
  };
}

export interface ServerInfo {
  pid: number;
  port: number;
  startedAt: string;
}

/** How long requests under way when the server closes have to be answered. */
const CLOSE_GRACE_MS = 2_000;

export interface LedgerServer {
  readonly port: number;
  /** Stop taking requests, answer the ones under way, and withdraw the announcement. */
  close(): Promise<void>;
}

/** Serve `store` on a free port of 127.0.0.1 and announce it in the directory's info file. */
export async function serveLedger(store: DynamoDbStore, dataDir: string): Promise<LedgerServer> {
  const server = createServer((request, response) => {
    answer(store, request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.statusCode = 500;
        response.end(
          JSON.stringify({ __type: 'com.amazon.coral.service#InternalFailure', message: String(error) }),
        );
      } else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const files = serverFiles(dataDir);
  const info: ServerInfo = { pid: process.pid, port, startedAt: new Date().toISOString() };
  writeFileSync(`${files.info}.${process.pid}`, JSON.stringify(info));
  renameSync(`${files.info}.${process.pid}`, files.info);
  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (readInfo(files.info)?.pid === process.pid) rmSync(files.info, { force: true });
        server.close(() => resolve());
        server.closeIdleConnections();
        // A kept-alive connection that is busy now would keep the server (and this process) open: requests
        // under way get a moment to be answered, then whatever is left is closed; the other side resends.
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      });
      return closed;
    },
  };
}

async function answer(
  store: DynamoDbStore,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = request.headers['x-amz-target'];
  const result = await store.handle(
    Array.isArray(target) ? target[0] : target,
    Buffer.concat(chunks).toString(),
  );
  // What the caller is told must outlive this process: its writes reach the disk first.
  await store.flush();
  response.writeHead(result.statusCode, result.headers);
  response.end(result.body);
}

export function readInfo(file: string): ServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return undefined; // nobody announced yet, or the holder is writing it: look again
  }
}
