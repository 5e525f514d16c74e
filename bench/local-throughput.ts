/**
 * bench/local-throughput: executions per second of a real job through the local runtime (CDK-synthesized
 * definition, handlers in-process, ledger writes to the embedded DynamoDB), next to the raw engine running
 * the same definition with no-op task overrides. Both run in the same process, one after the other, so the
 * ratio is what the lifecycle's handlers and DynamoDB cost on this machine.
 *
 *   npx tsx bench/local-throughput.ts [--runs 200] [--concurrency 1] [--job heartbeat]
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { parseArgs } from 'node:util';
import { LocalRuntime } from '../local/runtime';
import { synthesizeTemplate } from '../local/synth';
import { taskStates } from '../local/task-overrides';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '1' },
    job: { type: 'string', default: 'heartbeat' },
  },
});
const runs = Number(values.runs);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('bench: --runs and --concurrency must be positive whole numbers\n');
  process.exit(2);
}

async function timed(
  label: string,
  one: (i: number) => Promise<void>,
): Promise<{ label: string; perSecond: number; ms: number }> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs) await one(next++);
    }),
  );
  const ms = performance.now() - started;
  return { label, perSecond: (runs * 1000) / ms, ms };
}

async function main(): Promise<void> {
  const template = synthesizeTemplate();
  const runtime = await LocalRuntime.start({ template, logLevel: 'SILENT' });
  const job = runtime.job(values.job);
  try {
    // Warm up: load handlers, create clients.
    await runtime.run(job.jobId, {});
    const full = await timed('local runtime (handlers + dynalite)', async () => {
      const result = await runtime.run(job.jobId, {});
      if (result.status !== 'SUCCEEDED')
        throw new Error(`run ended ${result.status}: ${result.error} ${result.cause}`);
    });

    // The raw engine: same definition, every Task answered by a no-op that only keeps the run on its path.
    const engine = new StateMachine(job.definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const noop = Object.fromEntries(
      taskStates(job.definition).map((task) => [
        task.name,
        async (input: unknown) =>
          task.name === 'StartRun'
            ? { decision: 'RUN', run: { runId: 'bench' }, input: {}, results: {} }
            : task.name === 'FinishRun' || task.name === 'FailRun'
              ? {}
              : { ok: true, input: typeof input },
      ]),
    );
    const raw = await timed('raw engine (no-op tasks)', async (i) => {
      await engine.run(
        {},
        {
          overrides: { taskResourceLocalHandlers: noop as never },
          context: {
            Execution: {
              Id: `bench-${i}`,
              Name: `bench-${i}`,
              StartTime: new Date().toISOString(),
              RedriveCount: 0,
            },
          },
        },
      ).result;
    });

    const rows = [full, raw].map(
      (r) =>
        `${r.label.padEnd(40)} ${r.perSecond.toFixed(1).padStart(9)} exec/s   ${r.ms.toFixed(0).padStart(7)} ms`,
    );
    process.stdout.write(
      [
        `bench/local-throughput: job ${job.jobId}, ${runs} executions, concurrency ${concurrency}, Node ${process.version}`,
        ...rows,
        `ratio local/raw: ${(full.perSecond / raw.perSecond).toFixed(3)} (the raw engine is ${(raw.perSecond / full.perSecond).toFixed(1)}x faster)`,
        JSON.stringify({
          bench: 'local-throughput',
          job: job.jobId,
          runs,
          concurrency,
          localPerSecond: full.perSecond,
          rawPerSecond: raw.perSecond,
          ratio: full.perSecond / raw.perSecond,
        }),
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
