/**
 * bench/cost: what a run costs on AWS, from what real runs of the synthesized definitions do locally. For each
 * run it measures state transitions (the engine's StateEntered events), Lambda invocations and their durations
 * (the runtime's onInvoke), write and read units (the pricing proxy of bench/capacity.ts) and the bytes the run
 * leaves in the ledger, then prices them with us-east-1 on-demand prices. INIT is each bundle's cold
 * `require()` (bench/bundle-timing.ts) plus an empty Node process's start, billed once per distinct function
 * per run (a cold start each run: the upper bound for a job that runs every 10 minutes or less often).
 *
 *   npx tsx bench/cost.ts [--runs 20] [--resources 1000,10000] [--samples 5]
 *
 * Locally the release job's AWS calls are answered in-process, so its Lambda durations leave out AWS API
 * latency; docs/cost.md adds an estimate from the adapters' page sizes.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { readOutbox } from '../local/outbox';
import { LocalRuntime } from '../local/runtime';
import { schedulerInput } from '../local/schedule-simulator';
import { prepareSimulatedAccount, scaleInventory } from '../local/simulated-account';
import { synthesizeTemplate } from '../local/synth';
import { resourcesOfType, tableInputs, type LocalFunction } from '../local/template';
import { DEFAULT_RETENTION_DAYS } from '../shared/constants';
import { REPO_ROOT } from '../stacks/constructs/task-function';
import { buildBundle, coldRequireMs } from './bundle-timing';
import { CapacityProxy, storedBytes, tableDef, type TableDef } from './capacity';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    resources: { type: 'string', default: '1000,10000' },
    samples: { type: 'string', default: '5' },
  },
});
const runs = Number(values.runs);
const sizes = values.resources.split(',').map(Number);
const samples = Number(values.samples);
if (![runs, samples, ...sizes].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write('bench: --runs, --samples and each of --resources must be positive whole numbers\n');
  process.exit(2);
}

/** us-east-1 on-demand prices (December 2026), before free tiers. */
const PRICE = {
  transition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1e6,
  /** arm64, as every stepjobs function runs (stacks/constructs/task-function.ts). */
  gbSecond: 0.0000133334,
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  storageGbMonth: 0.25,
  schedulerInvocation: 1 / 1e6,
  /** X-Ray: one trace per execution (the state machines trace, and sample every run at this rate). */
  trace: 5 / 1e6,
  /** EventBridge custom events: the run notifier puts a "stepjobs Run Finished" per final run (counted). */
  event: 1 / 1e6,
};
const PARTS = ['transitions', 'lambda', 'writes', 'reads', 'trace', 'events'] as const;
const MONTH_DAYS = 30;
const OUT = path.join(REPO_ROOT, 'bench', 'results', 'cost');

interface Invocation {
  fn: LocalFunction;
  ms: number;
}

interface RunMeasure {
  transitions: number;
  invocations: Invocation[];
  writeUnits: number;
  readUnits: number;
  storedBytes: number;
  /** Events the run notifier put on the bus for the run (local mode's outbox holds them). */
  events: number;
}

