/**
 * EventBridge Scheduler expressions: validation and fire times. Used by `cdk synth` (a bad expression fails
 * the synth), the CLI (`stepjobs jobs` shows the next fire times) and the local schedule simulator.
 *
 * - `cron(min hour day-of-month month day-of-week year)` is evaluated by croner in 7-part mode with Quartz
 *   weekday numbering (SUN=1), in the schedule's IANA time zone, so DST gaps and repeats behave as in
 *   EventBridge Scheduler: a nonexistent local time is skipped and a repeated one fires once.
 * - `rate(value unit)` fires every `value` units. Scheduler anchors a rate at the schedule's creation; the
 *   simulator anchors it at the Unix epoch, which gives the same spacing.
 * - `at(yyyy-mm-ddThh:mm:ss)` fires once, in the schedule's time zone.
 */
import { Cron } from 'croner';

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
      const parsed = new Cron(`0 ${toCronerFields(parts).join(' ')}`, {
        timezone: timeZone,
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

/** Offset of `timeZone` from UTC at `date`, in milliseconds. */
function zoneOffsetMs(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(date.getTime() / 1000) * 1000;
}

/**
 * Fire times strictly after `after` and at or before `until` (when given), at most `limit` of them.
 */
export function fireTimes(
  expression: string,
  timeZone: string,
  after: Date,
  limit: number,
  until?: Date,
): Date[] {
  const parsed = parseScheduleExpression(expression, timeZone);
  const out: Date[] = [];
  const fits = (d: Date) => !until || d.getTime() <= until.getTime();
  if (parsed.kind === 'rate') {
    let next = (Math.floor(after.getTime() / parsed.everyMs) + 1) * parsed.everyMs;
    while (out.length < limit && fits(new Date(next))) {
      out.push(new Date(next));
      next += parsed.everyMs;
    }
    return out;
  }
  if (parsed.kind === 'at') {
    const naive = new Date(`${parsed.localTime}Z`);
    const at = new Date(naive.getTime() - zoneOffsetMs(naive, timeZone));
    return at > after && fits(at) && limit > 0 ? [at] : [];
  }
  let cursor = after;
  while (out.length < limit) {
    const next = parsed.cron.nextRun(cursor);
    if (!next || !fits(next)) break;
    // croner moves a slot that falls in a DST gap to the next valid instant; Scheduler skips it instead.
    if (parsed.cron.match(next)) out.push(next);
    cursor = next;
  }
  return out;
}
