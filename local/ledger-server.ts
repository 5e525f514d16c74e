/**
 * The local ledger server: one process that serves the embedded DynamoDB of a data directory to every
 * stepjobs command using it, as a local database server would. LevelDB (dynalite's store) admits one process
 * at a time, so without it a second command (`history` while `schedule --local` runs) could not open the
 * ledger at all.
 *
 * The first command that needs the directory starts the server as a detached process
 * (local/shared-dynamodb.ts); the commands register themselves as its clients. The server exits a few seconds
 * after its last client is gone (so back-to-back commands share one), when another server has taken its place,
 * or when the directory is deleted. It is killed like any process; the next command starts a new one, and
 * LevelDB recovers its log on open.
 *
 * Run as `node -r tsx/cjs local/ledger-server.ts <dataDir>`.
 */
import dynalite from 'dynalite';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { isAlive } from './process-identity';

/** Where a data directory's server says where it listens, and where its clients register. */
export function serverFiles(dataDir: string) {
  return {
    /** `{ pid, port, startedAt }` of the serving process, written once it answers. */
    info: `${dataDir}.server.json`,
    /** One empty file per client process: `<pid>-<startTicks>`. */
    clients: `${dataDir}.clients`,
    /** Taken (exclusive create) by the client that starts a server, so two do not start at once. */
    spawnLock: `${dataDir}.spawn.lock`,
    log: `${dataDir}.server.log`,
  };
}

export interface ServerInfo {
  pid: number;
  port: number;
  startedAt: string;
}

/** How long the server stays up after its last client went away, so the next command finds it. */
const LINGER_MS = 5_000;
const CHECK_MS = 500;

/** A client file's name for a process: `<pid>-<startTicks>` (`-` alone where /proc is not available). */
export function clientFileName(identity: { pid: number; startTicks?: number }): string {
  return `${identity.pid}-${identity.startTicks ?? ''}`;
}

function liveClients(dir: string): number {
  let live = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const [pid, ticks] = name.split('-');
    const owner = {
      pid: Number(pid),
      host: hostname(),
      ...(ticks ? { startTicks: Number(ticks) } : {}),
    };
    if (Number.isInteger(owner.pid) && isAlive(owner)) live += 1;
    else rmSync(`${dir}/${name}`, { force: true });
  }
  return live;
}

/** Serve `dataDir` until no client is left; resolves when the server has shut down. */
export async function serveLedger(dataDir: string): Promise<void> {
  const files = serverFiles(dataDir);
  const log = (line: string) =>
    appendFileSync(files.log, `${new Date().toISOString()} ${process.pid} ${line}\n`);
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(files.clients, { recursive: true });
  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // LevelDB opens lazily: a store another process holds fails on the first request, so ask before announcing.
  const probe = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'X-Amz-Target': 'DynamoDB_20120810.ListTables',
      'Content-Type': 'application/x-amz-json-1.0',
      Authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      'X-Amz-Date': '20260101T000000Z',
    },
    body: '{}',
  });
  if (!probe.ok) {
    log(`cannot open the store (${probe.status} ${await probe.text()}); another process holds it`);
    server.close();
    process.exitCode = 1;
    return;
  }
  const info: ServerInfo = { pid: process.pid, port, startedAt: new Date().toISOString() };
  writeFileSync(`${files.info}.${process.pid}`, JSON.stringify(info));
  renameSync(`${files.info}.${process.pid}`, files.info);
  log(`serving ${dataDir} on 127.0.0.1:${port}`);

  await new Promise<void>((resolve) => {
    let idleSince: number | undefined;
    const stop = (why: string) => {
      clearInterval(timer);
      log(`stopping: ${why}`);
      if (ownsInfo()) rmSync(files.info, { force: true });
      server.close(() => resolve());
    };
    const ownsInfo = () => {
      try {
        return (JSON.parse(readFileSync(files.info, 'utf8')) as ServerInfo).pid === process.pid;
      } catch {
        return false;
      }
    };
    const timer = setInterval(() => {
      if (!existsSync(dataDir)) return stop('the data directory is gone');
      if (!ownsInfo()) return stop('another server serves the directory');
      if (liveClients(files.clients) > 0) {
        idleSince = undefined;
        return undefined;
      }
      idleSince ??= Date.now();
      if (Date.now() - idleSince >= LINGER_MS) stop('no client is left');
      return undefined;
    }, CHECK_MS);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

if (require.main === module) {
  const dataDir = process.argv[2];
  if (!dataDir) {
    process.stderr.write('usage: ledger-server <dataDir>\n');
    process.exit(2);
  }
  const fail = (error: unknown) => {
    try {
      appendFileSync(
        serverFiles(dataDir).log,
        `${new Date().toISOString()} ${process.pid} failed: ${String((error as Error)?.stack ?? error)}\n`,
      );
    } finally {
      process.exit(1);
    }
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  serveLedger(dataDir).then(() => process.exit(), fail);
}
