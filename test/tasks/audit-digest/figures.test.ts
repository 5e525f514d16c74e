import { RunStatus } from '../../../shared/constants';
import {
  cutText,
  digestWindows,
  MAX_CAUSE_CHARS,
  MAX_ERROR_GROUPS,
  OTHER_ERRORS,
  percentile,
  WindowTally,
} from '../../../tasks/audit-digest/figures';
import { reportKeys } from '../../../tasks/audit-digest/report-files';
import { runningRecord } from '../../helpers/builders';
import { HOUR } from '../../helpers/clock';

const span = (w: { from: string; to: string }) => (Date.parse(w.to) - Date.parse(w.from)) / HOUR;

describe('digestWindows', () => {
  it('ends both windows at the given instant and starts them at the same local time 1 and 7 days before', () => {
    // 06:00 in Berlin in winter (UTC+1).
    const windows = digestWindows(new Date('2027-01-10T05:00:00.000Z'), 'Europe/Berlin');
    expect(windows).toEqual({
      day: {
        from: '2027-01-09T05:00:00.000Z',
        to: '2027-01-10T05:00:00.000Z',
        fromLocal: '2027-01-09T06:00:00+01:00',
        toLocal: '2027-01-10T06:00:00+01:00',
      },
      week: {
        from: '2027-01-03T05:00:00.000Z',
        to: '2027-01-10T05:00:00.000Z',
        fromLocal: '2027-01-03T06:00:00+01:00',
        toLocal: '2027-01-10T06:00:00+01:00',
      },
    });
  });

  it('follows DST: the day that springs forward is 23 hours, the one that falls back 25', () => {
    const spring = digestWindows(new Date('2027-03-28T04:00:00.000Z'), 'Europe/Berlin');
    expect(spring.day.from).toBe('2027-03-27T05:00:00.000Z');
    expect(span(spring.day)).toBe(23);
    expect(span(spring.week)).toBe(7 * 24 - 1);
    const autumn = digestWindows(new Date('2027-10-31T05:00:00.000Z'), 'Europe/Berlin');
    expect(autumn.day.from).toBe('2027-10-30T04:00:00.000Z');
    expect(span(autumn.day)).toBe(25);
  });

  it('reads a start in a spring-forward gap with the offset before it, and takes the earlier of a repeated time', () => {
    // 02:30 on 29 March 2027 (CEST); a day before, 02:30 does not exist in Berlin.
    expect(digestWindows(new Date('2027-03-29T00:30:00.000Z'), 'Europe/Berlin').day.from).toBe(
      '2027-03-28T01:30:00.000Z',
    );
    // 02:30 on 1 November 2027 (CET); a day before, 02:30 happened twice: the first (CEST) is the start.
    const repeated = digestWindows(new Date('2027-11-01T01:30:00.000Z'), 'Europe/Berlin').day;
    expect(repeated.from).toBe('2027-10-31T00:30:00.000Z');
    expect(span(repeated)).toBe(25);
  });

  it('in UTC, a day is 24 hours and a week 168', () => {
    const windows = digestWindows(new Date('2027-03-28T06:00:00.000Z'), 'UTC');
    expect([span(windows.day), span(windows.week)]).toEqual([24, 168]);
  });
});

describe('percentile (nearest rank)', () => {
  it('is a measured value: the smallest with at least p% of the values at or below it', () => {
    const sorted = [50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 5000];
    expect(percentile(sorted, 50)).toBe(500);
    expect(percentile(sorted, 95)).toBe(5000);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95)).toBe(19);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('cutText', () => {
  it('keeps a short cause, collapses whitespace, and cuts a long one with an ellipsis', () => {
    expect(cutText('  a\n\tb  ')).toBe('a b');
    const cut = cutText('x'.repeat(1000));
    expect(cut).toHaveLength(MAX_CAUSE_CHARS);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('WindowTally', () => {
  it(`lists at most ${MAX_ERROR_GROUPS} error groups and counts the rest together`, () => {
    const tally = new WindowTally();
    for (let i = 0; i < MAX_ERROR_GROUPS + 3; i += 1) {
      for (let n = 0; n <= i; n += 1) {
        tally.add(
          runningRecord({
            runId: `r-${i}-${n}`,
            status: RunStatus.FAILED,
            startedAt: `2027-01-09T10:${String(i).padStart(2, '0')}:00.000Z`,
            error: { name: `E${String(i).padStart(2, '0')}`, cause: `cause ${i}` },
          }),
        );
      }
    }
    const { failures } = tally.figures();
    expect(failures.byError).toHaveLength(MAX_ERROR_GROUPS + 1);
    // The largest groups first: E22 (23 runs) down to E03 (4 runs); E00, E01 and E02 together (1 + 2 + 3).
    expect(failures.byError[0]).toMatchObject({ error: 'E22', count: 23 });
    expect(failures.byError.at(-2)).toMatchObject({ error: 'E03', count: 4 });
    expect(failures.byError.at(-1)).toMatchObject({ error: OTHER_ERRORS, count: 6, exampleCause: 'cause 2' });
    expect(failures.count).toBe(((MAX_ERROR_GROUPS + 3) * (MAX_ERROR_GROUPS + 4)) / 2);
  });
});

describe('reportKeys', () => {
  it('dates a report by the local date of its windows’ end', () => {
    // 23:30 UTC on 9 January is 00:30 on the 10th in Berlin.
    expect(reportKeys('audit-digest', 'run-1', new Date('2027-01-09T23:30:00Z'), 'Europe/Berlin')).toEqual({
      json: 'audit-digest/2027/01/10/run-1.json',
      csv: 'audit-digest/2027/01/10/run-1.csv',
    });
    expect(reportKeys('audit-digest', 'run-1', new Date('2027-01-09T23:30:00Z'), 'UTC').json).toBe(
      'audit-digest/2027/01/09/run-1.json',
    );
  });
});