/** Sum of what every item in the ledger table is billed for in storage. */
async function ledgerBytes(runtime: LocalRuntime, table: TableDef): Promise<number> {
  let bytes = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await runtime.dynamoClient.send(
      new ScanCommand({ TableName: table.name, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) bytes += storedBytes(table, item);
    start = page.LastEvaluatedKey;
  } while (start);
  return bytes;
}

/** Median wall time of starting an empty Node process: the part of INIT that precedes the handler's module. */
function runtimeStartMs(): number {
  const times = Array.from({ length: samples }, () => {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', ''], { encoding: 'utf8' });
    return performance.now() - started;
  }).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const template = synthesizeTemplate();
  const memoryMb = new Map(
    resourcesOfType(template, 'AWS::Lambda::Function').map(([id, r]) => [
      id,
      Number(r.Properties?.MemorySize ?? 128),
    ]),
  );
  const db = await startEmbeddedDynamoDb();
  const tables = tableInputs(template).map(tableDef);
  const proxy = await CapacityProxy.start(db.endpoint, tables);
  let invocations: Invocation[] = [];
  const runtime = await LocalRuntime.start({
    template,
    dynamoEndpoint: db.endpoint,
    handlerDynamoEndpoint: proxy.endpoint,
    logLevel: 'SILENT',
    onInvoke: (fn, ms) => invocations.push({ fn, ms }),
  });
  const ledger = tables.find((t) => t.name === runtime.tableName);
  if (!ledger) throw new Error(`no table ${runtime.tableName} in the template`);

  const measure = async (jobId: string, input: unknown): Promise<RunMeasure> => {
    const before = await ledgerBytes(runtime, ledger);
    proxy.reset();
    invocations = [];
    let transitions = 0;
    const result = await runtime.run(jobId, input, {
      onEvent: (event) => {
        if (event.type === 'StateEntered') transitions += 1;
      },
    });
    if (result.status !== 'SUCCEEDED') throw new Error(`${jobId} run ${result.runId}: ${result.status}`);
    const tally = proxy.tally;
    const sent = await readOutbox(runtime.dynamoClient, {
      runId: result.runId,
      channel: 'events',
      limit: 100,
    });
    return {
      transitions,
      invocations,
      writeUnits: tally.tableWrites + tally.indexWrites,
      readUnits: tally.reads,
      storedBytes: (await ledgerBytes(runtime, ledger)) - before,
      events: sent.length,
    };
  };

  const lines: string[] = [];
  try {
    // Heartbeat: one warm-up run (handlers loaded, the job state item exists), then scheduled runs in
    // consecutive slots, averaged.
    await runtime.run('heartbeat', {});
    const heartbeat: RunMeasure[] = [];
    const job = runtime.job('heartbeat');
    for (let i = 0; i < runs; i++) {
      const slot = new Date(Date.UTC(2026, 5, 1, 0, 10 * (i + 1))).toISOString().replace('.000', '');
      heartbeat.push(await measure('heartbeat', schedulerInput(job, slot, 1)));
    }
    const release: Array<{ resources: number; dry: RunMeasure; applied: RunMeasure }> = [];
    for (const resources of sizes) {
      const run = async (dryRun: boolean) => {
        await prepareSimulatedAccount(runtime.dynamoClient, {
          reset: true,
          seed: (now) => scaleInventory(resources, now),
        });
        return measure('release-idle-resources', { dryRun });
      };
      release.push({ resources, dry: await run(true), applied: await run(false) });
    }

    // INIT per function: its bundle's cold require plus the runtime's start.
    const startMs = runtimeStartMs();
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const initMs = new Map<string, number>();
    const used = new Map<string, LocalFunction>();
    for (const m of [...heartbeat, ...release.flatMap((r) => [r.dry, r.applied])])
      for (const { fn } of m.invocations) used.set(fn.logicalId, fn);
    for (const [i, fn] of [...used.values()].entries()) {
      const file = await buildBundle(fn.entry, path.join(OUT, String(i)));
      initMs.set(fn.logicalId, startMs + coldRequireMs(file, samples));
    }

    const gb = (id: string) => (memoryMb.get(id) ?? 128) / 1024;
    /** One run priced: each invocation billed to the ms, each distinct function cold once. */
    const price = (m: RunMeasure) => {
      const durationGbS = m.invocations.reduce(
        (s, i) => s + (gb(i.fn.logicalId) * Math.ceil(i.ms)) / 1000,
        0,
      );
      const distinct = new Set(m.invocations.map((i) => i.fn.logicalId));
      const initGbS = [...distinct].reduce((s, id) => s + (gb(id) * (initMs.get(id) ?? 0)) / 1000, 0);
      const dollars = {
        transitions: m.transitions * PRICE.transition,
        lambda: m.invocations.length * PRICE.lambdaRequest + (durationGbS + initGbS) * PRICE.gbSecond,
        writes: m.writeUnits * PRICE.writeUnit,
        reads: m.readUnits * PRICE.readUnit,
        trace: PRICE.trace,
        events: m.events * PRICE.event,
      };
      return { ...m, invocationCount: m.invocations.length, durationGbS, initGbS, dollars };
    };
    type Priced = ReturnType<typeof price>;
    const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    /** The mean of several runs' figures. */
    const meanOf = (priced: readonly Priced[]) => {
      const dollars = Object.fromEntries(
        PARTS.map((part) => [part, mean(priced.map((p) => p.dollars[part]))]),
      ) as Priced['dollars'];
      return {
        transitions: mean(priced.map((p) => p.transitions)),
        invocationCount: mean(priced.map((p) => p.invocationCount)),
        durationGbS: mean(priced.map((p) => p.durationGbS)),
        initGbS: mean(priced.map((p) => p.initGbS)),
        writeUnits: mean(priced.map((p) => p.writeUnits)),
        readUnits: mean(priced.map((p) => p.readUnits)),
        storedBytes: mean(priced.map((p) => p.storedBytes)),
        events: mean(priced.map((p) => p.events)),
        dollars,
        total: Object.values(dollars).reduce((a, b) => a + b, 0),
      };
    };
    const usd = (n: number) => (n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(4)}`);
    const pct = (part: number, whole: number) => `${((part / whole) * 100).toFixed(0)}%`;
    /** Lines for one kind of run; returns its mean figures. */
    const describe = (label: string, measures: readonly RunMeasure[], perMonth: number) => {
      const m = meanOf(measures.map(price));
      // Storage at steady state: a month's runs kept for the retention period.
      const storageMonth =
        ((m.storedBytes * perMonth * (DEFAULT_RETENTION_DAYS / MONTH_DAYS)) / 1024 ** 3) *
        PRICE.storageGbMonth;
      const scheduler = perMonth * PRICE.schedulerInvocation;
      const functions = [...new Set(measures.flatMap((r) => r.invocations.map((i) => i.fn.logicalId)))].map(
        (id) => {
          const own = measures.flatMap((r) => r.invocations.filter((i) => i.fn.logicalId === id));
          const entry = path.basename(own[0]?.fn.entry ?? id, '.ts');
          const ms = mean(own.map((i) => i.ms));
          return `${entry} ${own.length / measures.length}x ${ms.toFixed(0)} ms (${memoryMb.get(id)} MB, INIT ${(initMs.get(id) ?? 0).toFixed(0)} ms)`;
        },
      );
      const db = m.dollars.writes + m.dollars.reads;
      lines.push(
        label,
        `  transitions ${m.transitions.toFixed(1)} → ${usd(m.dollars.transitions)}` +
          ` | Lambda ${m.invocationCount} invocations, ${m.durationGbS.toFixed(3)} GB-s + INIT ${m.initGbS.toFixed(3)} GB-s → ${usd(m.dollars.lambda)}` +
          ` | DynamoDB ${m.writeUnits.toFixed(1)} WU → ${usd(m.dollars.writes)}, ${m.readUnits.toFixed(1)} RU → ${usd(m.dollars.reads)}` +
          ` | X-Ray 1 trace → ${usd(m.dollars.trace)} | EventBridge ${m.events} event${m.events === 1 ? '' : 's'} → ${usd(m.dollars.events)}`,
        `  per run ${usd(m.total)} (transitions ${pct(m.dollars.transitions, m.total)}, Lambda ${pct(m.dollars.lambda, m.total)}, DynamoDB ${pct(db, m.total)}, X-Ray ${pct(m.dollars.trace, m.total)}, EventBridge ${pct(m.dollars.events, m.total)})` +
          ` | ${perMonth} runs a month: ${usd(m.total * perMonth + scheduler)} incl. Scheduler ${usd(scheduler)}` +
          ` | ledger ${(m.storedBytes / 1024).toFixed(1)} KiB a run, kept ${DEFAULT_RETENTION_DAYS} days: ${usd(storageMonth)} a month in storage`,
        `  functions: ${functions.join(', ')}`,
        '',
      );
      return { ...m, month: m.total * perMonth + scheduler };
    };
    const hb = describe(`heartbeat, scheduled every 10 minutes (mean of ${runs} runs)`, heartbeat, 4320);
    const releasePrices = release.map((r) => ({
      resources: r.resources,
      dry: describe(`release-idle-resources at ${r.resources} resources, daily dry run`, [r.dry], 30),
      applied: describe(`release-idle-resources at ${r.resources} resources, applied`, [r.applied], 30),
    }));
    const [small, large] = [releasePrices[0], releasePrices.at(-1)];
    process.stdout.write(
      [
        `bench/cost: cost per run on AWS from local runs of the synthesized definitions (us-east-1 on-demand, before free tiers)`,
        `INIT = an empty Node process's start (${startMs.toFixed(0)} ms here) + the bundle's cold require; one cold start per function per run`,
        '',
        ...lines,
        `heartbeat: ${usd(hb.month)} a month; transitions are ${pct(hb.dollars.transitions, hb.total)} of a run`,
        small && large && small !== large
          ? `release growth ${small.resources} → ${large.resources} resources (${(large.resources / small.resources).toFixed(0)}x): dry run ${(large.dry.total / small.dry.total).toFixed(2)}x, applied ${(large.applied.total / small.applied.total).toFixed(2)}x`
          : '',
        '',
      ].join('\n'),
    );
  } finally {
    await runtime.stop();
    await proxy.stop();
    await db.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
