/**
 * A job's `calendar`: when its schedule does not run. Checked and resolved at synth time (and by the CLI's
 * `preview`, `jobs` and `show`) into a {@link ResolvedCalendar} of concrete dates, which StartRun and the
 * sweep evaluate. Public holidays come from date-holidays, which is large and stays here: no Lambda bundle
 * imports this file. Holidays are resolved from the synth's year for `holidayYears` years; a deploy in a
 * later year extends that horizon (docs/scheduling.md, "Calendars").
 */
import Holidays from 'date-holidays';
import { WEEKDAY_NAMES, type ResolvedCalendar, type Weekday } from '../shared/calendar';

export type { Weekday } from '../shared/calendar';

export interface CalendarRange {
  /** Shown as the reason: `calendar: <name>`. */
  name: string;
  /** First date excluded (`YYYY-MM-DD`, the job's time zone). */
  from: string;
  /** Last date excluded (included). */
  to: string;
}

export interface CalendarWindow {
  /** Weekdays the window applies on. @default every day */
  weekdays?: Weekday[];
  /** Local start, `HH:MM` (included). */
  from: string;
  /** Local end, `HH:MM` (excluded; `24:00` for midnight). */
  to: string;
}

/** When a job's scheduled runs do not run. All evaluated in the job's time zone. */
export interface JobCalendar {
  /** Single dates (`YYYY-MM-DD`). */
  excludeDates?: string[];
  /** Named date ranges, both ends included: a change freeze. */
  excludeRanges?: CalendarRange[];
  /** Weekdays. */
  excludeWeekdays?: Weekday[];
  /** Public holidays of a country, optionally a subdivision: `DE`, `DE-BY`, `US-CA`. */
  holidays?: string | string[];
  /** Runs only inside these local windows (business hours); a slot outside all of them is excluded. */
  only?: CalendarWindow[];
  /** How many years of holidays to resolve, from the synth's year. @default 3 */
  holidayYears?: number;
}

/** A problem with one field of a calendar: the job-definition layer turns it into a JobDefinitionError. */
export class CalendarError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem);
    this.name = 'CalendarError';
  }
}

export const DEFAULT_HOLIDAY_YEARS = 3;
const MAX_HOLIDAY_YEARS = 10;

function isDate(text: unknown): text is string {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

function weekdayNumbers(field: string, days: readonly string[] | undefined): number[] | undefined {
  if (days === undefined) return undefined;
  if (!Array.isArray(days) || days.length === 0)
    throw new CalendarError(field, `must list weekdays (${WEEKDAY_NAMES.join(', ')})`);
  return days.map((day, i) => {
    const n = WEEKDAY_NAMES.indexOf(day as Weekday);
    if (n < 0)
      throw new CalendarError(`${field}[${i}]`, `must be one of ${WEEKDAY_NAMES.join(', ')} (got "${day}")`);
    return n;
  });
}

function minutesOf(field: string, text: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
  if (!m || Number(m[2]) > 59 || minutes > 24 * 60)
    throw new CalendarError(field, `must be a local time HH:MM from 00:00 to 24:00 (got "${text}")`);
  return minutes;
}

/** `DE-BY` → the country and subdivision, checked against the holiday library. */
function holidayRegion(field: string, code: string): { country: string; state?: string } {
  const m = /^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$/.exec(code);
  if (!m)
    throw new CalendarError(
      field,
      `must be a country code, optionally with a subdivision (DE, DE-BY; got "${code}")`,
    );
  const country = m[1] ?? '';
  const state = m[2];
  const library = new Holidays();
  if (!library.getCountries()[country])
    throw new CalendarError(field, `names an unknown country "${country}"`);
  if (state !== undefined && !library.getStates(country)?.[state]) {
    throw new CalendarError(field, `names an unknown subdivision "${state}" of ${country}`);
  }
  return state === undefined ? { country } : { country, state };
}

/**
 * Check a calendar and resolve it into concrete dates for `timeZone`, holidays from the year of `today` on.
 * Throws a {@link CalendarError} naming the field.
 */
export function resolveCalendar(
  calendar: JobCalendar,
  timeZone: string,
  today = new Date(),
): ResolvedCalendar {
  const dates: Record<string, string> = {};
  (calendar.excludeDates ?? []).forEach((date, i) => {
    if (!isDate(date))
      throw new CalendarError(`excludeDates[${i}]`, `must be a date YYYY-MM-DD (got "${date}")`);
    dates[date] = `excluded date ${date}`;
  });
  const ranges = (calendar.excludeRanges ?? []).map((range, i): [string, string, string] => {
    const field = `excludeRanges[${i}]`;
    if (!range.name?.trim()) throw new CalendarError(`${field}.name`, 'must name the range');
    if (!isDate(range.from))
      throw new CalendarError(`${field}.from`, `must be a date YYYY-MM-DD (got "${range.from}")`);
    if (!isDate(range.to))
      throw new CalendarError(`${field}.to`, `must be a date YYYY-MM-DD (got "${range.to}")`);
    if (range.to < range.from)
      throw new CalendarError(field, `ends (${range.to}) before it starts (${range.from})`);
    return [range.from, range.to, range.name.trim()];
  });
  const weekdays = weekdayNumbers('excludeWeekdays', calendar.excludeWeekdays);
  const only = calendar.only?.map((window, i) => {
    const field = `only[${i}]`;
    const from = minutesOf(`${field}.from`, window.from);
    const to = minutesOf(`${field}.to`, window.to);
    if (to <= from) throw new CalendarError(field, `ends (${window.to}) before it starts (${window.from})`);
    const days = weekdayNumbers(`${field}.weekdays`, window.weekdays);
    return { ...(days ? { days } : {}), from, to };
  });
  if (only !== undefined && only.length === 0)
    throw new CalendarError('only', 'must list at least one window');

  const years = calendar.holidayYears ?? DEFAULT_HOLIDAY_YEARS;
  if (!Number.isInteger(years) || years < 1 || years > MAX_HOLIDAY_YEARS)
    throw new CalendarError(
      'holidayYears',
      `must be a whole number from 1 to ${MAX_HOLIDAY_YEARS} (got ${years})`,
    );
  const codes = calendar.holidays === undefined ? [] : [calendar.holidays].flat();
  const firstYear = today.getUTCFullYear();
  codes.forEach((code, i) => {
    const field = Array.isArray(calendar.holidays) ? `holidays[${i}]` : 'holidays';
    const region = holidayRegion(field, code);
    const library = new Holidays(region.country, region.state ?? '', {
      languages: ['en'],
      types: ['public'],
    });
    for (let year = firstYear; year < firstYear + years; year++) {
      for (const holiday of library.getHolidays(year)) {
        // `date` is the local date of the holiday (`2027-01-01 00:00:00`); a holiday lasting days starts on it.
        const date = holiday.date.slice(0, 10);
        dates[date] ??= `${holiday.name} (${code} holiday)`;
      }
    }
  });
  const onlyText = calendar.only?.map(windowText).join(', ');
  return {
    timeZone,
    ...(Object.keys(dates).length > 0 ? { dates } : {}),
    ...(ranges.length > 0 ? { ranges } : {}),
    ...(weekdays ? { weekdays } : {}),
    ...(only ? { only, onlyText } : {}),
    ...(codes.length > 0 ? { holidaysUntil: `${firstYear + years - 1}-12-31` } : {}),
  };
}

function windowText(window: CalendarWindow): string {
  return `${window.weekdays ? `${window.weekdays.join(',')} ` : ''}${window.from}-${window.to}`;
}
