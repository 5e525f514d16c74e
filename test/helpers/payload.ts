/**
 * Step Functions rejects a state input or output over 256 KiB (States.DataLimitExceeded); the local engine
 * enforces no limit, so tests measure the payloads in a run's event log instead.
 */
import type { EngineEvent } from '../../local/runtime';

type Event = NonNullable<EngineEvent>;

/** The Step Functions payload limit, in bytes of UTF-8 JSON. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface PayloadSize {
  /** The state's name, or `(execution)` for the execution's own input and output. */
  state: string;
  kind: 'input' | 'output';
  bytes: number;
  /** Map iteration index, for states inside a Map. */
  index?: number;
}

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');

/**
 * The size of every payload in an event log: each state's input (StateEntered), each state's output
 * (StateExited), and the execution's input and output.
 */
export function payloadSizes(events: readonly Event[]): PayloadSize[] {
  const sizes: PayloadSize[] = [];
  for (const event of events) {
    if (event.type === 'StateEntered') {
      sizes.push({
        state: event.state.name,
        kind: 'input',
        bytes: bytesOf(event.state.input),
        index: event.index,
      });
    } else if (event.type === 'StateExited') {
      sizes.push({
        state: event.state.name,
        kind: 'output',
        bytes: bytesOf(event.state.output),
        index: event.index,
      });
    } else if (event.type === 'ExecutionStarted') {
      sizes.push({ state: '(execution)', kind: 'input', bytes: bytesOf(event.input) });
    } else if (event.type === 'ExecutionSucceeded') {
      sizes.push({ state: '(execution)', kind: 'output', bytes: bytesOf(event.output) });
    }
  }
  return sizes;
}

/** The largest payload of an event log, in bytes (0 for a log without payloads). */
export function maxPayloadBytes(events: readonly Event[]): number {
  return payloadSizes(events).reduce((max, size) => Math.max(max, size.bytes), 0);
}
