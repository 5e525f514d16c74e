/**
 * L, W and # against vectors this project did not write, remapped to EventBridge's syntax (six fields, a
 * year, `?` in the unused day field, SUN=1 ... SAT=7):
 *
 * - cron-parser's own test suite (harrisiirak/cron-parser, test "test expressions with 'L' last of flag"):
 *   from 2021-09-01, `0 0 0 * * <d>L` (its weekdays SUN=0/7, MON=1) fires first on the given day of month;
 *   `1L,5L` on the 24th then the 27th; `1,5L` in September 2021 on 6, 13, 20, 24, 27; `6-20/2,L` in
 *   February 2016 ends on the 29th and `1,3,6-10,L` in February 2014 on the 28th.
 * - Quartz's CronTrigger documentation: `15W` is the weekday nearest the 15th; `1W` on a month whose 1st is a
 *   Saturday fires on Monday the 3rd (it never crosses into another month); `LW` is the last weekday of the
 *   month; `6#3` the third Friday.
 */
import { fireTimes } from '../../shared/schedule-expression';

const days = (expression: string, from: string, count: number, until?: string) =>
  fireTimes(expression, 'UTC', new Date(from), count, until ? new Date(until) : undefined).map((d) =>
    d.toISOString().slice(0, 10),
  );

describe('cron-parser vectors (weekday L), remapped: their MON=1 is our MON=2', () => {
  it.each([
    ['2L', '2021-09-27'], // their 1L: last Monday
    ['3L', '2021-09-28'],
    ['4L', '2021-09-29'],
    ['5L', '2021-09-30'],
    ['6L', '2021-09-24'], // their 5L: last Friday
    ['7L', '2021-09-25'],
    ['1L', '2021-09-26'], // their 0L and 7L: last Sunday
  ])('cron(0 0 ? * %s *) first fires on %s', (weekday, expected) => {
    expect(days(`cron(0 0 ? * ${weekday} *)`, '2021-09-01T00:00:00Z', 1)).toEqual([expected]);
  });

  it('last Monday and last Friday: the 24th, then the 27th', () => {
    expect(days('cron(0 0 ? * 2L,6L *)', '2021-09-01T00:00:00Z', 2)).toEqual(['2021-09-24', '2021-09-27']);
  });

  it('every Monday and the last Friday of September 2021', () => {
    expect(days('cron(0 0 ? * 2,6L *)', '2021-09-01T00:00:00Z', 10, '2021-09-30T00:00:00Z')).toEqual([
      '2021-09-06',
      '2021-09-13',
      '2021-09-20',
      '2021-09-24',
      '2021-09-27',
    ]);
  });

  it('L in February: the 29th of a leap year, the 28th otherwise', () => {
    const leap = days('cron(0 0 6-20/2,L 2 ? *)', '2016-01-01T00:00:00Z', 20, '2016-11-01T00:00:00Z');
    expect(leap).toHaveLength(9);
    expect(leap.at(-1)).toBe('2016-02-29');
    expect(
      days('cron(0 0 1,3,6-10,L 2 ? *)', '2014-01-01T00:00:00Z', 20, '2014-11-01T00:00:00Z').at(-1),
    ).toBe('2014-02-28');
  });
});

describe('Quartz documentation vectors (W, LW, #)', () => {
  it('15W: the weekday nearest the 15th', () => {
    // 2026-08-15 is a Saturday: Friday the 14th. 2026-11-15 is a Sunday: Monday the 16th.
    expect(days('cron(0 0 15W 8 ? 2026)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-08-14']);
    expect(days('cron(0 0 15W 11 ? 2026)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-11-16']);
  });

  it('1W on a month whose 1st is a Saturday: Monday the 3rd, never the last day of the month before', () => {
    // 2026-08-01 is a Saturday.
    expect(days('cron(0 0 1W 8 ? 2026)', '2026-07-01T00:00:00Z', 1)).toEqual(['2026-08-03']);
  });

  it('LW: the last weekday of the month', () => {
    // 2026-05-31 is a Sunday, 2026-10-31 a Saturday.
    expect(days('cron(0 0 LW 5,10 ? 2026)', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-05-29', '2026-10-30']);
  });

  it('6#3: the third Friday of each month', () => {
    expect(days('cron(0 10 ? * 6#3 *)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-16',
      '2026-02-20',
      '2026-03-20',
    ]);
  });
});
