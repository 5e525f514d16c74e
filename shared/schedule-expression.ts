/**
 * EventBridge Scheduler expressions: validation and fire times. Used by `cdk synth` (a bad expression fails
 * the synth), the CLI (`stepjobs jobs` shows the next fire times) and the local schedule simulator.
 *
 * - `cron(min hour day-of-month month day-of-week year)` is evaluated by croner in 7-part mode with Quartz
 *   weekday numbering (SUN=1), on the wall clock of the schedule's IANA time zone, so DST gaps and repeats
 *   behave as in EventBridge Scheduler: a nonexistent local time is skipped and a repeated one fires once.
 * - `rate(value unit)` fires every `value` units from its anchor: the schedule's StartDate when the job sets
 *   one (Scheduler counts from it), else the Unix epoch (Scheduler counts from the schedule's creation, which
 *   nothing here knows yet: times shown for such a rate can be off on AWS by the creation time's offset).
 * - `at(yyyy-mm-ddThh:mm:ss)` fires once, in the schedule's time zone.
 */
import { Cron } from 'croner';
import { instantsOf, localIso, offsetBeforeMs, wallClockMs, wallText } from './time-zone';

export type ParsedExpression =
  | { kind: 'cron'; fields: string; cron: Cron }
  | { kind: 'rate'; everyMs: number }
  | { kind: 'at'; localTime: string };

const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export class InvalidScheduleExpression extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidScheduleExpression';
  }
}

/** Whether `timeZone` is an IANA zone this runtime knows (the same database EventBridge Scheduler uses). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone }).format(0);
    return true;
  } catch {
    return false;
  }
}

/** Parse and validate an expression; throws {@link InvalidScheduleExpression} saying what is wrong. */
export function parseScheduleExpression(expression: string, timeZone = 'UTC'): ParsedExpression {
  if (!isValidTimeZone(timeZone)) throw new InvalidScheduleExpression(`unknown time zone "${timeZone}"`);
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    const singular = unit.replace(/s$/, '');
    if (value < 1) throw new InvalidScheduleExpression(`rate value must be at least 1 in "${expression}"`);
    if ((value === 1) !== (unit === singular)) {
      throw new InvalidScheduleExpression(
        `"${expression}": use "${value} ${value === 1 ? singular : `${singular}s`}" (EventBridge rejects "${value} ${unit}")`,
      );
    }
    return { kind: 'rate', everyMs: value * (RATE_UNITS[singular] ?? 0) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) {
    const fields = (cron[1] ?? '').trim();
    const parts = fields.split(/\s+/);
    if (parts.length !== 6) {
      throw new InvalidScheduleExpression(
        `"${expression}" has ${parts.length} fields; EventBridge cron has 6 (minutes hours day-of-month month day-of-week year)`,
      );
    }
    if (parts[2] !== '?' && parts[4] !== '?') {
      throw new InvalidScheduleExpression(`"${expression}": one of day-of-month or day-of-week must be "?"`);
    }
    try {
      // On the wall clock: croner in UTC over wall times; fires() maps each to the instant it names.
      const parsed = new Cron(`0 ${toCronerFields(parts).join(' ')}`, {
        timezone: 'UTC',
        mode: '7-part',
        alternativeWeekdays: true,
        paused: true,
      });
      return { kind: 'cron', fields, cron: parsed };
    } catch (error) {
      throw new InvalidScheduleExpression(`"${expression}": ${(error as Error).message}`);
    }
  }
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (at) return { kind: 'at', localTime: at[1] ?? '' };
  throw new InvalidScheduleExpression(
    `"${expression}" is not a schedule expression; use rate(value unit), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss)`,
  );
}

const FIELD_MAX = [59, 23, 31, 12, 7, 2199];

/** EventBridge allows `start/step` (e.g. `0/15`); croner wants `start-max/step`. */
function toCronerFields(parts: string[]): string[] {
  return parts.map((field, i) =>
    field
      .split(',')
      .map((part) =>
        part.replace(
          /^(\d+)\/(\d+)$/,
          (_m, start: string, step: string) => `${start}-${FIELD_MAX[i]}/${step}`,
        ),
      )
      .join(','),
  );
}

