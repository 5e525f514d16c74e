/**
 * What the bundle benches share: a task's Lambda bundle built as CDK builds it (the same esbuild settings,
 * stacks/constructs/task-function.ts), and its cold `require()` time measured in fresh Node processes.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BUNDLING, REPO_ROOT } from '../stacks/constructs/task-function';

/** Bundle `entry` (relative to the repository root) into `outDir/index.js`; returns the file. */
export async function buildBundle(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'index.js');
  await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    target: BUNDLING.target,
    external: [...BUNDLING.externalModules],
    mainFields: [...BUNDLING.mainFields],
    logLevel: 'error',
  });
  return outfile;
}

/** Median of `samples` cold requires of `file`, each in a new process (nothing cached but the OS's file cache). */
export function coldRequireMs(file: string, samples: number): number {
  const script = `const t=performance.now();require(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t))`;
  const times = Array.from({ length: samples }, () => {
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_TRACE_ENABLED: 'false' },
    });
    if (run.status !== 0) throw new Error(`require(${file}) failed: ${run.stderr}`);
    return Number(run.stdout);
  }).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}
