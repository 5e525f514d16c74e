/**
 * bench/bundles: every task's Lambda bundle next to a baseline built with the same esbuild settings (the
 * Powertools logger, tracer and metrics plus the DynamoDB document client: bench/fixtures/baseline-handler.ts).
 * For each: minified size, gzip size, and the median cold `require()` over several fresh Node processes, as a
 * ratio to the baseline's. Goals: every bundle at most 150 KB, every cold require at most 1.3x the baseline.
 *
 *   npx tsx bench/bundles.ts [--samples 11]
 *
 * The cold requires go round by round, each round every bundle once (the baseline included), so that a slow
 * moment of a noisy machine falls on all of them rather than on whichever was measured then.
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { synthesizeTemplate } from '../local/synth';
import { lambdaFunctions } from '../local/template';
import { REPO_ROOT } from '../stacks/constructs/task-function';
import { buildBundle, coldRequireMs } from './bundle-timing';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '11' } } });
const samples = Number(values.samples);
if (!Number.isInteger(samples) || samples < 1) {
  process.stderr.write('bench: --samples must be a positive whole number\n');
  process.exit(2);
}

const SIZE_GOAL_KB = 150;
const REQUIRE_GOAL_RATIO = 1.3;
const BASELINE = 'bench/fixtures/baseline-handler.ts';
// Inside the repository, so that `require` finds the AWS SDK (external, as in Lambda) in node_modules.
const OUT = path.join(REPO_ROOT, 'bench', 'results', 'bundles');

interface Measured {
  entry: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  requireMs: number;
}

async function build(entry: string, index: number): Promise<Measured> {
  const file = await buildBundle(entry, path.join(OUT, String(index)));
  const content = readFileSync(file);
  return { entry, file, bytes: statSync(file).size, gzipBytes: gzipSync(content).length, requireMs: 0 };
}

/** Each bundle's median cold require, measured round by round across all of them. */
function timeRequires(bundles: Measured[]): void {
  const times = bundles.map(() => [] as number[]);
  for (let round = 0; round < samples; round++)
    for (const [i, bundle] of bundles.entries()) times[i]?.push(coldRequireMs(bundle.file, 1));
  for (const [i, bundle] of bundles.entries()) {
    const sorted = (times[i] ?? []).sort((a, b) => a - b);
    bundle.requireMs = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  }
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const entries = [...new Set(lambdaFunctions(synthesizeTemplate()).map((fn) => fn.entry))].sort();
  const baseline = await build(BASELINE, 0);
  const tasks: Measured[] = [];
  for (const [i, entry] of entries.entries()) tasks.push(await build(entry, i + 1));
  timeRequires([baseline, ...tasks]);

  // Loaded when a task first calls the service: Plan and ApplyBatch (tasks/release/sdk.ts), the notifier's
  // EventBridge (every run), SNS and Secrets Manager (tasks/notify/channels.ts), the digest's S3
  // (tasks/audit-digest/report-store.ts).
  const lazy = [
    '@aws-sdk/client-ec2',
    '@aws-sdk/client-cloudwatch-logs',
    '@aws-sdk/client-sts',
    '@aws-sdk/client-resource-groups-tagging-api',
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/client-sns',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-s3',
  ].map((pkg) => `${pkg} ${coldRequireMs(require.resolve(pkg), samples).toFixed(0)} ms`);
  const kb = (bytes: number) => (bytes / 1000).toFixed(1);
  const rows = [baseline, ...tasks].map((m) => {
    const ratio = m.requireMs / baseline.requireMs;
    const sizeOk = m === baseline || m.bytes <= SIZE_GOAL_KB * 1000;
    const requireOk = m === baseline || ratio <= REQUIRE_GOAL_RATIO;
    return [
      m === baseline ? `${m.entry} (baseline)` : m.entry,
      `${kb(m.bytes)} KB`,
      `${kb(m.gzipBytes)} KB`,
      `${m.requireMs.toFixed(0)} ms`,
      `${ratio.toFixed(2)}x`,
      m === baseline ? '' : `${sizeOk ? 'ok' : 'OVER'} / ${requireOk ? 'ok' : 'OVER'}`,
    ];
  });
  const head = ['bundle', 'minified', 'gzip', 'cold require (median)', 'vs baseline', 'size / require'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
  process.stdout.write(
    [
      `bench/bundles: ${tasks.length} task bundles vs the baseline, ${samples} cold requires each (Node ${process.version})`,
      `goals: minified <= ${SIZE_GOAL_KB} KB, cold require <= ${REQUIRE_GOAL_RATIO}x the baseline`,
      '',
      line(head),
      ...rows.map(line),
      '',
      `loaded on first use, not at cold require: ${lazy.join(', ')}`,
      `largest bundle: ${kb(Math.max(...tasks.map((t) => t.bytes)))} KB (goal ${SIZE_GOAL_KB} KB); ` +
        `slowest require: ${(Math.max(...tasks.map((t) => t.requireMs)) / baseline.requireMs).toFixed(2)}x the baseline (goal ${REQUIRE_GOAL_RATIO}x)`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exit(1);
});
