/**
 * bench/history: what each CLI query costs at 1,000 runs and at 100,000, side by side in one process. Two
 * embedded DynamoDBs hold the same job history at the two sizes (a 10-minute job: 98% SUCCEEDED, 2% FAILED, a
 * manual run in 13 and a CLI run in 89, one RUNNING), with a pricing proxy in front of each (bench/capacity.ts). Every query
 * runs as the CLI runs it: one page of 20 through the ledger's repositories.
 *
 *   npx tsx bench/history.ts [--small 1000] [--large 100000] [--repeat 21]
 *
 * Goal (issue "Lean and scalable"): each query at 100,000 runs costs at most 1.2x what it costs at 1,000, in
 * time and in read units.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseArgs } from 'node:util';
import { createTables, ledgerTableInput, startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { RunStatus, TriggerType } from '../shared/constants';
import type { RunRecord } from '../shared/ledger/items';
import { Ledger } from '../shared/ledger/ledger';
import { runItem } from '../shared/ledger/runs-repository';
import { CapacityProxy, tableDef } from './capacity';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '1000' },
    large: { type: 'string', default: '100000' },
    repeat: { type: 'string', default: '21' },
  },
});
const SIZES = [Number(values.small), Number(values.large)] as const;
const REPEAT = Number(values.repeat);
const GOAL_RATIO = 1.2;
const TABLE = 'StepJobsLedgerBench';
const JOB = 'heartbeat';
const OTHER_JOB = 'report';
const INTERVAL_MS = 10 * 60_000;
/** The newest run starts here; older ones every 10 minutes before it. */
const NEWEST = Date.parse('2026-12-01T12:00:00.000Z');

