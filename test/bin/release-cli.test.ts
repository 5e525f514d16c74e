/**
 * The CLI around the release job, in-process on the local target: `main(argv)` with stdout and stderr
 * captured and the local ledger and simulated account in a temporary STEPJOBS_DATA_DIR. Like a person at a
 * terminal, the tests run one session in order: `start` (a dry run), a run that applies, then the read
 * commands on what those two left, and last a reset of the simulated account and a run over a cap.
 */
import '../helpers/quiet';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../../bin/cli/errors';
import type { ActionRecord } from '../../shared/ledger/items';
import { inventorySeed } from '../../local/simulated-account';
import { MAIN_JOB_ID } from '../../workflows';
import { runCli, type CliResult } from '../helpers/cli';

/** Run the CLI on this file's data directory. */
const cli = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: dataDir });

/** The run id from a run summary line (`Run <id>: SUCCEEDED in 123 ms`). */
function runIdOf(result: CliResult): string {
  const match = /^Run (\S+): [A-Z_]+/m.exec(result.stdout);
  if (!match?.[1]) throw new Error(`No run summary in:\n${result.stdout}\n${result.stderr}`);
  return match[1];
}

/** The lines of `text` with a table cell that starts with `cell` (the first line of each such row). */
const rowsWith = (text: string, cell: string) =>
  text.split('\n').filter((line) => line.includes(`│ ${cell} `));

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-release-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** What the default policy plans for the seed: the seed is placed around the time it is first used. */
const SEED = inventorySeed(new Date());
const PLANNED_IDS = SEED.filter((c) => ['mark', 'release', 'cancel'].includes(c.expected ?? '')).map(
  (c) => c.resource.id,
);
const dueInstance = SEED.find((c) => c.resource.type === 'ec2-instance' && c.expected === 'release');
const dueLogGroup = SEED.find((c) => c.resource.type === 'log-group' && c.expected === 'release');

describe('stepjobs start, then a run that applies', () => {
  let start: CliResult;
  let startRunId: string;
  let applied: CliResult;
  let appliedRunId: string;

  beforeAll(async () => {
    start = await cli('start');
    startRunId = runIdOf(start);
    applied = await cli('run', MAIN_JOB_ID, '--no-dry-run');
    appliedRunId = runIdOf(applied);
  }, 120_000);

  it('start runs the main job as a dry run against the simulated account, and says so', () => {
    expect(MAIN_JOB_ID).toBe('release-idle-resources');
    expect(start).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(start.stdout).toMatch(new RegExp(`^Run ${startRunId}: SUCCEEDED in \\d+ ms$`, 'm'));
    expect(start.stdout).toContain('SIMULATED account');
    expect(start.stdout).toContain('DRY RUN: the plan below was recorded; nothing was changed.');
    expect(start.stdout).toContain('Would release:');
    expect(start.stdout).toMatch(/Estimated monthly saving if applied: \$\d+\.\d\d/);
    expect(start.stdout).toContain(`stepjobs actions ${startRunId}`);
  });

  it('start prints the counts per type', () => {
    const header = start.stdout
      .split('\n')
      .find((line) => line.includes('│ type ') && line.includes('discovered'));
    expect(header).toMatch(/discovered.*not opted in.*protected.*not idle.*in grace.*mark.*release.*cancel/);
    for (const type of ['ec2-instance', 'ebs-volume', 'ebs-snapshot', 'elastic-ip', 'log-group']) {
      const [row] = rowsWith(start.stdout, type).filter((line) => /│\s+\d+\s+│/.test(line));
      const counts = (row ?? '')
        .split('│')
        .slice(2, -1)
        .map((cell) => Number(cell.trim()));
      const seeded = SEED.filter((c) => c.resource.type === type);
      const count = (expected: string) => seeded.filter((c) => c.expected === expected).length;
      // discovered, not opted in, protected, not idle, in grace, mark, release, cancel
      expect({ type, plan: counts.slice(4) }).toEqual({
        type,
        plan: [count('in-grace'), count('mark'), count('release'), count('cancel')],
      });
      expect(counts[0]).toBe(seeded.filter((c) => c.expected !== 'invisible').length);
    }
  });

  it('actions <runId> lists every action of the run', async () => {
    const result = await cli('actions', startRunId);
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).toContain(`Actions of run ${startRunId} (release-idle-resources, SUCCEEDED):`);
    for (const id of PLANNED_IDS) {
      expect({ id, rows: rowsWith(result.stdout, id).length }).toEqual({ id, rows: 1 });
    }
    expect(result.stdout.match(/│ PLANNED /g)).toHaveLength(PLANNED_IDS.length);
  });

  it('actions <runId> --outcome PLANNED --json prints the records as JSON', async () => {
    const result = await cli('actions', startRunId, '--outcome', 'PLANNED', '--json');
    expect(result.code).toBe(ExitCode.OK);
    const actions = JSON.parse(result.stdout) as ActionRecord[];
    expect(actions.map((a) => a.resourceId).sort()).toEqual([...PLANNED_IDS].sort());
    expect(actions.every((a) => a.runId === startRunId && a.outcome === 'PLANNED' && a.dryRun)).toBe(true);

    const none = await cli('actions', startRunId, '--outcome', 'DONE');
    expect(none.stdout).toContain('recorded no actions with outcome DONE');
  });

  it('actions of an unknown run is a usage error', async () => {
    const result = await cli('actions', 'nope');
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toMatch(/^stepjobs: No run "nope" in the local ledger\n$/);
  });

  it('run --no-dry-run applies, and its summary says what was released', () => {
    expect(applied).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(applied.stdout).toMatch(new RegExp(`^Run ${appliedRunId}: SUCCEEDED`, 'm'));
    expect(applied.stdout).toContain('Applied: the outcomes below were recorded.');
    expect(applied.stdout).toContain('Released:');
    expect(applied.stdout).not.toContain('DRY RUN');
    expect(applied.stdout).toMatch(/Estimated monthly saving: \$\d+\.\d\d/);
    expect(rowsWith(applied.stdout, dueInstance?.resource.id ?? '?').join()).toMatch(/│ DONE /);
  });

  it('resource <id> shows what every run carried out on it, newest first; dry runs are kept per run', async () => {
    const id = dueInstance?.resource.id ?? '?';
    const result = await cli('resource', id);
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).toContain(
      `Actions carried out on ${id}, newest first (dry runs are listed per run: stepjobs actions <runId>):`,
    );
    const rows = rowsWith(result.stdout, appliedRunId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/release \(stop\)\s+│ DONE /);
    // The dry run of npm start planned the same release: it is in that run's actions, not indexed by resource.
    expect(rowsWith(result.stdout, startRunId)).toEqual([]);
    const dry = await cli('actions', startRunId);
    expect(rowsWith(dry.stdout, id).join()).toMatch(/release \(stop\)\s+│ PLANNED /);

    const unknown = await cli('resource', 'vol-0nothing');
    expect(unknown.stdout).toContain(
      'No job has carried out an action on vol-0nothing. Dry runs plan without acting and are listed per run: stepjobs actions <runId>.',
    );
  });

  it('simulated-account lists the account as it is now, and says it is simulated', async () => {
    const result = await cli('simulated-account');
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).toMatch(
      /^SIMULATED account \(local mode only; nothing here exists in AWS\): \d+ resources/,
    );
    expect(rowsWith(result.stdout, dueInstance?.resource.id ?? '?').join()).toMatch(/│ stopped /);
    expect(result.stdout).toContain(dueLogGroup?.resource.id ?? '?');
  });
});

