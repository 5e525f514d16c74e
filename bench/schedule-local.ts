/**
 * bench/schedule-local: `stepjobs schedule --local` over 30 days of the heartbeat (every 10 minutes: 4,320
 * runs) on the simulated clock, as a user runs it: the CLI in a process of its own, a fresh data directory, the
 * real SDK and the local ledger server in the path. Prints the wall time next to the goal.
 *
 *   npx tsx bench/schedule-local.ts [--days 30]
 *
 * Goal (issue "Lean and scalable"): under 60 s on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { days: { type: 'string', default: '30' } } });
const days = Number(values.days);
const GOAL_S = 60;
const from = '2026-06-01T00:00:00Z';
// The window includes both ends: up to a second before the 31st day, so exactly days x 144 slots.
const to = new Date(Date.parse(from) + days * 86_400_000 - 1000).toISOString();

const dir = mkdtempSync(path.join(tmpdir(), 'stepjobs-bench-schedule-'));
try {
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [
      path.join(__dirname, '..', 'bin', 'stepjobs.js'),
      'schedule',
      '--local',
      '--from',
      from,
      '--to',
      to,
      '--job',
      'heartbeat',
    ],
    {
      env: { ...process.env, STEPJOBS_DATA_DIR: path.join(dir, 'data') },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`schedule exited ${result.status}: ${result.stderr}`);
  const succeeded = Number(/│ SUCCEEDED\s*│\s*(\d+)/.exec(result.stdout)?.[1] ?? 0);
  const expected = days * 144;
  process.stdout.write(
    [
      `bench/schedule-local: stepjobs schedule --local, heartbeat every 10 minutes for ${days} days, Node ${process.version}`,
      `${succeeded} of ${expected} runs SUCCEEDED in ${seconds.toFixed(1)} s (${((seconds * 1000) / expected).toFixed(1)} ms a run, start-up included)`,
      days === 30
        ? `goal < ${GOAL_S} s: ${(seconds / GOAL_S).toFixed(2)}x the goal${succeeded === expected ? '' : ' (NOT every run succeeded)'}`
        : `(the goal, under ${GOAL_S} s, is for 30 days)`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
