/**
 * bench/ledger-units: what each run costs in DynamoDB, request by request, priced by DynamoDB's on-demand
 * rules (bench/capacity.ts: item sizes, index projections, key changes). Real runs of the synthesized
 * definitions through the local runtime, with a pricing proxy between the handlers and the embedded DynamoDB.
 *
 *   npx tsx bench/ledger-units.ts [--resources 1000]
 *
 * Goals (issue "Lean and scalable"): a heartbeat run's lifecycle writes at most 8 write units; the release
 * job's write units per planned resource half of what they were (2.0 per planned resource, measured on a dry
 * run before this design: docs/cost.md).
 */
import { parseArgs } from 'node:util';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { LocalRuntime } from '../local/runtime';
import { schedulerInput } from '../local/schedule-simulator';
import { prepareSimulatedAccount, scaleInventory } from '../local/simulated-account';
import { synthesizeTemplate } from '../local/synth';
import { tableInputs } from '../local/template';
import { CapacityProxy, tableDef, type WriteRecord } from './capacity';
import { actionsOf } from '../shared/ledger/actions-repository';

const { values } = parseArgs({ options: { resources: { type: 'string', default: '1000' } } });
const resources = Number(values.resources);

const HEARTBEAT_GOAL_WU = 8;
/** Write units per planned resource of a dry run before this design (issue "Lean and scalable", 18k / 9k). */
const RELEASE_BEFORE_WU_PER_ACTION = 2.0;

type Part = 'lifecycle' | 'steps' | 'job';

function partOf(write: WriteRecord): Part {
  const sk = write.key.sk?.S ?? '';
  if (sk.startsWith('STEP#')) return 'steps';
  if (sk.startsWith('ACTION#') || sk.startsWith('PLAN#')) return 'job';
  return 'lifecycle';
}

function summarize(writes: readonly WriteRecord[]) {
  const out: Record<Part, { requests: Set<number>; table: number; index: number }> = {
    lifecycle: { requests: new Set(), table: 0, index: 0 },
    steps: { requests: new Set(), table: 0, index: 0 },
    job: { requests: new Set(), table: 0, index: 0 },
  };
  writes.forEach((w) => {
    const part = out[partOf(w)];
    part.requests.add(w.request);
    part.table += w.tableUnits;
    part.index += w.indexUnits;
  });
  return out;
}

async function main(): Promise<void> {
  const template = synthesizeTemplate();
  const db = await startEmbeddedDynamoDb();
  const ledgerTables = tableInputs(template).map(tableDef);
  const proxy = await CapacityProxy.start(db.endpoint, ledgerTables);
  const runtime = await LocalRuntime.start({
    template,
    dynamoEndpoint: db.endpoint,
    handlerDynamoEndpoint: proxy.endpoint,
    logLevel: 'SILENT',
  });
  const lines: string[] = [];
  const row = (label: string, writes: readonly WriteRecord[], reads: number, per = 1) => {
    const s = summarize(writes);
    const cell = (p: Part) => {
      const x = s[p];
      const total = (x.table + x.index) / per;
      return `${String(x.requests.size).padStart(5)} req  ${(x.table / per).toFixed(2).padStart(7)} + ${(x.index / per).toFixed(2).padStart(6)} = ${total.toFixed(2).padStart(7)} WU`;
    };
    lines.push(
      `${label.padEnd(34)} lifecycle ${cell('lifecycle')} | steps ${cell('steps')} | job ${cell('job')} | reads ${(reads / per).toFixed(2)} RU`,
    );
    return s;
  };
  try {
    // Warm up: handlers loaded, the job state item exists (as it does after a job's first run).
    await runtime.run('heartbeat', {});
    proxy.reset();
    await runtime.run('heartbeat', {});
    const manual = row('heartbeat, manual run', proxy.writes, proxy.tally.reads);
    proxy.reset();
    await runtime.run('heartbeat', schedulerInput(runtime.job('heartbeat'), '2026-06-01T00:10:00Z', 1));
    const scheduled = row('heartbeat, scheduled run', proxy.writes, proxy.tally.reads);

    const release = async (dryRun: boolean) => {
      await prepareSimulatedAccount(runtime.dynamoClient, {
        reset: true,
        seed: (now) => scaleInventory(resources, now),
      });
      proxy.reset();
      const result = await runtime.run('release-idle-resources', { dryRun });
      const planned =
        (await runtime.ledger.runs.detail(result.runId)).steps.length > 0
          ? await plannedCount(result.runId)
          : 0;
      return { planned, writes: [...proxy.writes], reads: proxy.tally.reads, status: result.status };
    };
    const plannedCount = async (runId: string) => {
      let n = 0;
      for await (const _ of actionsOf(runtime.ledger).allByRun(runId)) n += 1;
      return n;
    };
    const dry = await release(true);
    const dryParts = row(`release, dry run (per planned resource)`, dry.writes, dry.reads, dry.planned);
    const applied = await release(false);
    const appliedParts = row(
      `release, applied (per planned resource)`,
      applied.writes,
      applied.reads,
      applied.planned,
    );

    const total = (p: { table: number; index: number }) => p.table + p.index;
    const heartbeatWorst = Math.max(total(manual.lifecycle), total(scheduled.lifecycle));
    const dryPerAction =
      (total(dryParts.job) + total(dryParts.lifecycle) + total(dryParts.steps)) / dry.planned;
    const appliedPerAction =
      (total(appliedParts.job) + total(appliedParts.lifecycle) + total(appliedParts.steps)) / applied.planned;
    process.stdout.write(
      [
        `bench/ledger-units: write units (WU) and read units (RU) per run, priced from item sizes and index projections`,
        `release job at ${resources} simulated resources: ${dry.planned} planned actions (dry run), ${applied.planned} (applied)`,
        '',
        ...lines,
        '',
        `heartbeat lifecycle: ${heartbeatWorst} WU (goal <= ${HEARTBEAT_GOAL_WU}): ${(heartbeatWorst / HEARTBEAT_GOAL_WU).toFixed(2)}x the goal`,
        `release dry run: ${dryPerAction.toFixed(2)} WU per planned resource (goal <= ${(RELEASE_BEFORE_WU_PER_ACTION / 2).toFixed(2)}, half of ${RELEASE_BEFORE_WU_PER_ACTION.toFixed(2)} before): ${(dryPerAction / (RELEASE_BEFORE_WU_PER_ACTION / 2)).toFixed(2)}x the goal`,
        `release applied run: ${appliedPerAction.toFixed(2)} WU per planned resource`,
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
