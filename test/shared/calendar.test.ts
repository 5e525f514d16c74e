import {
  calendarExclusion,
  pastHolidayHorizon,
  unnamedCalendar,
  type ResolvedCalendar,
} from '../../shared/calendar';

const at = (iso: string) => new Date(iso);

/** A calendar on UTC with only the given rules, so each test names exactly what it relies on. */
const utc = (rules: Omit<ResolvedCalendar, 'timeZone'>): ResolvedCalendar => ({ timeZone: 'UTC', ...rules });

describe('calendarExclusion', () => {
  it('lets everything run without a calendar, or with an empty one', () => {
    expect(calendarExclusion(undefined, at('2027-01-01T03:00:00Z'))).toBeUndefined();
    expect(calendarExclusion(utc({}), at('2027-01-01T03:00:00Z'))).toBeUndefined();
  });

  it('excludes a named date all day, and gives its name as the reason', () => {
    const calendar = utc({ dates: { '2027-01-06': 'Epiphany (DE-BY holiday)' } });
    expect(calendarExclusion(calendar, at('2027-01-06T00:00:00Z'))).toBe(
      'calendar: Epiphany (DE-BY holiday)',
    );
    expect(calendarExclusion(calendar, at('2027-01-06T23:59:59Z'))).toBe(
      'calendar: Epiphany (DE-BY holiday)',
    );
    expect(calendarExclusion(calendar, at('2027-01-05T23:59:59Z'))).toBeUndefined();
    expect(calendarExclusion(calendar, at('2027-01-07T00:00:00Z'))).toBeUndefined();
  });

  it('names an unnamed date (the sweep’s calendar) by the date itself', () => {
    const calendar = utc({ dates: { '2027-01-06': '' } });
    expect(calendarExclusion(calendar, at('2027-01-06T12:00:00Z'))).toBe(
      'calendar: excluded date 2027-01-06',
    );
  });

  it('excludes a range with both ends included, and nothing either side', () => {
    const calendar = utc({ ranges: [['2027-12-20', '2027-12-31', 'year-end freeze']] });
    expect(calendarExclusion(calendar, at('2027-12-19T23:59:59Z'))).toBeUndefined();
    expect(calendarExclusion(calendar, at('2027-12-20T00:00:00Z'))).toBe('calendar: year-end freeze');
    expect(calendarExclusion(calendar, at('2027-12-25T12:00:00Z'))).toBe('calendar: year-end freeze');
    expect(calendarExclusion(calendar, at('2027-12-31T23:59:59Z'))).toBe('calendar: year-end freeze');
    expect(calendarExclusion(calendar, at('2028-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('gives the first matching range when ranges overlap', () => {
    const calendar = utc({
      ranges: [
        ['2027-06-01', '2027-06-10', 'migration'],
        ['2027-06-05', '2027-06-20', 'audit'],
      ],
    });
    expect(calendarExclusion(calendar, at('2027-06-07T00:00:00Z'))).toBe('calendar: migration');
    expect(calendarExclusion(calendar, at('2027-06-15T00:00:00Z'))).toBe('calendar: audit');
  });

  it('excludes weekdays, naming the day', () => {
    const calendar = utc({ weekdays: [0, 6] });
    // 2027-01-02 is a Saturday, 2027-01-03 a Sunday, 2027-01-04 a Monday.
    expect(calendarExclusion(calendar, at('2027-01-02T10:00:00Z'))).toBe('calendar: no runs on SAT');
    expect(calendarExclusion(calendar, at('2027-01-03T10:00:00Z'))).toBe('calendar: no runs on SUN');
    expect(calendarExclusion(calendar, at('2027-01-04T10:00:00Z'))).toBeUndefined();
  });

  it('puts dates before ranges before weekdays', () => {
    const calendar = utc({
      dates: { '2027-01-02': 'a holiday' },
      ranges: [['2027-01-01', '2027-01-10', 'a freeze']],
      weekdays: [6],
    });
    // A Saturday in the freeze, and a holiday.
    expect(calendarExclusion(calendar, at('2027-01-02T10:00:00Z'))).toBe('calendar: a holiday');
    // Saturday 2027-01-09, in the freeze.
    expect(calendarExclusion(calendar, at('2027-01-09T10:00:00Z'))).toBe('calendar: a freeze');
    // Saturday 2027-01-16, after it.
    expect(calendarExclusion(calendar, at('2027-01-16T10:00:00Z'))).toBe('calendar: no runs on SAT');
  });

  describe('only windows', () => {
    const businessHours = utc({
      only: [{ days: [1, 2, 3, 4, 5], from: 8 * 60, to: 18 * 60 }],
      onlyText: 'MON,TUE,WED,THU,FRI 08:00-18:00',
    });

    it('lets a slot inside a window run: from included, to excluded', () => {
      // Monday 2027-01-04.
      expect(calendarExclusion(businessHours, at('2027-01-04T08:00:00Z'))).toBeUndefined();
      expect(calendarExclusion(businessHours, at('2027-01-04T17:59:00Z'))).toBeUndefined();
    });

    it('excludes a slot outside every window, quoting the windows', () => {
      const reason = 'calendar: outside MON,TUE,WED,THU,FRI 08:00-18:00';
      expect(calendarExclusion(businessHours, at('2027-01-04T07:59:00Z'))).toBe(reason);
      expect(calendarExclusion(businessHours, at('2027-01-04T18:00:00Z'))).toBe(reason);
    });

    it('excludes a slot in the window’s hours on a day the window does not apply', () => {
      // Saturday 2027-01-02 at 10:00.
      expect(calendarExclusion(businessHours, at('2027-01-02T10:00:00Z'))).toBe(
        'calendar: outside MON,TUE,WED,THU,FRI 08:00-18:00',
      );
    });

    it('applies a window without days on every day, and lets any window admit the slot', () => {
      const calendar = utc({
        only: [
          { from: 6 * 60, to: 7 * 60 },
          { days: [6], from: 20 * 60, to: 24 * 60 },
        ],
      });
      expect(calendarExclusion(calendar, at('2027-01-03T06:30:00Z'))).toBeUndefined(); // Sunday
      expect(calendarExclusion(calendar, at('2027-01-02T23:59:00Z'))).toBeUndefined(); // Saturday
      expect(calendarExclusion(calendar, at('2027-01-03T23:59:00Z'))).toBe(
        'calendar: outside its run windows',
      );
    });
  });

  describe('on the job’s wall clock', () => {
    it('reads the date in the job’s time zone: 23:30Z on Dec 31 is Jan 1 in Berlin', () => {
      const calendar: ResolvedCalendar = {
        timeZone: 'Europe/Berlin',
        dates: { '2027-01-01': "New Year's Day (DE-BY holiday)" },
      };
      expect(calendarExclusion(calendar, at('2026-12-31T23:30:00Z'))).toBe(
        "calendar: New Year's Day (DE-BY holiday)",
      );
      // 22:30Z is still 23:30 on Dec 31 in Berlin (UTC+1 in winter).
      expect(calendarExclusion(calendar, at('2026-12-31T22:30:00Z'))).toBeUndefined();
      // And the same instant on UTC is Dec 31.
      expect(calendarExclusion({ ...calendar, timeZone: 'UTC' }, at('2026-12-31T23:30:00Z'))).toBeUndefined();
    });

    it('reads the weekday and the window minute in the job’s time zone, summer time included', () => {
      const calendar: ResolvedCalendar = {
        timeZone: 'America/New_York',
        weekdays: [0],
        only: [{ from: 9 * 60, to: 17 * 60 }],
      };
      // Monday 2027-07-05 01:00Z is Sunday 21:00 in New York (UTC-4).
      expect(calendarExclusion(calendar, at('2027-07-05T01:00:00Z'))).toBe('calendar: no runs on SUN');
      // 13:00Z is 09:00 EDT, inside; 12:59Z is 08:59, outside.
      expect(calendarExclusion(calendar, at('2027-07-05T13:00:00Z'))).toBeUndefined();
      expect(calendarExclusion(calendar, at('2027-07-05T12:59:00Z'))).toBe(
        'calendar: outside its run windows',
      );
      // In winter (UTC-5) 13:00Z is 08:00, outside.
      expect(calendarExclusion(calendar, at('2027-01-04T13:00:00Z'))).toBe(
        'calendar: outside its run windows',
      );
    });
  });
});

describe('pastHolidayHorizon', () => {
  it('is false without a calendar or without holidays', () => {
    expect(pastHolidayHorizon(undefined, at('2099-01-01T00:00:00Z'))).toBe(false);
    expect(pastHolidayHorizon(utc({ weekdays: [0] }), at('2099-01-01T00:00:00Z'))).toBe(false);
  });

  it('is true only after the last resolved date, on the job’s wall clock', () => {
    const calendar: ResolvedCalendar = { timeZone: 'Europe/Berlin', holidaysUntil: '2029-12-31' };
    expect(pastHolidayHorizon(calendar, at('2029-12-31T22:59:00Z'))).toBe(false);
    // 23:00Z on Dec 31 is already Jan 1 in Berlin.
    expect(pastHolidayHorizon(calendar, at('2029-12-31T23:00:00Z'))).toBe(true);
    expect(pastHolidayHorizon({ ...calendar, timeZone: 'UTC' }, at('2029-12-31T23:00:00Z'))).toBe(false);
  });
});

describe('unnamedCalendar', () => {
  it('keeps the dates without their names, and every other rule as it was', () => {
    const calendar: ResolvedCalendar = {
      timeZone: 'Europe/Berlin',
      dates: { '2027-01-01': "New Year's Day (DE-BY holiday)", '2027-01-06': 'Epiphany (DE-BY holiday)' },
      ranges: [['2027-12-20', '2027-12-31', 'freeze']],
      weekdays: [0],
      only: [{ from: 0, to: 600 }],
      onlyText: '00:00-10:00',
      holidaysUntil: '2029-12-31',
    };
    const unnamed = unnamedCalendar(calendar);
    expect(unnamed).toEqual({ ...calendar, dates: { '2027-01-01': '', '2027-01-06': '' } });
    expect(JSON.stringify(unnamed).length).toBeLessThan(JSON.stringify(calendar).length);
    // Still excludes the same slot, by date.
    expect(calendarExclusion(unnamed, at('2027-01-06T08:00:00Z'))).toBe('calendar: excluded date 2027-01-06');
  });

  it('leaves a calendar without dates unchanged and does not touch its input', () => {
    const calendar: ResolvedCalendar = { timeZone: 'UTC', weekdays: [6] };
    expect(unnamedCalendar(calendar)).toEqual(calendar);
    const named: ResolvedCalendar = { timeZone: 'UTC', dates: { '2027-01-01': 'x' } };
    unnamedCalendar(named);
    expect(named.dates).toEqual({ '2027-01-01': 'x' });
  });
});
