/**
 * The fault suite, part 2: whatever a caller sends from the Step Functions console (any JSON value, and the
 * hostile shapes that broke the ledger before: prototype-named keys, numbers beyond 2^53, deep nesting, odd
 * unicode, empty keys, inputs up to and past the 256 KiB limit, random triggers), the execution either is
 * refused by StartExecution (nothing starts, nothing is recorded) or ends with exactly one final run record
 * that keeps the input text exactly, and no lock or slot is left behind. The invariants are checked after
 * every case, not just the exit status.
 */
import '../helpers/quiet';
import fc from 'fast-check';
import { FINAL_RUN_STATUSES } from '../../shared/constants';
import { executionInputText, InvalidExecutionInput } from '../../local/runtime';
import { heartbeat } from '../../workflows/heartbeat';
import { invariantReport, type InvariantCounts } from '../helpers/invariants';
import { useLocalRuntime } from '../helpers/local-runtime';

const runtime = useLocalRuntime();
const RUNS = 200;

const json = JSON as unknown as { rawJSON(text: string): unknown };

/** Keys that mean something to JavaScript objects, and the empty key. */
const oddKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  'trigger',
);
/** An object with `key` as an own property (JSON.parse makes `__proto__` an own key, as the console's JSON does). */
const withKey = (key: string, value: unknown) =>
  JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as unknown;

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = asArray ? [value] : { a: value };
  return value;
}

const hostile = fc.oneof(
  fc.tuple(oddKey, fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => withKey(key, value)),
  // A number with more digits than a double holds, kept as the caller's text.
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 90n }).map((n) => ({ n: json.rawJSON(n.toString()) })),
  fc
    .tuple(fc.integer({ min: 50, max: 1_100 }), fc.boolean())
    .map(([depth, asArray]) => nested(depth, 1, asArray)),
  fc.string({ unit: 'binary', maxLength: 40 }).map((text) => ({ message: text, [text]: text })),
  fc.integer({ min: 1, max: 300 }).map((kib) => ({ message: 'big', pad: 'x'.repeat(kib * 1024) })),
  fc.record({
    trigger: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({
        type: fc.constantFrom('schedule', 'manual', 'cli', 'cron'),
        scheduledTime: fc.oneof(fc.constant('2026-07-01T00:00:00Z'), fc.string({ maxLength: 12 })),
        attempt: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant('2')),
      }),
    ),
    message: fc.string({ maxLength: 10 }),
  }),
);

/** A console run copied from a scheduled one: its slot is one of a few, so repeats become DUPLICATEs. */
const copiedScheduled = fc.constantFrom('2026-07-01T00:00:00Z', '2026-07-01T00:10:00Z').map((slot) => ({
  trigger: { type: 'schedule', scheduledTime: slot, attempt: '1' },
}));

const consoleInput = fc.oneof(
  { weight: 1, arbitrary: copiedScheduled },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 3, arbitrary: hostile },
);

test(`any console input of ${RUNS} ends in exactly one final run record that keeps it, or is refused whole`, async () => {
  const seen = { refused: 0, recorded: 0, byStatus: {} as Record<string, number> };
  let counts: InvariantCounts | undefined;
  await fc.assert(
    fc.asyncProperty(consoleInput, async (input) => {
      let text: string;
      try {
        text = executionInputText(input);
      } catch (error) {
        // StartExecution refuses it: the execution never starts, so there is nothing to record.
        expect(error).toBeInstanceOf(InvalidExecutionInput);
        expect(() => runtime().start(heartbeat.id, input)).toThrow(InvalidExecutionInput);
        seen.refused += 1;
        return;
      }
      const result = await runtime().run(heartbeat.id, input);
      const { run } = await runtime().ledger.runs.detail(result.runId);
      expect(FINAL_RUN_STATUSES).toContain(run.status);
      // I4: the record keeps what the caller sent, text for text.
      expect(run.rawInput.text).toBe(text);
      expect(run.rawInput.truncated).toBeUndefined();
      seen.recorded += 1;
      seen.byStatus[run.status] = (seen.byStatus[run.status] ?? 0) + 1;
      const report = await invariantReport(runtime());
      expect(report.violations).toEqual([]);
      counts = report.counts;
    }),
    { numRuns: RUNS, seed: 20261202 },
  );
  // The property really covered both outcomes, and several statuses.
  expect(seen.refused).toBeGreaterThan(0);
  expect(seen.recorded).toBeGreaterThan(RUNS / 2);
  expect(Object.keys(seen.byStatus).length).toBeGreaterThanOrEqual(3);
  expect(counts).toMatchObject({ recordsLost: 0, runsLeftRunning: 0, locksLeaked: 0, orphanSlots: 0 });
  process.stdout.write(`console-input fuzz: ${JSON.stringify({ ...seen, ...counts })}\n`);
}, 240_000);
