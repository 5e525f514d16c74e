/**
 * A job's slots as its operators see them: the schedule's fires (shared/schedule-expression.ts, which the
 * simulator reads directly), each marked with why it will not run: a nonexistent local time, a calendar
 * exclusion, or a pause. `preview`, `jobs` and `backfill` list slots through here.
 */
import { calendarExclusion, type ResolvedCalendar } from './calendar';
import type { PauseInfo } from './ledger/items';
import { pauseText } from './ledger/pause';
import { fires, type Fire } from './schedule-expression';

export interface SlotSpec {
  expression: string;
  timeZone: string;
  /** The schedule's StartDate. */
  start?: Date;
  /** The job's pause: slots from its start (`at`, default always) to its end (`until`, default never). */
  pause?: PauseInfo;
  /** The job's calendar: a slot in one of its exclusions does not run. */
  calendar?: ResolvedCalendar;
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

function paused(pause: PauseInfo, at: Date): boolean {
  const t = at.toISOString();
  return (pause.at === undefined || t >= pause.at) && (pause.until === undefined || t < pause.until);
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
      const excluded = fire.skipped ? undefined : calendarExclusion(spec.calendar, fire.time);
      const marked = excluded
        ? { ...fire, skipped: excluded }
        : !fire.skipped && spec.pause && paused(spec.pause, fire.time)
          ? { ...fire, skipped: `paused: ${pauseText(spec.pause)}` }
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