/** Run `i` of the history (0 is the newest): mostly scheduled successes, some failures and manual runs. */
function run(i: number, jobId: string): RunRecord {
  const startedAt = new Date(NEWEST - i * INTERVAL_MS).toISOString();
  const status = i === 0 ? RunStatus.RUNNING : i % 50 === 7 ? RunStatus.FAILED : RunStatus.SUCCEEDED;
  const trigger =
    i % 13 === 3
      ? { type: TriggerType.MANUAL }
      : i % 89 === 5
        ? { type: TriggerType.CLI, principal: 'arn:aws:iam::123456789012:user/jane' }
        : { type: TriggerType.SCHEDULE, scheduledTime: startedAt, attempt: 1 };
  const runId = `${jobId}-${String(i).padStart(6, '0')}`;
  return {
    runId,
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:StepJobs-${jobId}:${runId}`,
    jobId,
    status,
    trigger,
    rawInput: { text: '{}' },
    input: { text: '{"message":"ok"}' },
    startedAt,
    ...(status === RunStatus.RUNNING
      ? {}
      : { endedAt: new Date(Date.parse(startedAt) + 800).toISOString(), durationMs: 800 }),
    ...(status === RunStatus.FAILED ? { error: { name: 'Boom', cause: 'it broke' } } : {}),
    expiresAt: Math.floor(NEWEST / 1000) + 400 * 86_400,
  };
}

async function seed(doc: DynamoDBDocumentClient, count: number): Promise<void> {
  const items = [
    ...Array.from({ length: count }, (_, i) => runItem(run(i, JOB))),
    // A second job with a tenth of the runs, so the cross-job index merges jobs.
    ...Array.from({ length: Math.ceil(count / 10) }, (_, i) => runItem(run(i + 1, OTHER_JOB))),
  ];
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: requests } }));
      requests = (res.UnprocessedItems?.[TABLE] ?? []) as typeof requests;
    }
  }
}

const DAY = 86_400_000;
const runningSince = new Date(NEWEST - 2 * 3_600_000).toISOString();
const running = [JOB, OTHER_JOB].map((jobId) => ({ jobId, since: runningSince }));

/** The CLI's queries, each one page of 20. */
const QUERIES: Array<{ name: string; query: (ledger: Ledger) => Promise<unknown> }> = [
  { name: `history ${JOB}`, query: (l) => l.runs.listByJob(JOB, { limit: 20 }) },
  {
    name: `history ${JOB} --status FAILED`,
    query: (l) => l.runs.listByJob(JOB, { limit: 20, status: RunStatus.FAILED, runningSince }),
  },
  {
    name: `history ${JOB} --status TIMED_OUT (none)`,
    query: (l) => l.runs.listByJob(JOB, { limit: 20, status: RunStatus.TIMED_OUT, runningSince }),
  },
  {
    name: `history ${JOB} --status RUNNING`,
    query: (l) => l.runs.listByJob(JOB, { limit: 20, status: RunStatus.RUNNING, runningSince }),
  },
  {
    name: `history ${JOB} --trigger manual`,
    query: (l) => l.runs.listByJob(JOB, { limit: 20, trigger: TriggerType.MANUAL, runningSince }),
  },
  {
    name: `history ${JOB} --since 1d`,
    query: (l) =>
      l.runs.listByJob(JOB, { limit: 20, since: new Date(NEWEST - DAY).toISOString(), runningSince }),
  },
  {
    name: `history ${JOB} --status FAILED --since 30d`,
    query: (l) =>
      l.runs.listByJob(JOB, {
        limit: 20,
        status: RunStatus.FAILED,
        since: new Date(NEWEST - 30 * DAY).toISOString(),
        runningSince,
      }),
  },
  { name: 'audit', query: (l) => l.runs.listAll({ limit: 20, running }) },
  {
    name: 'audit --status FAILED',
    query: (l) => l.runs.listAll({ limit: 20, status: RunStatus.FAILED, running }),
  },
  {
    name: 'audit --since 7d --until 6d',
    query: (l) =>
      l.runs.listAll({
        limit: 20,
        since: new Date(NEWEST - 7 * DAY).toISOString(),
        until: new Date(NEWEST - 6 * DAY).toISOString(),
        running,
      }),
  },
];

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const worlds = await Promise.all(
    SIZES.map(async (size) => {
      const db = await startEmbeddedDynamoDb();
      await createTables(db.client, [ledgerTableInput(TABLE)]);
      const proxy = await CapacityProxy.start(db.endpoint, [tableDef(ledgerTableInput(TABLE))]);
      const ledger = Ledger.fromClient(
        new DynamoDBClient({
          endpoint: proxy.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
        TABLE,
      );
      return { size, db, proxy, ledger };
    }),
  );
  try {
    for (const world of worlds) {
      const started = performance.now();
      await seed(DynamoDBDocumentClient.from(world.db.client), world.size);
      process.stderr.write(
        `seeded ${world.size} runs (+${Math.ceil(world.size / 10)} of ${OTHER_JOB}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
    }
    const lines = [
      `bench/history: one page of 20 per query, median of ${REPEAT}, at ${SIZES[0]} and ${SIZES[1]} runs`,
      '',
      `${'query'.padEnd(44)} ${`${SIZES[0]} runs`.padStart(16)} ${`${SIZES[1]} runs`.padStart(16)}   ratio (goal <= ${GOAL_RATIO})`,
    ];
    let worst = 0;
    for (const { name, query } of QUERIES) {
      // Both sizes in turn within each repetition, so that a slow moment of the machine falls on both.
      const cells = worlds.map(() => ({ times: [] as number[], ms: 0, requests: 0, reads: 0, items: 0 }));
      for (const world of worlds) await query(world.ledger); // warm
      for (let r = 0; r < REPEAT; r += 1) {
        for (const [i, world] of worlds.entries()) {
          const cell = cells[i];
          if (!cell) continue;
          world.proxy.reset();
          const t = performance.now();
          const page = (await query(world.ledger)) as { items: unknown[] };
          cell.times.push(performance.now() - t);
          cell.requests = world.proxy.tally.requests;
          cell.reads = world.proxy.tally.reads;
          cell.items = page.items.length;
        }
      }
      for (const cell of cells) cell.ms = median(cell.times);
      const [small, large] = cells as [(typeof cells)[0], (typeof cells)[0]];
      const ratio = Math.max(large.ms / small.ms, large.reads / Math.max(small.reads, 0.5));
      worst = Math.max(worst, ratio);
      const cell = (c: typeof small) =>
        `${c.ms.toFixed(1)} ms ${c.requests} req ${c.reads.toFixed(1)} RU ${c.items} runs`;
      lines.push(
        `${name.padEnd(44)} ${cell(small).padStart(32)} | ${cell(large).padStart(32)}   time ${(large.ms / small.ms).toFixed(2)}x, RU ${(large.reads / Math.max(small.reads, 0.5)).toFixed(2)}x`,
      );
    }
    lines.push(
      '',
      `worst ratio: ${worst.toFixed(2)}x (goal <= ${GOAL_RATIO}x): ${worst <= GOAL_RATIO ? 'met' : 'NOT met'}`,
      '',
    );
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const world of worlds) {
      await world.proxy.stop();
      await world.db.stop();
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
