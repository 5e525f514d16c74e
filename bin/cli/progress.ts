/**
 * Live progress of a run: each state entered and exited, with durations, from the local engine's event log
 * or from GetExecutionHistory on AWS. Both are turned into the same {@link ProgressEvent}. On AWS, a
 * Distributed Map's item counts (DescribeMapRun) come as `map` events too, since its items run in child
 * executions whose events never reach the parent's history.
 */

/** A Distributed Map run's items by state, as DescribeMapRun counts them. */
export interface MapItemCounts {
  succeeded: number;
  failed: number;
  running: number;
  pending: number;
  timedOut: number;
  aborted: number;
  total: number;
}

export interface ProgressEvent {
  kind: 'entered' | 'exited' | 'failed' | 'retried' | 'caught' | 'map';
  state: string;
  /** Map iteration index, for states inside a Map. */
  index?: number;
  timestamp: number;
  durationMs?: number;
  error?: string;
  cause?: string;
  /** `map` events: the Map run's item counts. */
  items?: MapItemCounts;
}

/** Tracks entry times so exits can report durations. */
export class ProgressTracker {
  private readonly entered = new Map<string, number>();

  event(
    kind: ProgressEvent['kind'],
    state: string,
    timestamp: number,
    extra: Partial<ProgressEvent> = {},
  ): ProgressEvent {
    const key = `${state}#${extra.index ?? ''}`;
    if (kind === 'entered') this.entered.set(key, timestamp);
    const start = this.entered.get(key);
    const durationMs = kind === 'exited' && start !== undefined ? timestamp - start : undefined;
    return { kind, state, timestamp, ...extra, ...(durationMs === undefined ? {} : { durationMs }) };
  }
}

/** One line per event, indented inside Map iterations; long Maps are summarized by the caller. */
export function progressLine(e: ProgressEvent): string {
  const name = e.index === undefined ? e.state : `  ${e.state}[${e.index}]`;
  switch (e.kind) {
    case 'entered':
      return `  ▶ ${name}`;
    case 'exited':
      return `  ✔ ${name}${e.durationMs === undefined ? '' : ` (${e.durationMs} ms)`}`;
    case 'failed':
      return `  ✖ ${name}: ${e.error ?? 'error'}${e.cause ? ` — ${shortCause(e.cause)}` : ''}`;
    case 'retried':
      return `  ↻ ${name}: retrying`;
    case 'caught':
      return `  ↳ ${name}: error caught, handing over to the failure path`;
    case 'map':
      return `  ▦ ${name} items: ${mapCountsText(e.items)}`;
  }
}

/** `38 succeeded, 2 failed, 8 running, 52 pending of 100`; timed out and aborted only when there are any. */
function mapCountsText(items: MapItemCounts | undefined): string {
  if (!items) return 'no counts yet';
  return [
    `${items.succeeded} succeeded`,
    `${items.failed} failed`,
    ...(items.timedOut > 0 ? [`${items.timedOut} timed out`] : []),
    ...(items.aborted > 0 ? [`${items.aborted} aborted`] : []),
    `${items.running} running`,
    `${items.pending} pending of ${items.total}`,
  ].join(', ');
}

/** Lambda causes are JSON `{"errorType","errorMessage"}`; show the message. */
export function shortCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) return parsed.errorMessage;
  } catch {
    // not JSON: show as is
  }
  return cause.length > 200 ? `${cause.slice(0, 199)}…` : cause;
}
