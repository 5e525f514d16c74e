/**
 * bench/release-scale: the release job over simulated accounts of 1,000, 10,000 and 100,000 resources, side
 * by side in one process: discover (paginated), evaluate and record the plan in slices (one Plan invocation
 * per slice), then Report; optionally apply. The embedded DynamoDB (the ledger and the simulated account) runs
 * in a process of its own, so the heap measured here is the engine's and the handlers', not the data's.
 *
 *   npx tsx --expose-gc bench/release-scale.ts [--sizes 1000,10000,100000] [--apply]
 *
 * Goals (issue "Lean and scalable"): heap peak at the largest size at most 1.3x the heap peak at the smallest;
 * every payload under 256 KiB and the history far under 25,000 events, whatever the size.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalRuntime, type EngineEvent } from '../local/runtime';
import {
  historyEventEstimate,
  MAX_HISTORY_EVENTS,
  MAX_PAYLOAD_BYTES,
  maxPayloadBytes,
} from '../local/service-limits';
import { prepareSimulatedAccount, scaleInventory } from '../local/simulated-account';
import { synthesizeTemplate } from '../local/synth';
import type { PlanOutput } from '../tasks/release/plan';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    apply: { type: 'boolean', default: false },
  },
});
const sizes = (values.sizes ?? '').split(',').map(Number);
if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 10)) {
  process.stderr.write(
    'bench: --sizes must list at least two whole numbers of at least 10, comma-separated\n',
  );
  process.exit(2);
}
const HEAP_GOAL_RATIO = 1.3;
const gc = (globalThis as { gc?: () => void }).gc;

interface Measure {
  resources: number;
  wallMs: number;
  planMs: number;
  reportMs: number;
  planInvocations: number;
  planned: number;
  maxPayloadBytes: number;
  historyEvents: number;
  heapPeakMb: number;
  /** The largest heap still in use after a full collection, sampled twice a second: what the run holds. */
  liveHeapPeakMb: number;
}

async function startDynamoProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'fixtures', 'dynamodb-process.ts')],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
  for await (const line of lines) {
    lines.close();
    return { endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, child };
  }
  throw new Error('the DynamoDB process ended before it said where it listens');
}

async function measure(runtime: LocalRuntime, n: number): Promise<Measure> {
  // The seed is built here and written to the other process; it is garbage before the run starts.
  await prepareSimulatedAccount(runtime.dynamoClient, { reset: true, seed: (now) => scaleInventory(n, now) });
  gc?.();
  const events: Array<NonNullable<EngineEvent>> = [];
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 10);
  let liveHeapPeak = process.memoryUsage().heapUsed;
  const liveSampler = gc
    ? setInterval(() => {
        gc();
        liveHeapPeak = Math.max(liveHeapPeak, process.memoryUsage().heapUsed);
      }, 500)
    : undefined;
  const started = performance.now();
  const result = await runtime.run(
    'release-idle-resources',
    { dryRun: !values.apply, policy: { caps: { maxReleasesPerType: n, maxPercentPerType: 100 } } },
    // Only what the measures need: keeping every state's payload would hold the events, not the job.
    { onEvent: (event) => events.push(event) },
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  clearInterval(liveSampler);
  if (result.status !== 'SUCCEEDED')
    throw new Error(`run ended ${result.status}: ${result.error} ${result.cause}`);
  const { steps } = await runtime.ledger.runs.detail(result.runId);
  const sum = (name: string) =>
    steps.filter((s) => s.name === name).reduce((total, s) => total + (s.durationMs ?? 0), 0);
  const plan = steps.filter((s) => s.name === 'Plan');
  const last = JSON.parse(plan.at(-1)?.output?.text ?? '{}') as Partial<PlanOutput>;
  const planned = last.planned ? last.planned.mark + last.planned.release + last.planned.cancel : 0;
  return {
    resources: n,
    wallMs,
    planMs: sum('Plan'),
    reportMs: sum('Report'),
    planInvocations: plan.length,
    planned,
    maxPayloadBytes: maxPayloadBytes(events),
    historyEvents: historyEventEstimate(events),
    heapPeakMb: heapPeak / 1024 / 1024,
    liveHeapPeakMb: liveHeapPeak / 1024 / 1024,
  };
}

async function main(): Promise<void> {
  const dynamo = await startDynamoProcess();
  const runtime = await LocalRuntime.start({
    template: synthesizeTemplate(),
    dynamoEndpoint: dynamo.endpoint,
    logLevel: 'SILENT',
  });
  try {
    const results: Measure[] = [];
    for (const n of sizes) {
      results.push(await measure(runtime, n));
      process.stderr.write(`measured ${n} resources\n`);
    }
    const line = (m: Measure) =>
      [
        `${String(m.resources).padStart(7)} resources`,
        `${(m.wallMs / 1000).toFixed(2).padStart(7)} s wall`,
        `Plan ${(m.planMs / 1000).toFixed(2)} s in ${m.planInvocations} invocation${m.planInvocations === 1 ? '' : 's'}`,
        `Report ${(m.reportMs / 1000).toFixed(2)} s`,
        `${m.planned} planned`,
        `largest payload ${(m.maxPayloadBytes / 1024).toFixed(1)} KiB`,
        `~${m.historyEvents} history events`,
        `heap peak ${m.heapPeakMb.toFixed(0)} MiB (live ${m.liveHeapPeakMb.toFixed(0)} MiB)`,
      ].join(' · ');
    const first = results[0] as Measure;
    const last = results.at(-1) as Measure;
    const heapRatio = last.heapPeakMb / first.heapPeakMb;
    const liveRatio = last.liveHeapPeakMb / first.liveHeapPeakMb;
    const maxPayload = Math.max(...results.map((m) => m.maxPayloadBytes));
    const maxEvents = Math.max(...results.map((m) => m.historyEvents));
    process.stdout.write(
      [
        `bench/release-scale (${values.apply ? 'plan + apply' : 'dry run: discover, evaluate, plan, report'}), Node ${process.version}${gc ? '' : ' (run with --expose-gc for a clean heap baseline)'}`,
        ...results.map(line),
        `heap peak ${last.resources} vs ${first.resources}: ${heapRatio.toFixed(2)}x (goal <= ${HEAP_GOAL_RATIO}x): ${heapRatio <= HEAP_GOAL_RATIO ? 'met' : 'NOT met'}`,
        `live heap peak ${last.resources} vs ${first.resources}: ${liveRatio.toFixed(2)}x (goal <= ${HEAP_GOAL_RATIO}x): ${liveRatio <= HEAP_GOAL_RATIO ? 'met' : 'NOT met'}`,
        `largest payload ${(maxPayload / 1024).toFixed(1)} KiB of ${MAX_PAYLOAD_BYTES / 1024} KiB: ${(maxPayload / MAX_PAYLOAD_BYTES).toFixed(3)}x the limit`,
        `most history events ~${maxEvents} of ${MAX_HISTORY_EVENTS}: ${(maxEvents / MAX_HISTORY_EVENTS).toFixed(3)}x the limit`,
        `time ${last.resources} vs ${first.resources}: ${(last.wallMs / first.wallMs).toFixed(1)}x for ${(last.resources / first.resources).toFixed(0)}x resources`,
        JSON.stringify({ bench: 'release-scale', apply: values.apply, results }),
      ].join('\n') + '\n',
    );
  } finally {
    await runtime.stop();
    dynamo.child.stdin?.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exit(1);
});
