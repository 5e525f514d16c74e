import '../helpers/quiet';
import { readFileSync } from 'node:fs';
import {
  DROPPED,
  PAUSED,
  renderSvg,
  runTimeline,
  TIMELINE_FILE,
  type Mark,
  type TimelineSlot,
} from '../../bin/generate-schedule-timeline';

let slots: TimelineSlot[] = [];
beforeAll(async () => {
  slots = await runTimeline();
});

const at = (time: string) => slots.find((s) => s.time === time);

test('docs/images/schedule-timeline.svg is what the generator draws today (npm run docs:timeline)', () => {
  expect(readFileSync(TIMELINE_FILE, 'utf8')).toBe(renderSvg(slots));
});

test('the picture has every kind of slot', () => {
  const marks = new Set(slots.flatMap((s) => s.marks));
  const every: Mark[] = ['fired', 'dst', 'excluded', 'paused', 'missed', 'caughtUp'];
  expect([...marks].sort()).toEqual([...every].sort());
  const svg = renderSvg(slots);
  for (const label of ['fired', 'skipped (DST)', 'excluded', 'paused', 'missed', 'caught up'])
    expect(svg).toContain(`>${label}</text>`);
});

test('each slot is what the runtime did with it', () => {
  expect(slots.map((s) => s.localDate)).toEqual([
    '2027-03-24',
    '2027-03-25',
    '2027-03-26',
    '2027-03-27',
    '2027-03-28',
    '2027-03-29',
    '2027-03-30',
    '2027-03-31',
    '2027-04-01',
    '2027-04-02',
  ]);
  // 02:30 does not exist in Berlin on the spring-forward day: listed where the clocks jumped from.
  expect(at('2027-03-28T01:30:00Z')).toMatchObject({ marks: ['dst'], localTime: '02:30' });
  expect(at('2027-03-26T01:30:00Z')).toMatchObject({ marks: ['excluded'], excludedBy: 'Good Friday' });
  expect(at('2027-03-29T00:30:00Z')).toMatchObject({ marks: ['excluded'], excludedBy: 'Easter Monday' });
  for (const time of DROPPED) expect(at(time)?.marks).toEqual(['missed', 'caughtUp']);
  // A pause leaves its slots open; once it is over, the sweep makes them up.
  for (const time of PAUSED) expect(at(time)?.marks).toEqual(['paused', 'caughtUp']);
  for (const date of ['2027-03-24', '2027-03-27', '2027-04-02'])
    expect(slots.find((s) => s.localDate === date)?.marks).toEqual(['fired']);
});
