/**
 * Step Functions fails a state whose input or output exceeds 256 KiB; the local engine does not. Measure
 * every payload of a heartbeat run in the engine's event log instead.
 */
import '../helpers/quiet';
import type { EngineEvent } from '../../local/runtime';
import { schedulerInput } from '../../local/schedule-simulator';
import { heartbeat } from '../../workflows/heartbeat';
import { recordEvents, useLocalRuntime } from '../helpers/local-runtime';
import {
  historyEventEstimate,
  MAX_PAYLOAD_BYTES,
  maxPayloadBytes,
  payloadSizes,
} from '../../local/service-limits';
import { prepareSimulatedAccount, scaleInventory } from '../../local/simulated-account';
import { DEFAULT_PLAN_BUDGET } from '../../tasks/release/plan';
import { releaseIdleResources } from '../../workflows/release-idle-resources';

const runtime = useLocalRuntime({ jobs: [heartbeat] });

describe('a heartbeat run', () => {
  it.each([
    ['manual, with the longest message allowed', () => ({ message: 'é'.repeat(200) })],
    ['scheduled', () => schedulerInput(runtime().job(heartbeat.id), '2026-06-01T12:10:00Z', 1)],
  ])('keeps every state input and output under 256 KiB: %s', async (_what, input) => {
    const events = recordEvents();
    const result = await runtime().run(heartbeat.id, input(), { onEvent: events.onEvent });
    expect(result.status).toBe('SUCCEEDED');

    const sizes = payloadSizes(events.events);
    // Every state's input and output was measured: 4 states, 2 payloads each, plus the execution's own.
    expect(sizes.filter((s) => s.state !== '(execution)').map((s) => s.state)).toEqual(
      ['StartRun', 'Decide', 'Heartbeat', 'FinishRun'].flatMap((state) => [state, state]),
    );
    expect(maxPayloadBytes(events.events)).toBeGreaterThan(0);
    expect(maxPayloadBytes(events.events)).toBeLessThan(MAX_PAYLOAD_BYTES);
  });
});

describe('maxPayloadBytes', () => {
  type Event = NonNullable<EngineEvent>;
  const state = (name: string, input: unknown, output?: unknown) => ({
    name,
    type: 'Pass' as const,
    input: input as never,
    ...(output === undefined ? {} : { output: output as never }),
  });

  it('is the largest state input or output, in bytes of UTF-8 JSON', () => {
    const events: Event[] = [
      { type: 'ExecutionStarted', timestamp: 0, input: {} },
      { type: 'StateEntered', timestamp: 1, state: state('A', { text: 'é'.repeat(100) }) },
      { type: 'StateExited', timestamp: 2, state: state('A', {}, { ok: true }) },
      { type: 'StateEntered', timestamp: 3, state: state('B', 'x'), index: 4 },
    ];
    // {"text":"é…é"}: 11 bytes of JSON around 100 two-byte characters.
    expect(maxPayloadBytes(events)).toBe(211);
    expect(payloadSizes(events)).toEqual([
      { state: '(execution)', kind: 'input', bytes: 2 },
      { state: 'A', kind: 'input', bytes: 211, index: undefined },
      { state: 'A', kind: 'output', bytes: 11, index: undefined },
      { state: 'B', kind: 'input', bytes: 3, index: 4 },
    ]);
  });

  it('is 0 for a log without payloads', () => {
    expect(maxPayloadBytes([{ type: 'ExecutionAborted', timestamp: 0 }])).toBe(0);
  });
});

describe('a release run over an account larger than one Plan invocation plans', () => {
  const release = useLocalRuntime({ jobs: [releaseIdleResources] });
  const RESOURCES = 4_500;

  it('plans in several invocations, with every payload and the history far under the limits', async () => {
    await prepareSimulatedAccount(release().dynamoClient, {
      reset: true,
      seed: (now) => scaleInventory(RESOURCES, now),
    });
    const events = recordEvents();
    const result = await release().run(
      releaseIdleResources.id,
      { dryRun: true },
      { onEvent: events.onEvent },
    );
    expect(result.status).toBe('SUCCEEDED');
    // 2,000 resources per invocation (DEFAULT_PLAN_BUDGET), stopping between pages.
    const invocations = events.count('StateEntered', 'Plan');
    expect(invocations).toBeGreaterThanOrEqual(Math.ceil(RESOURCES / DEFAULT_PLAN_BUDGET) - 1);
    expect(invocations).toBeLessThanOrEqual(Math.ceil(RESOURCES / DEFAULT_PLAN_BUDGET) + 1);
    const plan = (await release().ledger.runs.detail(result.runId)).steps.filter((s) => s.name === 'Plan');
    expect(plan.map((s) => s.itemIndex)).toEqual(Array.from({ length: invocations }, (_, i) => i));
    // Nothing the size of the account travels through the state machine.
    expect(maxPayloadBytes(events.events)).toBeLessThan(8 * 1024);
    expect(historyEventEstimate(events.events)).toBeLessThan(100);
  });
});
