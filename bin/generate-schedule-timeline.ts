/**
 * Writes docs/images/schedule-timeline.svg: ten days of one job's slots as the local runtime really ran them
 * (fired, skipped at spring-forward, excluded by a holiday, paused, missed, caught up), so the picture in
 * docs/scheduling.md cannot drift from what the code does.
 *   npm run docs:timeline             write the file
 *   npm run docs:timeline -- --check  exit 1 when it is out of date
 *
 * Nothing here reaches AWS: the runtime runs the synthesized template in-process, on an in-memory ledger, with
 * a local Scheduler. The SVG is drawn by hand: a row of marks needs no charting library.
 */
import '../local/process-defaults';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { LocalRuntime } from '../local/runtime';
import {
  formatScheduledTime as slotTime,
  simulateWindow,
  slotKey,
  slotsBetween,
} from '../local/schedule-simulator';
import { synthesizeTemplate } from '../local/synth';
import { RunStatus, SkipReason, TriggerType } from '../shared/constants';
import type { RunRecord } from '../shared/ledger/items';
import { fires } from '../shared/schedule-expression';
import { wallClockMs } from '../shared/time-zone';
import { heartbeat } from '../workflows/heartbeat';
import { defineJob } from '../workflows/job-definition';

export const TIMELINE_FILE = path.resolve(__dirname, '..', 'docs', 'images', 'schedule-timeline.svg');

const TIME_ZONE = 'Europe/Berlin';
const EXPRESSION = 'cron(30 2 * * ? *)';

/**
 * 02:30 in Berlin every day, off on Bavarian public holidays, making up every slot it missed in the last 30
 * days. The heartbeat's steps and input schema, with this schedule (as test/e2e/schedule-control.test.ts).
 */
export const timelineJob = defineJob({
  ...heartbeat,
  schedule: {
    expression: EXPRESSION,
    timeZone: TIME_ZONE,
    catchup: { mode: 'all', window: Duration.days(30) },
  },
  calendar: { holidays: 'DE-BY' },
});

/**
 * The window, both ends included: Berlin's 2027-03-24 00:00 (CET) to 2027-04-02 23:59:59 (CEST). It holds
 * spring-forward on Sunday 2027-03-28 (02:30 does not exist), Good Friday 2027-03-26 and Easter Monday
 * 2027-03-29.
 */
export const TIMELINE_WINDOW = {
  from: new Date('2027-03-23T23:00:00Z'),
  to: new Date('2027-04-02T21:59:59Z'),
};
/** Slots whose delivery never comes: the sweep records them MISSED and catches them up. */
export const DROPPED = ['2027-03-25T01:30:00Z', '2027-04-01T00:30:00Z'];
/** The slots delivered while the job is paused, from PAUSE_AT to RESUME_AT (simulated time). */
export const PAUSED = ['2027-03-30T00:30:00Z', '2027-03-31T00:30:00Z'];
const PAUSE_AT = '2027-03-29T12:00:00Z';
const RESUME_AT = '2027-03-31T12:00:00Z';
const PAUSE_REASON = 'database maintenance';
const OPERATOR = 'local:timeline';

export type Mark = 'fired' | 'dst' | 'excluded' | 'paused' | 'missed' | 'caughtUp';

/** What happened to one slot, read back from the ledger (and, for a nonexistent local time, the schedule). */
export interface TimelineSlot {
  /** The slot as the Scheduler names it (UTC); for a DST skip, the instant the clocks jumped from. */
  time: string;
  /** The local date, `YYYY-MM-DD`. */
  localDate: string;
  /** The local wall time, `HH:MM`. */
  localTime: string;
  /** In the order they happened. */
  marks: Mark[];
  /** The holiday's name, for an excluded slot. */
  excludedBy?: string;
}

/** Holidays are resolved from 2027 on whatever year the picture is drawn in, so it never changes with the year. */
const CALENDAR_DATE = new Date('2027-01-01T00:00:00Z');

/** Deliver, drop, pause, sweep and catch up over the window on a fresh local runtime; return every slot. */
export async function runTimeline(): Promise<TimelineSlot[]> {
  const template = synthesizeTemplate({ jobs: [timelineJob], calendarDate: CALENDAR_DATE });
  const runtime = await LocalRuntime.start({ template, logLevel: 'SILENT' });
  try {
    return await runOn(runtime);
  } finally {
    await runtime.stop();
  }
}

