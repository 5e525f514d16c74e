/**
 * A job's slots as its operators see them: the schedule's fires (shared/schedule-expression.ts), each marked
 * with why it will not run: a nonexistent local time, or a pause. `preview`, `jobs` and the simulator list
 * slots through here, so they agree.
 */
import { fires, type Fire } from './schedule-expression';

/** A pause as it bears on slots: from when (default: always), until when (default: until resumed). */
export interface SlotPause {
  since?: Date;
  until?: Date;
  reason?: string;
  by?: string;
}

export interface SlotSpec {
  expression: string;
  timeZone: string;
  /** The schedule's StartDate. */
  start?: Date;
  pause?: SlotPause;
}

export interface SlotQuery {
  from: Date;
  until?: Date;
  /** How many slots that run to list. */
  count: number;
  /**
   * At most this many slots that do not run are listed before the search gives up (a job paused with no end
   * runs nothing). @default 1000
   */
  maxSkipped?: number;
}

/** Why a paused slot does not run: `paused: <reason> (by <who>, until <when>)`. */
export function pauseReason(pause: SlotPause): string {
  const details = [pause.by && `by ${pause.by}`, pause.until && `until ${pause.until.toISOString()}`]
    .filter(Boolean)
    .join(', ');
  return `paused${pause.reason ? `: ${pause.reason}` : ''}${details ? ` (${details})` : ''}`;
}

function paused(pause: SlotPause | undefined, at: Date): boolean {
  if (!pause) return false;
  const t = at.getTime();
  return (
    (pause.since === undefined || t >= pause.since.getTime()) &&
    (pause.until === undefined || t < pause.until.getTime())
  );
}

/** Fires asked of the schedule at a time: paused ones come back as fires that run, and are marked here. */
const BATCH = 64;

/** The slots from `query.from` on: `count` that run, and every one between them that does not, with why. */
export function slots(spec: SlotSpec, query: SlotQuery): Fire[] {
  const maxSkipped = query.maxSkipped ?? 1000;
  const out: Fire[] = [];
  let running = 0;
  let skipped = 0;
  let from = query.from;
  while (running < query.count && skipped <= maxSkipped) {
    const batch = fires(spec.expression, spec.timeZone, {
      from,
      until: query.until,
      limit: Math.max(query.count - running, BATCH),
      start: spec.start,
    });
    if (batch.length === 0) break;
    for (const fire of batch) {
      if (running >= query.count || skipped > maxSkipped) break;
      const marked =
        !fire.skipped && spec.pause && paused(spec.pause, fire.time)
          ? { ...fire, skipped: pauseReason(spec.pause) }
          : fire;
      out.push(marked);
      if (marked.skipped) skipped += 1;
      else running += 1;
    }
    const last = batch.at(-1)?.time.getTime() ?? 0;
    from = new Date(last + 1000);
  }
  return out;
}
