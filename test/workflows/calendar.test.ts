import { Duration } from 'aws-cdk-lib';
import { calendarExclusion } from '../../shared/calendar';
import { jobInputs } from '../../tasks/lifecycle/job-inputs';
import { CalendarError, resolveCalendar, type JobCalendar } from '../../workflows/calendar';
import { heartbeat } from '../../workflows/heartbeat';
import {
  JobDefinitionError,
  jobCalendar,
  validateJobs,
  type JobDefinition,
  type JobSchedule,
} from '../../workflows/job-definition';

const TODAY = new Date('2027-03-01T12:00:00Z');

/** The CalendarError `resolveCalendar` throws for `calendar`, or a failure when it throws none. */
function calendarError(calendar: JobCalendar): CalendarError {
  try {
    resolveCalendar(calendar, 'UTC', TODAY);
  } catch (error) {
    if (error instanceof CalendarError) return error;
    throw error;
  }
  throw new Error(`resolveCalendar accepted ${JSON.stringify(calendar)}`);
}

describe('resolveCalendar', () => {
  it('resolves DE-BY public holidays, named in English, for the years from today on', () => {
    const resolved = resolveCalendar({ holidays: 'DE-BY', holidayYears: 1 }, 'Europe/Berlin', TODAY);
    expect(resolved.timeZone).toBe('Europe/Berlin');
    expect(resolved.dates).toMatchObject({
      '2027-01-01': "New Year's Day (DE-BY holiday)",
      '2027-01-06': 'Epiphany (DE-BY holiday)',
      '2027-12-25': 'Christmas Day (DE-BY holiday)',
    });
    // Epiphany is a Bavarian holiday, not a German one.
    const federal = resolveCalendar({ holidays: 'DE', holidayYears: 1 }, 'Europe/Berlin', TODAY);
    expect(federal.dates?.['2027-01-06']).toBeUndefined();
    expect(federal.dates?.['2027-01-01']).toBe("New Year's Day (DE holiday)");
    expect(resolved.holidaysUntil).toBe('2027-12-31');
    expect(calendarExclusion(resolved, new Date('2027-01-06T08:00:00Z'))).toBe(
      'calendar: Epiphany (DE-BY holiday)',
    );
  });

  it('resolves US federal holidays', () => {
    const resolved = resolveCalendar({ holidays: 'US', holidayYears: 1 }, 'America/New_York', TODAY);
    expect(resolved.dates).toMatchObject({
      '2027-07-04': 'Independence Day (US holiday)',
      '2027-11-25': 'Thanksgiving Day (US holiday)',
    });
    // Public holidays only: no observances such as Valentine's Day.
    expect(resolved.dates?.['2027-02-14']).toBeUndefined();
  });

  it('merges a list of codes, the first code naming a date both have', () => {
    const resolved = resolveCalendar({ holidays: ['US', 'DE-BY'], holidayYears: 1 }, 'UTC', TODAY);
    expect(resolved.dates).toMatchObject({
      '2027-01-01': "New Year's Day (US holiday)",
      '2027-01-06': 'Epiphany (DE-BY holiday)',
      '2027-07-04': 'Independence Day (US holiday)',
    });
  });

  it('resolves holidayYears years from the year of `today`, and says until when', () => {
    const three = resolveCalendar({ holidays: 'DE-BY' }, 'Europe/Berlin', TODAY);
    expect(three.holidaysUntil).toBe('2029-12-31');
    const years = new Set(Object.keys(three.dates ?? {}).map((d) => d.slice(0, 4)));
    expect([...years].sort()).toEqual(['2027', '2028', '2029']);

    const later = resolveCalendar(
      { holidays: 'DE-BY', holidayYears: 2 },
      'Europe/Berlin',
      new Date('2031-06-01'),
    );
    expect(later.holidaysUntil).toBe('2032-12-31');
    expect(later.dates?.['2031-01-06']).toBe('Epiphany (DE-BY holiday)');
    expect(later.dates?.['2032-01-06']).toBe('Epiphany (DE-BY holiday)');
    expect(later.dates?.['2030-01-06']).toBeUndefined();
    expect(later.dates?.['2033-01-06']).toBeUndefined();
  });

  it('resolves dates, ranges, weekdays and windows, and has no horizon without holidays', () => {
    const resolved = resolveCalendar(
      {
        excludeDates: ['2027-04-01'],
        excludeRanges: [{ name: ' year-end freeze ', from: '2027-12-20', to: '2027-12-31' }],
        excludeWeekdays: ['SAT', 'SUN'],
        only: [
          { weekdays: ['MON', 'FRI'], from: '08:00', to: '18:00' },
          { from: '22:00', to: '24:00' },
        ],
      },
      'Europe/Berlin',
      TODAY,
    );
    expect(resolved).toEqual({
      timeZone: 'Europe/Berlin',
      dates: { '2027-04-01': 'excluded date 2027-04-01' },
      ranges: [['2027-12-20', '2027-12-31', 'year-end freeze']],
      weekdays: [6, 0],
      only: [
        { days: [1, 5], from: 480, to: 1080 },
        { from: 1320, to: 1440 },
      ],
      onlyText: 'MON,FRI 08:00-18:00, 22:00-24:00',
    });
  });

  it('resolves an empty calendar to its time zone alone', () => {
    expect(resolveCalendar({}, 'UTC', TODAY)).toEqual({ timeZone: 'UTC' });
  });

  describe('names the field of every error', () => {
    const cases: Array<[string, JobCalendar, string, RegExp]> = [
      ['an impossible date', { excludeDates: ['2027-01-01', '2027-02-30'] }, 'excludeDates[1]', /2027-02-30/],
      ['a date in another format', { excludeDates: ['01/02/2027'] }, 'excludeDates[0]', /YYYY-MM-DD/],
      ['an unknown country', { holidays: 'ZZ' }, 'holidays', /unknown country "ZZ"/],
      ['an unknown country in a list', { holidays: ['DE', 'ZZ'] }, 'holidays[1]', /unknown country "ZZ"/],
      ['an unknown subdivision', { holidays: 'DE-XX' }, 'holidays', /unknown subdivision "XX" of DE/],
      ['a malformed code', { holidays: 'de-by' }, 'holidays', /country code/],
      [
        'a range ending before it starts',
        { excludeRanges: [{ name: 'freeze', from: '2027-12-31', to: '2027-12-20' }] },
        'excludeRanges[0]',
        /ends \(2027-12-20\) before it starts \(2027-12-31\)/,
      ],
      [
        'a range with a bad end',
        { excludeRanges: [{ name: 'freeze', from: '2027-12-20', to: '2027-13-01' }] },
        'excludeRanges[0].to',
        /2027-13-01/,
      ],
      [
        'a range without a name',
        { excludeRanges: [{ name: ' ', from: '2027-12-20', to: '2027-12-21' }] },
        'excludeRanges[0].name',
        /name/,
      ],
      [
        'a bad weekday',
        { excludeWeekdays: ['SAT', 'Sunday'] as never },
        'excludeWeekdays[1]',
        /SUN, MON.*"Sunday"/,
      ],
      [
        'a bad window weekday',
        { only: [{ weekdays: ['MO'] as never, from: '08:00', to: '18:00' }] },
        'only[0].weekdays[0]',
        /"MO"/,
      ],
      [
        'a time without two digits',
        { only: [{ from: '8:00', to: '18:00' }] },
        'only[0].from',
        /HH:MM.*"8:00"/,
      ],
      ['minute 60', { only: [{ from: '08:00', to: '17:60' }] }, 'only[0].to', /"17:60"/],
      ['a time past 24:00', { only: [{ from: '08:00', to: '24:01' }] }, 'only[0].to', /"24:01"/],
      [
        'a window ending before it starts',
        {
          only: [
            { from: '08:00', to: '18:00' },
            { from: '18:00', to: '08:00' },
          ],
        },
        'only[1]',
        /ends \(08:00\) before it starts \(18:00\)/,
      ],
      ['an empty window', { only: [{ from: '08:00', to: '08:00' }] }, 'only[0]', /before it starts/],
      ['no windows', { only: [] }, 'only', /at least one window/],
      ['holidayYears 0', { holidayYears: 0 }, 'holidayYears', /1 to 10 \(got 0\)/],
      ['holidayYears 11', { holidayYears: 11 }, 'holidayYears', /1 to 10 \(got 11\)/],
      ['holidayYears 1.5', { holidayYears: 1.5 }, 'holidayYears', /whole number/],
    ];
    it.each(cases)('%s', (_what, calendar, field, problem) => {
      const error = calendarError(calendar);
      expect(error.name).toBe('CalendarError');
      expect(error.field).toBe(field);
      expect(error.message).toMatch(problem);
    });

    it('accepts the edges: 00:00-24:00, 1 and 10 holiday years, a one-day range', () => {
      expect(() =>
        resolveCalendar(
          {
            only: [{ from: '00:00', to: '24:00' }],
            excludeRanges: [{ name: 'day', from: '2027-05-05', to: '2027-05-05' }],
            holidays: 'DE',
            holidayYears: 10,
          },
          'UTC',
          TODAY,
        ),
      ).not.toThrow();
      expect(() => resolveCalendar({ holidays: 'DE', holidayYears: 1 }, 'UTC', TODAY)).not.toThrow();
    });
  });
});

