/**
 * The embedded DynamoDB of a data directory, shared by every stepjobs command on it: this process registers as
 * a client of the directory's ledger server (local/ledger-server.ts), starting the server first when none
 * answers. Several commands then work on one ledger at once, and none holds the store itself.
 */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectEmbeddedDynamoDb, localDynamoDbClient, type EmbeddedDynamoDb } from './embedded-dynamodb';
import { clientFileName, serverFiles, type ServerInfo } from './ledger-server';
import { currentProcess, isAlive } from './process-identity';

export class LedgerServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerServerError';
  }
}

const START_TIMEOUT_MS = 20_000;
/** A spawn lock older than this belongs to a client that died while starting the server. */
const STALE_LOCK_MS = 15_000;
const SERVER_ENTRY = path.join(__dirname, 'ledger-server.ts');

/** Connect to the ledger server of `dataDir`, starting one when none answers. */
export async function connectSharedDynamoDb(dataDir: string): Promise<EmbeddedDynamoDb> {
  const files = serverFiles(dataDir);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  mkdirSync(files.clients, { recursive: true });
  // Registered before the server is even looked for, so a server about to stop for want of clients stays.
  const registration = path.join(files.clients, clientFileName(currentProcess()));
  writeFileSync(registration, '');
  const unregister = () => rmSync(registration, { force: true });
  try {
    const endpoint = await findOrStartServer(dataDir);
    const shared = connectEmbeddedDynamoDb(endpoint);
    return {
      ...shared,
      async stop() {
        await shared.stop();
        unregister();
      },
    };
  } catch (error) {
    unregister();
    throw error;
  }
}

async function findOrStartServer(dataDir: string): Promise<string> {
  const files = serverFiles(dataDir);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let spawned = false;
  while (Date.now() < deadline) {
    const info = readInfo(files.info);
    if (info && isAlive({ pid: info.pid, host: currentProcess().host })) {
      const endpoint = `http://127.0.0.1:${info.port}`;
      if (await answers(endpoint)) return endpoint;
    }
    if (!spawned && takeSpawnLock(files.spawnLock)) {
      try {
        // Whatever the file says is dead or deaf; the new server writes its own.
        if (readInfo(files.info)?.pid === info?.pid) rmSync(files.info, { force: true });
        startServer(dataDir, files.log);
        spawned = true;
        const endpoint = await waitForServer(files.info, deadline);
        if (endpoint) return endpoint;
      } finally {
        rmSync(files.spawnLock, { force: true });
      }
    }
    await sleep(50);
  }
  throw new LedgerServerError(
    `The local ledger server for ${dataDir} did not start within ${START_TIMEOUT_MS / 1000} s; see ${files.log}`,
  );
}

function readInfo(file: string): ServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return undefined; // no server yet, or one is writing it: look again
  }
}

async function answers(endpoint: string): Promise<boolean> {
  const client = localDynamoDbClient(endpoint);
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

/** The server runs detached, in its own process group, so it outlives (and survives a kill of) this one. */
function startServer(dataDir: string, logFile: string): void {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), SERVER_ENTRY, dataDir], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.unref();
  } finally {
    closeSync(log);
  }
}

async function waitForServer(infoFile: string, deadline: number): Promise<string | undefined> {
  while (Date.now() < deadline) {
    const info = readInfo(infoFile);
    if (info) {
      const endpoint = `http://127.0.0.1:${info.port}`;
      if (await answers(endpoint)) return endpoint;
    }
    await sleep(25);
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
