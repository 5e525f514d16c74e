/**
 * bench/release-scale: the release job over a large simulated account, in one local run: discover (paginated),
 * evaluate, plan (ledger writes) and report, optionally apply. Runs a tenth-size account first, side by
 * side in the same process, so the report shows how time and memory scale with the account (ideally ~10x
 * time for 10x resources, and flat memory: the plan never travels through the state machine).
 *
 *   npx tsx bench/release-scale.ts [--resources 10000] [--apply]
 */
import { parseArgs } from 'node:util';
import { LocalRuntime, type EngineEvent } from '../local/runtime';
import { prepareSimulatedAccount } from '../local/simulated-account';
import { synthesizeTemplate } from '../local/synth';
import { scaleInventory } from '../local/simulated-account';

const { values } = parseArgs({
  options: { resources: { type: 'string', default: '10000' }, apply: { type: 'boolean', default: false } },
});
const resources = Number(values.resources);
if (!Number.isInteger(resources) || resources < 10) {
  process.stderr.write('bench: --resources must be a whole number of at least 10\n');
  process.exit(2);
}

interface Measure {
  resources: number;
  wallMs: number;
  steps: Record<string, number>;
  actions: number;
  events: number;
  maxPayloadBytes: number;
  heapPeakMb: number;
}

async function measure(runtime: LocalRuntime, n: number): Promise<Measure> {
  await prepareSimulatedAccount(runtime.dynamoClient, { reset: true, seed: (now) => scaleInventory(n, now) });
  let events = 0;
  let maxPayloadBytes = 0;
  const onEvent = (event: NonNullable<EngineEvent>) => {
    events += 1;
    if ('state' in event) {
      const state = event.state as { input?: unknown; output?: unknown };
      for (const payload of [state.input, state.output]) {
        if (payload !== undefined)
          maxPayloadBytes = Math.max(maxPayloadBytes, Buffer.byteLength(JSON.stringify(payload)));
      }
    }
  };
  let heapPeak = 0;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const started = performance.now();
  const result = await runtime.run(
    'release-idle-resources',
    { dryRun: !values.apply, policy: { caps: { maxReleasesPerType: n, maxPercentPerType: 100 } } },
    { onEvent },
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  if (result.status !== 'SUCCEEDED')
    throw new Error(`run ended ${result.status}: ${result.error} ${result.cause}`);
  const detail = await runtime.ledger.runs.detail(result.runId);
  const steps: Record<string, number> = {};
  for (const step of detail.steps) steps[step.name] = (steps[step.name] ?? 0) + (step.durationMs ?? 0);
  let actions = 0;
  for await (const _ of runtime.ledger.actions.allByRun(result.runId)) actions += 1;
  return {
    resources: n,
    wallMs,
    steps,
    actions,
    events,
    maxPayloadBytes,
    heapPeakMb: heapPeak / 1024 / 1024,
  };
}

async function main(): Promise<void> {
  const runtime = await LocalRuntime.start({ template: synthesizeTemplate(), logLevel: 'SILENT' });
  try {
    const small = await measure(runtime, Math.max(10, Math.round(resources / 10)));
    const large = await measure(runtime, resources);
    const line = (m: Measure) =>
      [
        `${String(m.resources).padStart(6)} resources`,
        `${(m.wallMs / 1000).toFixed(2).padStart(7)} s wall`,
        `Plan ${((m.steps.Plan ?? 0) / 1000).toFixed(2)} s`,
        ...(values.apply ? [`ApplyBatch (sum) ${((m.steps.ApplyBatch ?? 0) / 1000).toFixed(2)} s`] : []),
        `Report ${((m.steps.Report ?? 0) / 1000).toFixed(2)} s`,
        `${m.actions} actions`,
        `${m.events} engine events`,
        `max payload ${(m.maxPayloadBytes / 1024).toFixed(1)} KiB`,
        `heap peak ${m.heapPeakMb.toFixed(0)} MiB`,
      ].join(' · ');
    const rssMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(
      [
        `bench/release-scale (${values.apply ? 'plan + apply' : 'dry run: discover, evaluate, plan, report'}), Node ${process.version}`,
        line(small),
        line(large),
        `time ratio ${(large.wallMs / small.wallMs).toFixed(1)}x for ${(large.resources / small.resources).toFixed(0)}x resources · peak RSS of the process ${rssMb.toFixed(0)} MiB · payload limit 256 KiB, history limit 25,000 events`,
        JSON.stringify({ bench: 'release-scale', apply: values.apply, small, large, peakRssMb: rssMb }),
      ].join('\n') + '\n',
    );
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exit(1);
});