describe('through the job definition', () => {
  const withCalendar = (calendar: JobCalendar): JobDefinition => ({ ...heartbeat, calendar });
  const withSchedule = (schedule: Partial<JobSchedule<unknown>>): JobDefinition => ({
    ...heartbeat,
    schedule: { ...heartbeat.schedule, ...schedule },
  });
  const validate = (job: JobDefinition) => () => validateJobs([job], jobInputs);

  it('accepts the heartbeat with a valid calendar and catch-up', () => {
    expect(
      validate({
        ...withSchedule({
          catchup: { mode: 'all', window: Duration.days(30) },
          missedGrace: Duration.hours(24),
        }),
        calendar: { holidays: 'DE-BY', excludeWeekdays: ['SUN'] },
      }),
    ).not.toThrow();
    expect(
      validate(withSchedule({ catchup: { mode: 'latest', window: Duration.minutes(1) } })),
    ).not.toThrow();
    expect(validate(withSchedule({ missedGrace: Duration.minutes(1) }))).not.toThrow();
  });

  const calendarCases: Array<[JobCalendar, string]> = [
    [
      { excludeRanges: [{ name: 'freeze', from: '2027-01-05', to: '2027-01-01' }] },
      'Job "heartbeat": calendar.excludeRanges[0] ends (2027-01-01) before it starts (2027-01-05)',
    ],
    [
      { excludeDates: ['2027-02-30'] },
      'Job "heartbeat": calendar.excludeDates[0] must be a date YYYY-MM-DD (got "2027-02-30")',
    ],
    [{ holidays: ['DE', 'ZZ'] }, 'Job "heartbeat": calendar.holidays[1] names an unknown country "ZZ"'],
    [{ holidays: 'US-ZZ' }, 'Job "heartbeat": calendar.holidays names an unknown subdivision "ZZ" of US'],
    [
      { only: [{ from: '09:00', to: '9:30' }] },
      'Job "heartbeat": calendar.only[0].to must be a local time HH:MM from 00:00 to 24:00 (got "9:30")',
    ],
    [
      { holidayYears: 20 },
      'Job "heartbeat": calendar.holidayYears must be a whole number from 1 to 10 (got 20)',
    ],
  ];
  it.each(calendarCases.map(([calendar, message]) => [message, calendar] as const))(
    'throws: %s',
    (message, calendar) => {
      const check = validate(withCalendar(calendar));
      expect(check).toThrow(JobDefinitionError);
      expect(check).toThrow(message);
    },
  );

  it('jobCalendar resolves on the schedule’s time zone, or gives undefined without a calendar', () => {
    expect(jobCalendar(heartbeat)).toBeUndefined();
    const job = {
      ...withCalendar({ holidays: 'DE-BY', holidayYears: 1 }),
      schedule: { ...heartbeat.schedule, timeZone: 'Europe/Berlin' },
    };
    const resolved = jobCalendar(job, TODAY);
    expect(resolved?.timeZone).toBe('Europe/Berlin');
    expect(resolved?.holidaysUntil).toBe('2027-12-31');
    expect(() => jobCalendar(withCalendar({ excludeWeekdays: ['XYZ' as never] }), TODAY)).toThrow(
      'Job "heartbeat": calendar.excludeWeekdays[0] must be one of SUN, MON, TUE, WED, THU, FRI, SAT (got "XYZ")',
    );
  });

  const scheduleCases: Array<[string, Partial<JobSchedule<unknown>>, string]> = [
    [
      'an unknown catch-up mode',
      { catchup: { mode: 'sometimes' as never } },
      'Job "heartbeat": schedule.catchup.mode must be none, latest or all (got "sometimes")',
    ],
    [
      'a catch-up window under a minute',
      { catchup: { mode: 'latest', window: Duration.seconds(30) } },
      'Job "heartbeat": schedule.catchup.window must be from 1 minute to 30 days (got 30 s)',
    ],
    [
      'a catch-up window over 30 days',
      { catchup: { mode: 'all', window: Duration.days(31) } },
      'Job "heartbeat": schedule.catchup.window must be from 1 minute to 30 days (got 2678400 s)',
    ],
    [
      'a missed grace under a minute',
      { missedGrace: Duration.seconds(59) },
      'Job "heartbeat": schedule.missedGrace must be from 1 minute to 24 hours (got 59 s)',
    ],
    [
      'a missed grace over 24 hours',
      { missedGrace: Duration.hours(25) },
      'Job "heartbeat": schedule.missedGrace must be from 1 minute to 24 hours (got 90000 s)',
    ],
  ];
  it.each(scheduleCases)('rejects %s', (_what, schedule, message) => {
    const check = validate(withSchedule(schedule));
    expect(check).toThrow(JobDefinitionError);
    expect(check).toThrow(message);
  });
});