async function runOn(runtime: LocalRuntime): Promise<TimelineSlot[]> {
  const jobId = timelineJob.id;
  const jobs = [runtime.job(jobId)];
  const drop = new Set(DROPPED.map((scheduledTime) => slotKey({ jobId, scheduledTime })));
  const { from, to } = TIMELINE_WINDOW;
  const pauseAt = new Date(PAUSE_AT);
  const resumeAt = new Date(RESUME_AT);
  // StartRun reads the pause at the real clock, so the pause is in force while exactly the paused slots are
  // delivered. Its start and end are written at simulated times, which the sweep compares with the slots.
  const paused = slotsBetween(jobs, pauseAt, resumeAt).map((slot) => slot.scheduledTime);
  if (paused.join() !== PAUSED.join())
    throw new Error(`The pause holds ${paused.join(', ')}, not PAUSED (${PAUSED.join(', ')})`);
  await simulateWindow(runtime, from, pauseAt, { jobs, drop });
  await runtime.ledger.jobs.setPaused(jobId, true, OPERATOR, PAUSE_AT, PAUSE_REASON);
  await simulateWindow(runtime, new Date(pauseAt.getTime() + 1000), resumeAt, { jobs, drop });
  await runtime.ledger.jobs.setPaused(jobId, false, OPERATOR, RESUME_AT, 'maintenance done');
  await simulateWindow(runtime, new Date(resumeAt.getTime() + 1000), to, { jobs, drop });
  await runtime.sweep({ from, to });
  return readBack(runtime, jobId);
}

