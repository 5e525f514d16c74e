/**
 * Wall-clock time in an IANA time zone, with the runtime's own zone database (the one EventBridge Scheduler
 * also follows): a zone's offset at an instant, the instants a local wall time names (none in a spring-forward
 * gap, two in a fall-back repeat), and local ISO text.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading in `timeZone` at instant `ms`, as milliseconds of a UTC date with the same fields. */
export function wallClockMs(ms: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall + (((ms % 1000) + 1000) % 1000);
}

/** Offset of `timeZone` from UTC at instant `ms`, in milliseconds (east positive). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  return wallClockMs(ms, timeZone) - ms;
}

const HALF_DAY_MS = 12 * 3_600_000;

/**
 * The instants at which the clocks of `timeZone` read `wallMs` (a wall time written as a UTC date), earliest
 * first: none in a spring-forward gap, two in a fall-back repeat, else one. Zones change offset at most once
 * in any 24 hours, so the offsets half a day either side are the only candidates.
 */
export function instantsOf(wallMs: number, timeZone: string): number[] {
  const candidates = new Set([
    zoneOffsetMs(wallMs - HALF_DAY_MS, timeZone),
    zoneOffsetMs(wallMs + HALF_DAY_MS, timeZone),
  ]);
  return [...candidates]
    .map((offset) => wallMs - offset)
    .filter((ms) => zoneOffsetMs(ms, timeZone) === wallMs - ms)
    .sort((a, b) => a - b);
}

/** The offset in force just before a wall time (for a time in a gap: the offset the clocks jumped from). */
export function offsetBeforeMs(wallMs: number, timeZone: string): number {
  return zoneOffsetMs(wallMs - HALF_DAY_MS, timeZone);
}

function offsetText(offsetMs: number): string {
  const minutes = Math.round(offsetMs / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A wall time as `yyyy-mm-ddThh:mm:ss` (no offset: for a time that does not exist, or a naive one). */
export function wallText(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 19);
}

/** Instant `ms` as local ISO text in `timeZone`, with its offset: `2027-03-28T03:30:00+02:00`. */
export function localIso(ms: number, timeZone: string): string {
  const offset = zoneOffsetMs(ms, timeZone);
  return `${wallText(ms + offset)}${offsetText(offset)}`;
}