describe('stepjobs simulated-account --reset, then a run over a cap', () => {
  it('--reset seeds the account again: released resources are back', async () => {
    const result = await cli('simulated-account', '--reset');
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    expect(result.stdout).toMatch(/^SIMULATED account .*, seeded again: \d+ resources/);
    const count = Number(/seeded again: (\d+) resources/.exec(result.stdout)?.[1]);
    expect(count).toBe(SEED.length);
    expect(rowsWith(result.stdout, dueInstance?.resource.id ?? '?').join()).toMatch(/│ running /);

    const json = await cli('simulated-account', '--json');
    const ids = (JSON.parse(json.stdout) as Array<{ id: string }>).map((r) => r.id).sort();
    expect(ids).toEqual(SEED.map((c) => c.resource.id).sort());
  });

  it('a run over a blast-radius cap exits 1 and names BlastRadiusExceeded', async () => {
    const result = await cli(
      'run',
      MAIN_JOB_ID,
      '--input',
      '{"policy":{"caps":{"maxReleasesPerType":0}}}',
      '--no-dry-run',
    );
    expect(result.code).toBe(ExitCode.RUN_FAILED);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /^Run \S+: FAILED in \d+ ms — BlastRadiusExceeded: .*maxReleasesPerType is 0/m,
    );
    // The summary does not pass the failed run off as a dry run, nor as a plan that was carried out.
    expect(result.stdout).toContain(
      'NOT APPLIED: the run failed (BlastRadiusExceeded) before changing anything; nothing was changed.',
    );
    expect(result.stdout).toMatch(/It planned \d+ actions, never applied: npx stepjobs actions \S+/);
    expect(result.stdout).not.toContain('DRY RUN');
    expect(result.stdout).not.toContain('Estimated monthly saving');
    // Nothing was touched: the account is still as seeded.
    const account = await cli('simulated-account');
    expect(rowsWith(account.stdout, dueInstance?.resource.id ?? '?').join()).toMatch(/│ running /);
  });
});
