/**
 * A job's pause as its state holds it: whether it is in force at a time (a pause with an end counts as resumed
 * from that end on), and what runs and listings say about it.
 */
import type { JobState, PauseInfo } from './items';

/** The pause on a job's state, whatever its end (undefined when it is not paused). */
export function pauseInfo(state: JobState): PauseInfo | undefined {
  if (!state.paused) return undefined;
  return {
    ...(state.pausedBy ? { by: state.pausedBy } : {}),
    ...(state.pauseReason ? { reason: state.pauseReason } : {}),
    ...(state.pausedAt ? { at: state.pausedAt } : {}),
    ...(state.pausedUntil ? { until: state.pausedUntil } : {}),
  };
}

/** Whether the job's pause is in force at `nowIso`: paused, and not past its end. */
export function isPausedAt(state: JobState, nowIso: string): boolean {
  return state.paused && (state.pausedUntil === undefined || state.pausedUntil > nowIso);
}

/** A pause that ended on its own by `nowIso` (paused, with an end at or before it), else undefined. */
export function expiredPause(state: JobState, nowIso: string): PauseInfo | undefined {
  return state.paused && state.pausedUntil !== undefined && state.pausedUntil <= nowIso
    ? pauseInfo(state)
    : undefined;
}

/** `maintenance (by local:ops, until 2026-06-01T12:00:00.000Z)`: a pause in one line. */
export function pauseText(pause: PauseInfo): string {
  const details = [pause.by && `by ${pause.by}`, pause.until && `until ${pause.until}`]
    .filter(Boolean)
    .join(', ');
  return `${pause.reason || 'no reason given'}${details ? ` (${details})` : ''}`;
}
