/**
 * Step Functions limits the local engine does not enforce, measured on a run's engine event log: a state input
 * or output over 256 KiB fails the state (States.DataLimitExceeded), and an execution's history holds at most
 * 25,000 events. Tests and benches check local runs against both.
 */
import type { EngineEvent } from './runtime';

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

/** The Step Functions limit on events in one execution's history. */
export const MAX_HISTORY_EVENTS = 25_000;

/** History events Step Functions records for one visit of a state of each type (without retries). */
const EVENTS_PER_STATE: Readonly<Record<string, number>> = {
  // TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited
  Task: 5,
  // MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited: a Distributed Map's items run as child
  // executions, each with its own history
  Map: 4,
  Pass: 2,
  Choice: 2,
  Wait: 3,
  Succeed: 2,
  Fail: 1,
  Parallel: 4,
};

/**
 * The events the execution's history on AWS would hold: the execution's start and end, plus each state visited
 * outside a Map's items, by type. An estimate (retries add events), to compare with {@link MAX_HISTORY_EVENTS}.
 */
export function historyEventEstimate(events: readonly Event[]): number {
  let count = 2;
  for (const event of events) {
    if (event.type === 'StateEntered' && event.index === undefined)
      count += EVENTS_PER_STATE[event.state.type] ?? 2;
  }
  return count;
}
