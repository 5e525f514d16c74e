/**
 * Live progress of a run: each state entered and exited, with durations, from the local engine's event log
 * or from GetExecutionHistory on AWS. Both are turned into the same {@link ProgressEvent}.
 */

export interface ProgressEvent {
  kind: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  state: string;
  /** Map iteration index, for states inside a Map. */
  index?: number;
  timestamp: number;
  durationMs?: number;
  error?: string;
  cause?: string;
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
  }
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
