/**
 * The audit digest end to end through the CLI, on a fresh STEPJOBS_DATA_DIR: runs of the heartbeat (one with a
 * bad input, so FAILED), then `stepjobs run audit-digest` writes its reports to the embedded S3, `stepjobs
 * reports` lists them and `--show` prints them, and the figures are those of the ledger's own records. Two
 * digests running at once in separate processes on the same data directory both land in the same bucket.
 */
import '../helpers/quiet';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../../bin/cli/errors';
import type { RunRecord } from '../../shared/ledger/items';
import type { DigestReport } from '../../tasks/audit-digest/report-files';
import { runChildCli } from '../helpers/child-cli';
import { runCli } from '../helpers/cli';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-digest-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const cliEnv = () => ({ ...process.env, STEPJOBS_DATA_DIR: path.join(dataDir, 'dynamodb') });
const cli = (...args: string[]) => runCli(args, cliEnv());
const runIdOf = (stdout: string) => /^Run (\S+): /m.exec(stdout)?.[1] ?? '';

describe('stepjobs run audit-digest, then stepjobs reports', () => {
  let okRun: string;
  let failedRun: string;
  let digestRun: string;
  let jsonKey: string;

  beforeAll(async () => {
    const ok = await cli('run', 'heartbeat');
    expect(ok.code).toBe(ExitCode.OK);
    okRun = runIdOf(ok.stdout);
    const bad = await cli('run', 'heartbeat', '--input', '{"bogus":1}');
    expect(bad.code).toBe(ExitCode.RUN_FAILED);
    failedRun = runIdOf(bad.stdout);
    const digest = await cli('run', 'audit-digest');
    expect(digest).toMatchObject({ code: ExitCode.OK, stderr: '' });
    digestRun = runIdOf(digest.stdout);
    expect(digest.stdout).toContain('▶ Digest');
    expect(digest.stdout).toMatch(/last day: {4}2 runs, 1 failure, 0 missed/);
    jsonKey = /Read them: npx stepjobs reports --show (\S+)/.exec(digest.stdout)?.[1] ?? '';
  }, 60_000);

  it('writes a JSON and a CSV report that reports lists, newest first', async () => {
    expect(jsonKey).toMatch(/^audit-digest\/\d{4}\/\d{2}\/\d{2}\/cli-.*\.json$/);
    expect(jsonKey).toContain(digestRun);
    const listed = await cli('reports', '--json');
    expect(listed.code).toBe(ExitCode.OK);
    const keys = (JSON.parse(listed.stdout) as Array<{ key: string; size: number }>).map((r) => r.key);
    expect(keys).toEqual([jsonKey, jsonKey.replace(/\.json$/, '.csv')]);
    const table = await cli('reports', '--job', 'audit-digest', '--limit', '1');
    expect(table.stdout).toContain('newest first: 1 of 2');
    expect(table.stdout).toContain(jsonKey);
  });

  it('--show prints the JSON report, whose figures are the ledger’s', async () => {
    const shown = await cli('reports', '--show', jsonKey);
    expect(shown.code).toBe(ExitCode.OK);
    const report = JSON.parse(shown.stdout) as DigestReport;
    expect(report).toMatchObject({
      kind: 'stepjobs.audit-digest',
      runId: digestRun,
      timeZone: 'Europe/Berlin',
    });

    const history = await cli('history', 'heartbeat', '--json', '--limit', '100');
    const runs = (JSON.parse(history.stdout) as { items: RunRecord[] }).items;
    expect(runs.map((r) => r.runId).sort()).toEqual([okRun, failedRun].sort());
    const durations = runs.map((r) => r.durationMs ?? 0).sort((a, b) => a - b);
    const failed = runs.find((r) => r.runId === failedRun);

    const heartbeat = report.jobs.find((j) => j.jobId === 'heartbeat');
    for (const window of [heartbeat?.day, heartbeat?.week]) {
      expect(window).toMatchObject({
        runs: 2,
        byStatus: { SUCCEEDED: 1, FAILED: 1, MISSED: 0 },
        byTrigger: { cli: 2, schedule: 0 },
        missed: 0,
        durations: {
          count: 2,
          // Nearest rank of two: the median is the shorter run, the 95th percentile the longer.
          p50Ms: durations[0],
          p95Ms: durations[1],
          maxMs: durations[1],
        },
        failures: {
          count: 1,
          byError: [
            {
              error: 'InvalidInput',
              count: 1,
              exampleCause: failed?.error?.cause,
              exampleRunId: failedRun,
              lastStartedAt: failed?.startedAt,
            },
          ],
        },
      });
    }
    // The digest's own run started at the windows' end: not in them.
    expect(report.jobs.find((j) => j.jobId === 'audit-digest')?.day.runs).toBe(0);
    expect(report.totals.day).toEqual({ runs: 2, failures: 1, missed: 0 });
    expect(report.release).toMatchObject({ jobId: 'release-idle-resources', day: { runs: 0 } });
  });

  it('--show prints the CSV as it is', async () => {
    const shown = await cli('reports', '--show', jsonKey.replace(/\.json$/, '.csv'));
    expect(shown.code).toBe(ExitCode.OK);
    const lines = shown.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^window,from,to,job,runs,/);
    expect(lines).toHaveLength(1 + 2 * 3);
    expect(lines[1]).toMatch(/^day,[^,]+,[^,]+,heartbeat,2,/);
    expect(lines[1]).toContain('InvalidInput (1)');
  });

  it('a report that does not exist is one line, exit 2', async () => {
    const result = await cli('reports', '--show', 'audit-digest/2000/01/01/none.json');
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^stepjobs: No report "audit-digest\/2000\/01\/01\/none\.json" in the embedded S3/,
      ),
    ]);
  });

  it('two digests in two processes at once on the same data directory both land in the one bucket', async () => {
    const env = { STEPJOBS_DATA_DIR: path.join(dataDir, 'dynamodb') };
    const results = await Promise.all([
      runChildCli(['run', 'audit-digest'], env),
      runChildCli(['run', 'audit-digest'], env),
    ]);
    for (const result of results)
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const ids = results.map((r) => runIdOf(r.stdout));
    const listed = await cli('reports', '--json', '--limit', '100');
    const keys = (JSON.parse(listed.stdout) as Array<{ key: string }>).map((r) => r.key);
    expect(keys).toHaveLength(6);
    for (const id of ids) expect(keys.filter((key) => key.includes(id))).toHaveLength(2);
    // Each is whole: the JSON parses and names its run.
    for (const id of ids) {
      const key = keys.find((k) => k.includes(id) && k.endsWith('.json')) ?? '';
      expect((JSON.parse((await cli('reports', '--show', key)).stdout) as DigestReport).runId).toBe(id);
    }
  }, 120_000);
});
