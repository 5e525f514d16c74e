/**
 * The runtime's onInvoke hook (bench/cost prices Lambda from it): one call per Lambda invocation, in order,
 * with the function and its duration, for task states and rule targets alike.
 */
import path from 'node:path';
import { LocalRuntime } from '../../local/runtime';
import { synthesizeTemplate } from '../../local/synth';

const invocations: Array<{ entry: string; durationMs: number }> = [];
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await LocalRuntime.start({
    template: synthesizeTemplate(),
    logLevel: 'SILENT',
    onInvoke: (fn, durationMs) => invocations.push({ entry: path.basename(fn.entry), durationMs }),
  });
});
afterAll(async () => {
  await runtime.stop();
});
beforeEach(() => {
  invocations.length = 0;
});

it('reports each Lambda invocation of a run, in order, with its duration', async () => {
  const result = await runtime.run('heartbeat', {});
  expect(result.status).toBe('SUCCEEDED');
  // The run notifier comes last: on AWS the ledger's stream invokes it once the run is final.
  expect(invocations.map((i) => i.entry)).toEqual([
    'start-run.ts',
    'heartbeat.ts',
    'finish-run.ts',
    'run-finished.ts',
  ]);
  for (const { durationMs } of invocations) expect(durationMs).toBeGreaterThan(0);
});

it('reports the reconciler when the status-change rule invokes it for an aborted run', async () => {
  let abort = (): void => undefined;
  const handle = runtime.start(
    'heartbeat',
    {},
    { onEvent: (event) => event.type === 'StateEntered' && event.state.name === 'Heartbeat' && abort() },
  );
  abort = handle.abort;
  const result = await handle.result;
  expect(result.status).toBe('ABORTED');
  expect(invocations.map((i) => i.entry)).toEqual(expect.arrayContaining(['start-run.ts', 'reconcile.ts']));
  expect(invocations.map((i) => i.entry)).not.toContain('finish-run.ts');
});