/** One fire of a schedule: when, the local clock then, and why it does not run when it does not. */
export interface Fire {
  /** The instant (for a skipped nonexistent local time: where the clocks jumped from, at the old offset). */
  time: Date;
  /** Local ISO time with its offset (`2027-03-28T03:30:00+02:00`); a nonexistent one has no offset. */
  local: string;
  /** Why this slot does not run. */
  skipped?: string;
}

export interface FireOptions {
  /** The first instant considered (inclusive). */
  from: Date;
  /** The last instant considered (inclusive). @default no end */
  until?: Date;
  /** How many fires that run to return (skipped ones come along and do not count). */
  limit: number;
  /**
   * The schedule's StartDate: a `rate()` counts from it (else, on AWS, from the schedule's creation), and a
   * cron fires nothing before it; an `at()` ignores it, as Scheduler does. @default the Unix epoch
   */
  start?: Date;
}

/** Beyond this many candidate slots, a search gives up (a schedule that never runs again, say). */
const MAX_CANDIDATES = 200_000;

/**
 * The fires of `expression` in `timeZone` from `options.from` on, as EventBridge Scheduler makes them:
 *
 * - cron is evaluated on the zone's wall clock. A local time that does not exist (spring-forward) is listed
 *   skipped, as Scheduler skips it; a repeated local time (fall-back) fires once, at its first pass.
 * - rate fires every interval from the anchor, in UTC (so a daily rate drifts an hour in local time at a DST
 *   change, as on AWS).
 * - at fires once, at the first instant its local time names (skipped when it names none).
 */
export function fires(expression: string, timeZone: string, options: FireOptions): Fire[] {
  const parsed = parseScheduleExpression(expression, timeZone);
  const out: Fire[] = [];
  const start = options.start?.getTime() ?? 0;
  const from = parsed.kind === 'at' ? options.from.getTime() : Math.max(options.from.getTime(), start);
  const until = options.until?.getTime() ?? Number.POSITIVE_INFINITY;
  let running = 0;
  const push = (fire: Fire) => {
    out.push(fire);
    if (!fire.skipped) running += 1;
  };
  if (parsed.kind === 'rate') {
    const steps = Math.max(0, Math.ceil((from - start) / parsed.everyMs));
    for (let t = start + steps * parsed.everyMs; running < options.limit && t <= until; t += parsed.everyMs) {
      push({ time: new Date(t), local: localIso(t, timeZone) });
    }
    return out;
  }
  const fireAt = (wallMs: number): Fire | undefined => {
    const [first] = instantsOf(wallMs, timeZone);
    if (first !== undefined) return { time: new Date(first), local: localIso(first, timeZone) };
    const wall = wallText(wallMs);
    return {
      time: new Date(wallMs - offsetBeforeMs(wallMs, timeZone)),
      local: wall,
      skipped: `dst: ${wall.slice(11, 16)} does not exist in ${timeZone} on ${wall.slice(0, 10)} (clocks go forward)`,
    };
  };
  if (parsed.kind === 'at') {
    const fire = fireAt(Date.parse(`${parsed.localTime}Z`));
    const t = fire?.time.getTime() ?? Number.NaN;
    if (fire && t >= from && t <= until && options.limit > 0) push(fire);
    return out;
  }
  // Wall-clock iteration: croner runs in UTC over wall times, and each is mapped to the instant it names.
  let wallCursor = wallClockMs(from, timeZone) - HOUR_MS * 3;
  for (let n = 0; running < options.limit && n < MAX_CANDIDATES; n++) {
    const next = parsed.cron.nextRun(new Date(wallCursor));
    if (!next) break;
    wallCursor = next.getTime();
    const fire = fireAt(wallCursor);
    if (!fire) continue;
    const t = fire.time.getTime();
    if (t > until) break;
    if (t >= from) push(fire);
  }
  return out;
}

const HOUR_MS = 3_600_000;

/** The instants that run, from `from` (inclusive) to `until` (inclusive, when given), at most `limit`. */
export function fireTimes(
  expression: string,
  timeZone: string,
  from: Date,
  limit: number,
  until?: Date,
  start?: Date,
): Date[] {
  return fires(expression, timeZone, { from, limit, until, start })
    .filter((fire) => !fire.skipped)
    .map((fire) => fire.time);
}

/** A slot as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`: UTC, whole seconds. */
export function slotTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
