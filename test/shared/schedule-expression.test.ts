/**
 * Fire times as EventBridge Scheduler makes them: cron on the zone's wall clock (a nonexistent local time
 * listed skipped, a repeated one once), rate from its anchor, at() in its zone across DST, and both ends of a
 * window included.
 */
import { fires, fireTimes } from '../../shared/schedule-expression';
import { instantsOf, localIso } from '../../shared/time-zone';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString().replace('.000', ''));

describe('at()', () => {
  it('names the instant its local time has on a DST day (Europe/Berlin, 2027-03-28)', () => {
    // Clocks go forward at 01:00Z; 01:30 local is still CET (+01:00): 00:30Z, not 23:30Z the day before.
    expect(iso(fireTimes('at(2027-03-28T01:30:00)', 'Europe/Berlin', new Date(0), 1))).toEqual([
      '2027-03-28T00:30:00Z',
    ]);
    expect(iso(fireTimes('at(2027-03-28T03:30:00)', 'Europe/Berlin', new Date(0), 1))).toEqual([
      '2027-03-28T01:30:00Z',
    ]);
  });

  it('lists a local time that does not exist as skipped', () => {
    const [fire] = fires('at(2027-03-28T02:30:00)', 'Europe/Berlin', { from: new Date(0), limit: 1 });
    expect(fire).toEqual({
      time: new Date('2027-03-28T01:30:00Z'),
      local: '2027-03-28T02:30:00',
      skipped: 'dst: 02:30 does not exist in Europe/Berlin on 2027-03-28 (clocks go forward)',
    });
  });

  it('fires nothing once its time has passed', () => {
    expect(fireTimes('at(2026-01-01T00:00:00)', 'UTC', new Date('2026-01-01T00:00:01Z'), 5)).toEqual([]);
  });
});

describe('cron()', () => {
  it('lists the spring-forward slot as skipped and keeps counting the ones that run', () => {
    const listed = fires('cron(30 2 * * ? *)', 'Europe/Berlin', {
      from: new Date('2027-03-27T00:00:00Z'),
      limit: 2,
    });
    expect(listed.map((f) => [f.time.toISOString(), f.local, f.skipped ?? ''])).toEqual([
      ['2027-03-27T01:30:00.000Z', '2027-03-27T02:30:00+01:00', ''],
      [
        '2027-03-28T01:30:00.000Z',
        '2027-03-28T02:30:00',
        'dst: 02:30 does not exist in Europe/Berlin on 2027-03-28 (clocks go forward)',
      ],
      ['2027-03-29T00:30:00.000Z', '2027-03-29T02:30:00+02:00', ''],
    ]);
  });

  it('fires a repeated local time once, at its first pass (America/New_York, 2026-11-01)', () => {
    // Every 30 minutes from 00:00 to 03:00 local: 01:00 and 01:30 happen twice, and fire once each.
    const listed = fireTimes(
      'cron(0/30 0-3 * * ? *)',
      'America/New_York',
      new Date('2026-11-01T04:00:00Z'),
      20,
      new Date('2026-11-01T08:00:00Z'),
    );
    expect(iso(listed)).toEqual([
      '2026-11-01T04:00:00Z', // 00:00 EDT
      '2026-11-01T04:30:00Z',
      '2026-11-01T05:00:00Z', // 01:00 EDT (its second pass, 06:00Z, does not fire)
      '2026-11-01T05:30:00Z',
      '2026-11-01T07:00:00Z', // 02:00 EST
      '2026-11-01T07:30:00Z',
      '2026-11-01T08:00:00Z', // 03:00 EST
    ]);
  });

  it('starting inside the repeated hour does not fire its first pass again', () => {
    expect(
      iso(fireTimes('cron(30 1 * * ? *)', 'America/New_York', new Date('2026-11-01T06:10:00Z'), 1)),
    ).toEqual(['2026-11-02T06:30:00Z']);
  });

  it('includes a fire at exactly --from', () => {
    expect(iso(fireTimes('cron(0 12 * * ? *)', 'UTC', new Date('2026-06-01T12:00:00Z'), 1))).toEqual([
      '2026-06-01T12:00:00Z',
    ]);
  });
});

describe('rate()', () => {
  it('counts from its start date, not from the epoch', () => {
    const anchor = new Date('2026-06-01T00:07:00Z');
    expect(
      iso(fireTimes('rate(10 minutes)', 'UTC', new Date('2026-06-01T01:00:00Z'), 3, undefined, anchor)),
    ).toEqual(['2026-06-01T01:07:00Z', '2026-06-01T01:17:00Z', '2026-06-01T01:27:00Z']);
  });

  it('fires from the start date itself when the window starts before it; a cron fires nothing before it', () => {
    const anchor = new Date('2026-06-01T00:07:00Z');
    expect(
      iso(fireTimes('rate(1 hour)', 'UTC', new Date('2026-05-01T00:00:00Z'), 1, undefined, anchor)),
    ).toEqual(['2026-06-01T00:07:00Z']);
  });

  it('keeps 24 hours between daily fires across a DST change, so the local time moves an hour', () => {
    const listed = fires('rate(1 day)', 'Europe/Berlin', {
      from: new Date('2027-03-27T12:00:00Z'),
      limit: 2,
      start: new Date('2027-01-01T12:00:00Z'),
    });
    expect(listed.map((f) => f.local)).toEqual(['2027-03-27T13:00:00+01:00', '2027-03-28T14:00:00+02:00']);
  });
});

describe('time-zone', () => {
  it('finds no instant in a gap, two in a repeat, one otherwise', () => {
    expect(instantsOf(Date.parse('2027-03-28T02:30:00Z'), 'Europe/Berlin')).toEqual([]);
    expect(instantsOf(Date.parse('2026-10-25T02:30:00Z'), 'Europe/Berlin')).toEqual([
      Date.parse('2026-10-25T00:30:00Z'),
      Date.parse('2026-10-25T01:30:00Z'),
    ]);
    expect(instantsOf(Date.parse('2026-06-01T12:00:00Z'), 'Asia/Kolkata')).toEqual([
      Date.parse('2026-06-01T06:30:00Z'),
    ]);
    expect(localIso(Date.parse('2026-06-01T06:30:00Z'), 'Asia/Kolkata')).toBe('2026-06-01T12:00:00+05:30');
  });
});
