/**
 * A job's calendar, resolved: the concrete dates, ranges, weekdays and windows a job does not run in, as the
 * synth resolves them from the job's `calendar` (workflows/calendar.ts, which holds the holiday library) for
 * StartRun and the sweep. Small on purpose: it ships in the lifecycle bundles and rides in the StartRun
 * payload and the sweep's environment. Every test is on the job's wall clock (its time zone).
 */
import * as z from './zod';
import { wallClockMs } from './time-zone';

export const ResolvedCalendar = z.object({
  /** The job's time zone: dates and windows are read on its wall clock. */
  timeZone: z.string(),
  /** Single dates (`YYYY-MM-DD`) and what they are (`New Year's Day (DE-BY holiday)`, `excluded date`). */
  dates: z.optional(z.record(z.string(), z.string())),
  /** Named ranges of dates, both ends included: `[from, to, name]`. */
  ranges: z.optional(z.array(z.tuple([z.string(), z.string(), z.string()]))),
  /** Weekdays it never runs on, 0 = Sunday. */
  weekdays: z.optional(z.array(z.int())),
  /** Local windows it runs in (business hours); outside all of them a slot is excluded. */
  only: z.optional(
    z.array(
      z.object({
        /** Weekdays the window applies on, 0 = Sunday. @default every day */
        days: z.optional(z.array(z.int())),
        /** Minutes from local midnight: from (included) to (excluded). */
        from: z.int(),
        to: z.int(),
      }),
    ),
  ),
  /** The last date (`YYYY-MM-DD`) the holidays were resolved for; a later deploy extends it. */
  holidaysUntil: z.optional(z.string()),
  /** What `only` says, for reasons (`MON,TUE,WED,THU,FRI 08:00-18:00`). */
  onlyText: z.optional(z.string()),
});
export type ResolvedCalendar = z.infer<typeof ResolvedCalendar>;

export const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
export type Weekday = (typeof WEEKDAY_NAMES)[number];

/**
 * Why the calendar excludes the instant `at`, as `calendar: <name>`, or undefined when it may run then.
 * Dates and ranges come first, then weekdays, then the `only` windows.
 */
export function calendarExclusion(calendar: ResolvedCalendar | undefined, at: Date): string | undefined {
  if (!calendar) return undefined;
  const wall = new Date(wallClockMs(at.getTime(), calendar.timeZone));
  const date = wall.toISOString().slice(0, 10);
  const day = wall.getUTCDay();
  const named = calendar.dates?.[date];
  if (named !== undefined) return `calendar: ${named || `excluded date ${date}`}`;
  const range = calendar.ranges?.find(([from, to]) => date >= from && date <= to);
  if (range) return `calendar: ${range[2]}`;
  if (calendar.weekdays?.includes(day)) return `calendar: no runs on ${WEEKDAY_NAMES[day]}`;
  if (calendar.only && calendar.only.length > 0) {
    const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
    const inside = calendar.only.some(
      (w) => (w.days === undefined || w.days.includes(day)) && minute >= w.from && minute < w.to,
    );
    if (!inside) return `calendar: outside ${calendar.onlyText ?? 'its run windows'}`;
  }
  return undefined;
}

/** Whether `at` is past the dates the calendar's holidays were resolved for (it should be deployed again). */
export function pastHolidayHorizon(calendar: ResolvedCalendar | undefined, at: Date): boolean {
  if (!calendar?.holidaysUntil) return false;
  const date = new Date(wallClockMs(at.getTime(), calendar.timeZone)).toISOString().slice(0, 10);
  return date > calendar.holidaysUntil;
}

/** The calendar without the names of its dates: what the sweep needs (is a slot expected?), in fewer bytes. */
export function unnamedCalendar(calendar: ResolvedCalendar): ResolvedCalendar {
  if (!calendar.dates) return calendar;
  return { ...calendar, dates: Object.fromEntries(Object.keys(calendar.dates).map((d) => [d, ''])) };
}
