/**
 * The CLI end to end, in-process, on the local target: `main(argv)` with stdout and stderr captured. The
 * local ledger lives in a temporary STEPJOBS_DATA_DIR, so the developer's .stepjobs history is never touched.
 * Each `main` call synthesizes the app and starts dynalite (a few hundred ms once the modules are loaded).
 */
import '../helpers/quiet';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from '../helpers/cli';
import { ExitCode } from '../../bin/cli/errors';
import { reportError } from '../../bin/stepjobs';
import { LedgerUnavailable } from '../../shared/errors';

/** Run the CLI with `args` on the process environment (this file points STEPJOBS_DATA_DIR at a temp dir). */
function cli(...args: string[]): Promise<CliResult> {
  return runCli(args);
}

/** A usage error: exit 2 and exactly one line on stderr, without a stack trace. */
function expectUsageError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(ExitCode.USAGE);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toContain('    at ');
}

let dataDir: string;
const savedDataDir = process.env.STEPJOBS_DATA_DIR;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-cli-'));
  process.env.STEPJOBS_DATA_DIR = dataDir;
});

afterAll(() => {
  if (savedDataDir === undefined) delete process.env.STEPJOBS_DATA_DIR;
  else process.env.STEPJOBS_DATA_DIR = savedDataDir;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('stepjobs (local)', () => {
  /** The run every read command below looks at. */
  let runId: string;

  beforeAll(async () => {
    const result = await cli('run', 'heartbeat');
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).toContain('▶ Heartbeat');
    const summary = /^Run (\S+): SUCCEEDED in \d+ ms$/m.exec(result.stdout);
    expect(summary).not.toBeNull();
    runId = summary?.[1] ?? '';
  });

  it('keeps the ledger in STEPJOBS_DATA_DIR', () => {
    expect(runId).toMatch(/^cli-/);
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);
  });

  it('lists the run in the job history', async () => {
    const result = await cli('history', 'heartbeat');
    expect(result.code).toBe(ExitCode.OK);
    const row = result.stdout.split('\n').find((line) => line.includes(runId));
    expect(row).toMatch(/SUCCEEDED/);
    expect(row).toMatch(/cli \(local:/);
  });

  it('prints the history as JSON with --json', async () => {
    const result = await cli('history', 'heartbeat', '--json');
    expect(result.code).toBe(ExitCode.OK);
    const page = JSON.parse(result.stdout) as { items: Array<{ runId: string; status: string }> };
    expect(page.items).toContainEqual(expect.objectContaining({ runId, status: 'SUCCEEDED' }));
  });

  it('shows the run with its trigger and the Heartbeat step', async () => {
    const result = await cli('show', runId);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain(`Run ${runId}`);
    expect(result.stdout).toMatch(/status {5}SUCCEEDED/);
    expect(result.stdout).toMatch(/trigger {4}cli \(local:/);
    expect(result.stdout).toMatch(/│ Heartbeat\s+│ SUCCEEDED\s+│ 1 /);
  });

  it('shows the run as JSON with --json', async () => {
    const result = await cli('show', runId, '--json');
    expect(result.code).toBe(ExitCode.OK);
    const detail = JSON.parse(result.stdout) as {
      run: { runId: string; status: string; trigger: { type: string }; input: unknown };
      steps: Array<{ name: string; status: string }>;
    };
    expect(detail.run).toMatchObject({
      runId,
      status: 'SUCCEEDED',
      trigger: { type: 'cli' },
      input: { text: '{"message":"heartbeat"}' },
    });
    expect(detail.steps).toEqual([expect.objectContaining({ name: 'Heartbeat', status: 'SUCCEEDED' })]);
  });

  it('records a run with invalid input as FAILED, exits 1 and names the field', async () => {
    const result = await cli('run', 'heartbeat', '--input', '{"message":5}');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(ExitCode.RUN_FAILED);
    expect(result.stdout).toMatch(/^Run \S+: FAILED in \d+ ms — InvalidInput: .*message: /m);
  });

  it('rejects malformed --input JSON in one line on stderr', async () => {
    const result = await cli('run', 'heartbeat', '--input', '{bad');
    expectUsageError(result, /^stepjobs: --input is not valid JSON/);
    expect(result.stdout).toBe('');
  });

  it('records the exact digits of a number a double cannot hold, in a FAILED run (exit 1)', async () => {
    const result = await cli('run', 'heartbeat', '--input', '{"n":12345678901234567890}', '--json');
    expect(result).toMatchObject({ code: ExitCode.RUN_FAILED, stderr: '' });
    const detail = JSON.parse(result.stdout) as { run: { status: string; rawInput: { text: string } } };
    expect(detail.run.status).toBe('FAILED');
    expect(detail.run.rawInput.text).toMatch(/^\{"n":12345678901234567890,"trigger":\{"type":"cli"/);
  });

  it('refuses an input over 256 KiB as StartExecution would, in one line', async () => {
    const file = path.join(dataDir, 'big.json');
    writeFileSync(file, JSON.stringify({ message: 'x', pad: 'y'.repeat(300 * 1024) }));
    expectUsageError(
      await cli('run', 'heartbeat', '--input-file', file),
      /^stepjobs: --input-file .*big\.json is 300\.0 KiB; Step Functions accepts an execution input of at most 256 KiB\n$/,
    );
  });

  it('refuses an input nested 5,000 deep in one line, and records one nested 1,000 deep as InvalidInput', async () => {
    const nest = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    expectUsageError(
      await cli('run', 'heartbeat', '--input', nest(5_000)),
      /nests objects or arrays deeper than 1000 levels .*Step Functions refuses/,
    );
    const recorded = await cli('run', 'heartbeat', '--input', nest(990));
    expect(recorded).toMatchObject({ code: ExitCode.RUN_FAILED, stderr: '' });
    expect(recorded.stdout).toMatch(/InvalidInput: .*nests objects or arrays deeper than 64 levels/);
  });

  it('names the known jobs when the job is unknown', async () => {
    expectUsageError(await cli('run', 'nojob'), /Unknown job "nojob"\. Known jobs: heartbeat/);
  });

  it('says when there is no such run', async () => {
    expectUsageError(await cli('show', 'nope'), /No run "nope" in the local ledger/);
  });

  it('names --trigger, --until and --cursor when it cannot read them', async () => {
    expectUsageError(
      await cli('history', 'heartbeat', '--trigger', 'cron'),
      /--trigger "cron" must be one of schedule, manual, cli/,
    );
    expectUsageError(await cli('audit', '--until', 'tomorrow'), /--until "tomorrow"/);
    expectUsageError(
      await cli('audit', '--since', '1d', '--until', '2d'),
      /--since .* is not before --until/,
    );
    expectUsageError(await cli('audit', '--json', '--csv'), /--json and --csv cannot be used together/);
    expectUsageError(await cli('history', 'heartbeat', '--cursor', 'bogus'), /Invalid page cursor "bogus"/);
  });

  it('names --since when it cannot read it', async () => {
    expectUsageError(await cli('history', 'heartbeat', '--since', 'yesterday'), /--since "yesterday"/);
  });

  it('refuses --dry-run for a job without a dry-run mode', async () => {
    expectUsageError(await cli('run', 'heartbeat', '--dry-run'), /"heartbeat" has no dry-run mode/);
  });

  it('pauses and resumes a job', async () => {
    const pausedFlag = async () => {
      const result = await cli('jobs', '--json');
      expect(result.code).toBe(ExitCode.OK);
      const jobs = JSON.parse(result.stdout) as Array<{ id: string; paused: boolean; deployed: boolean }>;
      const heartbeat = jobs.find((j) => j.id === 'heartbeat');
      expect(heartbeat?.deployed).toBe(true);
      return heartbeat?.paused;
    };

    const paused = await cli('pause', 'heartbeat', '--reason', 'testing');
    expect(paused.code).toBe(ExitCode.OK);
    expect(paused.stdout).toContain('Paused heartbeat');
    expect(await pausedFlag()).toBe(true);

    const resumed = await cli('resume', 'heartbeat');
    expect(resumed.code).toBe(ExitCode.OK);
    expect(resumed.stdout).toContain('Resumed heartbeat');
    expect(await pausedFlag()).toBe(false);
  });

  it('simulates the schedule in [--from, --to] with every slot delivered twice: one run and one DUPLICATE per slot', async () => {
    const result = await cli(
      'schedule',
      '--local',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-01T00:30:00Z',
      '--deliver-twice',
    );
    expect(result.code).toBe(ExitCode.OK);
    const deliveries = result.stdout.split('\n').filter((line) => / delivery [12] /.test(line));
    // Both ends fire: --from is a slot of the 10-minute heartbeat, and so is --to.
    expect(deliveries).toHaveLength(8);
    expect(deliveries.filter((line) => / SUCCEEDED /.test(line))).toHaveLength(4);
    expect(deliveries.filter((line) => / DUPLICATE /.test(line))).toHaveLength(4);
    for (const slot of ['00:00:00Z', '00:10:00Z', '00:20:00Z', '00:30:00Z']) {
      expect(deliveries.filter((line) => line.startsWith(`2026-01-01T${slot}`))).toHaveLength(2);
    }
  });
});

describe('stepjobs usage errors', () => {
  it('needs both --from and --to for the simulated clock', async () => {
    expectUsageError(
      await cli('schedule', '--local', '--from', '2026-01-01T00:00:00Z'),
      /Give both --from and --to/,
    );
  });

  it('reports an unknown option with exit 2', async () => {
    const result = await cli('run', 'heartbeat', '--bogus');
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("unknown option '--bogus'");
    expect(result.stderr).not.toContain('    at ');
  });

  it('explains in one line that --aws has no region or credentials', async () => {
    // Local runs in this process set AWS_* (dummy credentials, endpoints); take them all away.
    const saved = Object.entries(process.env).filter(([name]) => name.startsWith('AWS_'));
    for (const [name] of saved) delete process.env[name];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: path.join(dataDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dataDir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      expectUsageError(await cli('--aws', 'jobs'), /^stepjobs: No AWS (region|credentials)/);
    } finally {
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      Object.assign(process.env, Object.fromEntries(saved));
    }
  });

  it('reports an unavailable ledger in one line with exit 75, and any unexpected error in one line with exit 70', () => {
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stderr.write);
    try {
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      expect(reportError(new LedgerUnavailable(throttled), false)).toBe(ExitCode.UNAVAILABLE);
      expect(reportError(new TypeError('x is not a function\n    at somewhere (file.ts:1:1)'), false)).toBe(
        ExitCode.INTERNAL,
      );
    } finally {
      stderr.mockRestore();
    }
    expect(written.join('')).toBe(
      [
        'stepjobs: The ledger (DynamoDB) is unavailable: ThrottlingException: Rate exceeded; nothing was lost, try again',
        'stepjobs: unexpected TypeError: x is not a function',
        '(set STEPJOBS_DEBUG=1 for the stack trace)',
        '',
      ].join('\n'),
    );
  });

  it('documents STEPJOBS_DATA_DIR in the help', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toMatch(/STEPJOBS_DATA_DIR +where local mode keeps its DynamoDB data/);
  });
});