async function allRuns(runtime: LocalRuntime, jobId: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await runtime.ledger.runs.listByJob(jobId, { limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** Each slot of the window and what the ledger says happened to it. Throws on a slot it cannot explain. */
async function readBack(runtime: LocalRuntime, jobId: string): Promise<TimelineSlot[]> {
  const { from, to } = TIMELINE_WINDOW;
  const bySlot = new Map<string, RunRecord[]>();
  for (const run of await allRuns(runtime, jobId)) {
    const time = run.trigger.scheduledTime;
    if (time) bySlot.set(time, [...(bySlot.get(time) ?? []), run]);
  }
  const claims = new Map(
    (await runtime.ledger.jobs.claimedSlots(jobId, slotTime(from), slotTime(to))).map((c) => [
      c.scheduledTime,
      c,
    ]),
  );
  const out: TimelineSlot[] = [];
  for (const fire of fires(EXPRESSION, TIME_ZONE, { from, until: to, limit: 1000 })) {
    const time = slotTime(fire.time);
    const wall = fire.skipped ? Date.parse(`${fire.local}Z`) : wallClockMs(fire.time.getTime(), TIME_ZONE);
    const wallIso = new Date(wall).toISOString();
    const slot: TimelineSlot = {
      time,
      localDate: wallIso.slice(0, 10),
      localTime: wallIso.slice(11, 16),
      marks: [],
    };
    if (fire.skipped) slot.marks.push('dst');
    for (const run of bySlot.get(time) ?? []) {
      const mark = markOf(run);
      if (!mark)
        throw new Error(`Slot ${time}: run ${run.runId} is ${run.status}, which the picture cannot show`);
      if (mark === 'excluded') slot.excludedBy = holidayName(run.calendarExclusion ?? '');
      slot.marks.push(mark);
    }
    // What became of the slot first (its delivery, or the sweep's MISSED record), then its catch-up. Run times
    // cannot order them: deliveries carry the real clock, the sweep's records the simulated one.
    slot.marks.sort((a, b) => Number(a === 'caughtUp') - Number(b === 'caughtUp') || a.localeCompare(b));
    const claim = claims.get(time);
    if (
      slot.marks.includes('caughtUp') &&
      bySlot.get(time)?.find((r) => r.runId === claim?.runId)?.trigger.type !== TriggerType.CATCHUP
    )
      throw new Error(`Slot ${time} was caught up, but its claim is not the catch-up run's`);
    if (slot.marks.length === 0) throw new Error(`Slot ${time}: nothing was recorded for it`);
    out.push(slot);
  }
  return out.sort((a, b) => a.time.localeCompare(b.time));
}

function markOf(run: RunRecord): Mark | undefined {
  if (run.status === RunStatus.MISSED) return 'missed';
  if (run.status === RunStatus.SKIPPED && run.skipReason === SkipReason.CALENDAR) return 'excluded';
  if (run.status === RunStatus.SKIPPED && run.skipReason === SkipReason.PAUSED) return 'paused';
  if (run.status !== RunStatus.SUCCEEDED) return undefined;
  if (run.trigger.type === TriggerType.CATCHUP) return 'caughtUp';
  return run.trigger.type === TriggerType.SCHEDULE ? 'fired' : undefined;
}

/** `calendar: Good Friday (DE-BY holiday)` → `Good Friday`. */
function holidayName(exclusion: string): string {
  return exclusion.replace(/^calendar: /, '').replace(/ \([A-Z0-9-]+ holiday\)$/, '');
}

// Drawing. Colours are GitHub's light palette; every mark also has its own shape, for readers who do not
// tell the colours apart. The background is white so the picture reads the same in GitHub's dark mode.

interface MarkStyle {
  label: string;
  /** What the legend says it means. */
  meaning: string;
  colour: string;
}

const MARKS: Record<Mark, MarkStyle> = {
  fired: { label: 'fired', meaning: 'delivered and ran', colour: '#1a7f37' },
  dst: { label: 'skipped (DST)', meaning: 'local time does not exist', colour: '#6e7781' },
  excluded: { label: 'excluded', meaning: 'calendar: a holiday', colour: '#8250df' },
  paused: { label: 'paused', meaning: 'SKIPPED, slot left open', colour: '#9a6700' },
  missed: { label: 'missed', meaning: 'no delivery: MISSED', colour: '#cf222e' },
  caughtUp: { label: 'caught up', meaning: 'the sweep ran it late', colour: '#0969da' },
};
const MARK_ORDER: Mark[] = ['fired', 'dst', 'excluded', 'paused', 'missed', 'caughtUp'];

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const TEXT = '#1f2328';
const MUTED = '#59636e';
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const MARGIN = 24;
const COLUMN = 92;
const AXIS_Y = 124;
const STEP_Y = 30;
const LEGEND_ROW = 26;

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x}" y="${y}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

/** One mark's shape centred on (x, y). */
function shape(mark: Mark, x: number, y: number): string {
  const { colour } = MARKS[mark];
  const r = 8;
  switch (mark) {
    case 'fired':
      return `<circle cx="${x}" cy="${y}" r="${r}" fill="${colour}"/>`;
    case 'dst':
      return `<circle cx="${x}" cy="${y}" r="${r - 1}" fill="#ffffff" stroke="${colour}" stroke-width="2" stroke-dasharray="3 2"/>`;
    case 'excluded':
      return `<rect x="${x - r + 1}" y="${y - r + 1}" width="${2 * r - 2}" height="${2 * r - 2}" fill="${colour}"/>`;
    case 'paused':
      return (
        `<rect x="${x - 7}" y="${y - r}" width="5" height="${2 * r}" fill="${colour}"/>` +
        `<rect x="${x + 2}" y="${y - r}" width="5" height="${2 * r}" fill="${colour}"/>`
      );
    case 'missed':
      return `<path d="M${x - 6} ${y - 6}L${x + 6} ${y + 6}M${x + 6} ${y - 6}L${x - 6} ${y + 6}" stroke="${colour}" stroke-width="3" stroke-linecap="round"/>`;
    case 'caughtUp':
      return `<path d="M${x - 7} ${y - 8}L${x + 8} ${y}L${x - 7} ${y + 8}Z" fill="${colour}"/>`;
  }
}

function dayLabel(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()] ?? ''} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ''}`;
}

/** The local date (`YYYY-MM-DD`) of an instant. */
function localDate(at: Date | string): string {
  return new Date(wallClockMs(new Date(at).getTime(), TIME_ZONE)).toISOString().slice(0, 10);
}

/** The days from the window's first local date to its last, `YYYY-MM-DD`. */
function localDays(): string[] {
  const last = localDate(TIMELINE_WINDOW.to);
  const out: string[] = [];
  for (let d = localDate(TIMELINE_WINDOW.from); d <= last;) {
    out.push(d);
    d = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  }
  return out;
}

/** The SVG for `slots`: one column per local day, each slot's marks stacked under it, then a legend. */
export function renderSvg(slots: readonly TimelineSlot[]): string {
  const days = localDays();
  const width = MARGIN * 2 + COLUMN * days.length;
  const deepest = Math.max(1, ...slots.map((s) => s.marks.length));
  const labelsY = AXIS_Y + STEP_Y * (deepest - 1) + 32;
  const legendY = labelsY + 78;
  const height = legendY + LEGEND_ROW + 24;
  const out: string[] = [];
  const title = `${EXPRESSION} in ${TIME_ZONE}, ${days[0]} to ${days.at(-1)}, as the local runtime ran it`;
  const times = [...new Set(slots.map((s) => s.localTime))].join(', ');
  const subtitle = [
    `Every day at ${times} local · calendar: DE-BY public holidays · catch-up: all, within 30 days`,
    `Paused ${PAUSE_AT.slice(0, 16)}Z, resumed ${RESUME_AT.slice(0, 16)}Z · deliveries of ${DROPPED.map((t) => dayLabel(localDate(t))).join(' and ')} dropped`,
  ];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="title desc" font-family="${FONT}" font-size="12" fill="${TEXT}">`,
    `<title id="title">${escapeXml(title)}</title>`,
    `<desc id="desc">${escapeXml(
      slots
        .map((s) => `${s.localDate} ${s.localTime}: ${s.marks.map((m) => MARKS[m].label).join(', ')}`)
        .join('; '),
    )}</desc>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(MARGIN, 28, title, 'font-size="15" font-weight="600"'),
    text(MARGIN, 48, subtitle[0] ?? '', `fill="${MUTED}"`),
    text(MARGIN, 64, subtitle[1] ?? '', `fill="${MUTED}"`),
    `<line x1="${MARGIN}" y1="${AXIS_Y}" x2="${width - MARGIN}" y2="${AXIS_Y}" stroke="#d1d9e0" stroke-width="2"/>`,
  );
  days.forEach((day, i) => {
    const x = MARGIN + COLUMN * i;
    out.push(
      `<line x1="${x}" y1="${AXIS_Y - 28}" x2="${x}" y2="${AXIS_Y + 6}" stroke="#d1d9e0"/>`,
      text(x + COLUMN / 2, AXIS_Y - 34, dayLabel(day), 'text-anchor="middle" font-weight="600"'),
    );
  });
  out.push(
    `<line x1="${width - MARGIN}" y1="${AXIS_Y - 28}" x2="${width - MARGIN}" y2="${AXIS_Y + 6}" stroke="#d1d9e0"/>`,
  );
  for (const [day, ofDay] of groupBy(slots, (s) => s.localDate)) {
    const column = days.indexOf(day);
    if (column < 0) throw new Error(`Slot on ${day} is outside the window`);
    ofDay.forEach((slot, j) => {
      const x = MARGIN + COLUMN * column + (COLUMN * (j + 1)) / (ofDay.length + 1);
      slot.marks.forEach((mark, k) => {
        const y = AXIS_Y + STEP_Y * k;
        if (k > 0)
          out.push(
            `<line x1="${x}" y1="${y - STEP_Y + 10}" x2="${x}" y2="${y - 10}" stroke="${MUTED}" stroke-width="1.5"/>`,
          );
        out.push(shape(mark, x, y));
      });
      const lines = [
        ...slot.marks.map((mark) => ({ content: MARKS[mark].label, colour: MARKS[mark].colour })),
        ...(slot.excludedBy ? [{ content: slot.excludedBy, colour: MARKS.excluded.colour }] : []),
        {
          content: slot.marks.includes('dst') ? `no ${slot.localTime}` : `${slot.time.slice(11, 16)} UTC`,
          colour: MUTED,
        },
      ];
      lines.forEach((line, k) =>
        out.push(text(x, labelsY + 15 * k, line.content, `text-anchor="middle" fill="${line.colour}"`)),
      );
    });
  }
  // Two rows of three, so each meaning has room.
  const legendColumn = (width - MARGIN * 2) / 3;
  MARK_ORDER.forEach((mark, i) => {
    const x = MARGIN + legendColumn * (i % 3) + 10;
    const y = legendY + LEGEND_ROW * Math.floor(i / 3);
    out.push(
      shape(mark, x, y),
      // One text element, so the meaning follows the label whatever the font's widths.
      `<text x="${x + 18}" y="${y + 4}"><tspan font-weight="600" fill="${MARKS[mark].colour}">${escapeXml(MARKS[mark].label)}</tspan><tspan fill="${MUTED}">: ${escapeXml(MARKS[mark].meaning)}</tspan></text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Array<[string, T[]]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** The picture, from a fresh run of the timeline. */
export async function renderTimeline(): Promise<string> {
  return renderSvg(await runTimeline());
}

async function main(): Promise<number> {
  const started = performance.now();
  const svg = await renderTimeline();
  const relative = path.relative(process.cwd(), TIMELINE_FILE);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(TIMELINE_FILE, 'utf8');
    } catch {
      // not written yet
    }
    if (current === svg) return 0;
    process.stderr.write(`${relative} is out of date; run npm run docs:timeline\n`);
    return 1;
  }
  mkdirSync(path.dirname(TIMELINE_FILE), { recursive: true });
  writeFileSync(TIMELINE_FILE, svg);
  process.stdout.write(`wrote ${relative} in ${Math.round(performance.now() - started)} ms\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
