/**
 * The CLI in-process: `main(argv)` with stdout and stderr captured. Each call starts its own local target (a
 * synth and an embedded DynamoDB), so the environment passed in decides which data directory it uses.
 */
import { main } from '../../bin/stepjobs';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI with `args` (and `env`, @default the process environment), capturing what it writes. */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliResult> {
  const capture = (stream: NodeJS.WriteStream, into: string[]) =>
    jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
  const out: string[] = [];
  const err: string[] = [];
  const stdout = capture(process.stdout, out);
  const stderr = capture(process.stderr, err);
  try {
    const code = await main(args, env);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/**
 * A usage error as the CLI must give it: exit 2 and one line on stderr naming what is wrong (commander's own
 * errors add its "(see stepjobs --help)" pointer), never a stack trace.
 */
export function expectOneLineUsageError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(
    result.stderr
      .trimEnd()
      .split('\n')
      .filter((line) => line !== '(see stepjobs --help)'),
  ).toHaveLength(1);
  expect(result.stderr).not.toContain('    at ');
}
