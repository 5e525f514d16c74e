/**
 * The `stepjobs` CLI as a real child process (`bin/stepjobs.js`, the same launcher `npx stepjobs` runs), for
 * the tests that need processes: crash tests kill one with SIGKILL, and the multi-process tests run several
 * at once on one data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const LAUNCHER = path.resolve(__dirname, '..', '..', 'bin', 'stepjobs.js');

export interface ChildCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (and been reaped), with its exit code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout or stderr has printed text matching `pattern`. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): ChildCli {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const onData = () => waiters.splice(0).forEach((check) => check());
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    onData();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    onData();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    printed: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`${args.join(' ')} did not print ${pattern} in ${timeoutMs} ms:\n${out}\n${err}`),
            ),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(out) || pattern.test(err)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
  };
}

/** Run the CLI to its end; resolves with its exit code and output. */
export async function runChildCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args, env);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
