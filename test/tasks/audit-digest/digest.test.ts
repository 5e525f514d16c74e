/**
 * The digest over a seeded ledger: known runs of three jobs across statuses, triggers, durations, failures,
 * MISSED runs and release runs with Report step outputs, some just outside the windows. Every figure is
 * asserted, the reads are index queries only (no Scan), and a window larger than a page is read whole.
 */
import '../../helpers/quiet';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { MAX_STEP_OUTPUT_BYTES, RunStatus, StepStatus, TriggerType } from '../../../shared/constants';
import type { StepContext } from '../../../shared/handler';
import { storedJson } from '../../../shared/json';
import type { ErrorInfo, RunRecord } from '../../../shared/ledger/items';
import { Ledger } from '../../../shared/ledger/ledger';
import { findStep } from '../../../shared/ledger/run-notes';
import { DIGEST_ENV } from '../../../tasks/audit-digest/config';
import { digest, handler, type DigestSummary } from '../../../tasks/audit-digest/digest';
import type { ReleaseReportFigures, WindowFigures } from '../../../tasks/audit-digest/figures';
import type { ReportWriter } from '../../../tasks/audit-digest/report-store';
import { CSV_COLUMNS, type DigestReport } from '../../../tasks/audit-digest/report-files';
import { startEmbeddedS3, type EmbeddedS3 } from '../../../local/embedded-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/embedded-dynamodb';
import { runRef, runningRecord, storedValue } from '../../helpers/builders';
import { useEmbeddedLedger } from '../../helpers/ledger';
import { DAY, MINUTE } from '../../helpers/clock';

const db = useEmbeddedLedger();

/** 06:00 in Berlin on 10 January 2027: the slot the digest runs for. */
const END = '2027-01-10T05:00:00.000Z';
const DAY_FROM = '2027-01-09T05:00:00.000Z';
const WEEK_FROM = '2027-01-03T05:00:00.000Z';
const RELEASE = 'release-idle-resources';
const JOBS = ['heartbeat', RELEASE, 'audit-digest'];

/** A run as the ledger holds it once final (or RUNNING): created directly, with its index keys. */
interface Seed {
  id: string;
  job?: string;
  at: string;
  status: RunStatus;
  trigger?: TriggerType;
  durationMs?: number;
  error?: ErrorInfo;
  output?: unknown;
}

function record(seed: Seed): RunRecord {
  const trigger = seed.trigger ?? TriggerType.SCHEDULE;
  return runningRecord({
    runId: seed.id,
    jobId: seed.job ?? 'heartbeat',
    startedAt: seed.at,
    status: seed.status,
    trigger: trigger === TriggerType.SCHEDULE ? { type: trigger, scheduledTime: seed.at } : { type: trigger },
    ...(seed.durationMs === undefined
      ? {}
      : {
          durationMs: seed.durationMs,
          endedAt: new Date(Date.parse(seed.at) + seed.durationMs).toISOString(),
        }),
    ...(seed.error ? { error: seed.error } : {}),
    ...(seed.output === undefined ? {} : { output: JSON.stringify(seed.output), finalizedBy: 'sweep' }),
  });
}

const minute = (base: string, n: number) => new Date(Date.parse(base) + n * MINUTE).toISOString();
const LONG_CAUSE = `${'x'.repeat(290)} and then the rest of a very long cause`;

/** Heartbeat runs of the last day (one exactly at its start), newest last. */
const HEARTBEAT_DAY: Seed[] = [
  ...[100, 200, 300, 400, 500, 600, 700, 800].map((durationMs, i) => ({
    id: `hb-ok-${i}`,
    at: i === 0 ? DAY_FROM : minute('2027-01-09T06:00:00.000Z', i),
    status: RunStatus.SUCCEEDED,
    durationMs,
  })),
  {
    id: 'hb-boom-old',
    at: '2027-01-09T08:00:00.000Z',
    status: RunStatus.FAILED,
    durationMs: 1000,
    error: { name: 'Boom', cause: 'first boom' },
  },
  {
    id: 'hb-boom-new',
    at: '2027-01-09T09:00:00.000Z',
    status: RunStatus.FAILED,
    trigger: TriggerType.CLI,
    durationMs: 900,
    error: { name: 'Boom', cause: LONG_CAUSE },
  },
  {
    id: 'hb-timeout',
    at: '2027-01-09T10:00:00.000Z',
    status: RunStatus.TIMED_OUT,
    durationMs: 5000,
    error: { name: 'States.Timeout' },
  },
  {
    id: 'hb-aborted',
    at: '2027-01-09T11:00:00.000Z',
    status: RunStatus.ABORTED,
    trigger: TriggerType.MANUAL,
    durationMs: 50,
  },
  { id: 'hb-missed', at: '2027-01-09T12:00:00.000Z', status: RunStatus.MISSED },
  { id: 'hb-skipped', at: '2027-01-09T13:00:00.000Z', status: RunStatus.SKIPPED },
  { id: 'hb-duplicate', at: '2027-01-09T14:00:00.000Z', status: RunStatus.DUPLICATE },
  { id: 'hb-running', at: '2027-01-10T04:59:59.999Z', status: RunStatus.RUNNING, trigger: TriggerType.CLI },
];

/** Heartbeat runs of the week before the last day (one exactly at its start). */
const HEARTBEAT_WEEK: Seed[] = [
  ...[10_000, 20_000, 30_000].map((durationMs, i) => ({
    id: `hb-backfill-${i}`,
    at: i === 0 ? WEEK_FROM : minute('2027-01-05T10:00:00.000Z', i),
    status: RunStatus.SUCCEEDED,
    trigger: TriggerType.BACKFILL,
    durationMs,
  })),
  { id: 'hb-missed-old', at: '2027-01-06T12:00:00.000Z', status: RunStatus.MISSED },
  {
    id: 'hb-other',
    at: '2027-01-07T12:00:00.000Z',
    status: RunStatus.FAILED,
    durationMs: 2000,
    error: { name: 'Other', cause: 'other cause' },
  },
];

/** Just outside: at the windows' end (exclusive) and a millisecond before the week (and another job's). */
const OUTSIDE: Seed[] = [
  { id: 'hb-at-end', at: END, status: RunStatus.FAILED, durationMs: 1, error: { name: 'Late' } },
  {
    id: 'hb-too-old',
    at: '2027-01-03T04:59:59.999Z',
    status: RunStatus.FAILED,
    durationMs: 1,
    error: { name: 'Old' },
  },
  { id: 'other-job', job: 'unlisted', at: '2027-01-09T12:00:00.000Z', status: RunStatus.FAILED },
];

function releaseReport(
  dryRun: boolean,
  totals: Partial<ReleaseReportFigures['totals']>,
  saving: number,
  byType: ReleaseReportFigures['byType'],
): ReleaseReportFigures & { simulatedAccount: boolean } {
  return {
    dryRun,
    simulatedAccount: true,
    byType,
    totals: { actions: 0, failed: 0, notApplied: 0, released: 0, wouldRelease: 0, ...totals },
    estimatedMonthlySavingUsd: saving,
  };
}

/** Release runs with the Report step's output each stored (or not), by run id. */
const RELEASE_RUNS: Array<Seed & { report?: ReleaseReportFigures }> = [
  {
    id: 'rel-applied-day',
    job: RELEASE,
    at: '2027-01-09T07:00:00.000Z',
    status: RunStatus.SUCCEEDED,
    trigger: TriggerType.CLI,
    durationMs: 60_000,
    report: releaseReport(false, { actions: 5, failed: 1, released: 2 }, 55.37, {
      'ebs-volume': { release: { DONE: 2 }, mark: { MARKED: 2 } },
      'ec2-instance': { release: { FAILED: 1 } },
    }),
  },
  {
    id: 'rel-dry-day',
    job: RELEASE,
    at: '2027-01-09T10:00:00.000Z',
    status: RunStatus.SUCCEEDED,
    durationMs: 30_000,
    report: releaseReport(true, { actions: 4, wouldRelease: 3 }, 99.99, {
      'log-group': { release: { PLANNED: 3 }, mark: { PLANNED: 1 } },
    }),
  },
  // Succeeded, but neither its Report step nor the run holds figures.
  {
    id: 'rel-unreported',
    job: RELEASE,
    at: '2027-01-09T11:00:00.000Z',
    status: RunStatus.SUCCEEDED,
    durationMs: 45_000,
  },
  {
    id: 'rel-failed',
    job: RELEASE,
    at: '2027-01-09T12:00:00.000Z',
    status: RunStatus.FAILED,
    durationMs: 20_000,
    error: { name: 'ToleratedFailureExceeded', cause: '3 of 4 actions failed (75.0%)' },
  },
  {
    id: 'rel-applied-week',
    job: RELEASE,
    at: '2027-01-05T06:00:00.000Z',
    status: RunStatus.SUCCEEDED,
    durationMs: 90_000,
    report: releaseReport(false, { actions: 3, released: 1 }, 12.5, {
      'elastic-ip': { release: { DONE: 1 }, cancel: { CANCELLED: 2 } },
    }),
  },
  {
    id: 'rel-dry-week',
    job: RELEASE,
    at: '2027-01-06T06:00:00.000Z',
    status: RunStatus.SUCCEEDED,
    durationMs: 15_000,
    report: releaseReport(true, { actions: 7, wouldRelease: 7 }, 150, {
      'log-group': { release: { PLANNED: 7 } },
    }),
  },
  // Finalized by the sweep from the execution's output: its figures are in the run's output summary only.
  {
    id: 'rel-swept',
    job: RELEASE,
    at: '2027-01-07T06:00:00.000Z',
    status: RunStatus.SUCCEEDED,
    durationMs: 75_000,
    output: {
      results: {
        Report: releaseReport(false, { actions: 1, released: 1 }, 10, {
          'ebs-snapshot': { release: { DONE: 1 } },
        }),
      },
    },
  },
];

async function seed(ledger: Ledger): Promise<void> {
  for (const s of [...HEARTBEAT_DAY, ...HEARTBEAT_WEEK, ...OUTSIDE, ...RELEASE_RUNS]) {
    await ledger.runs.create(record(s));
    const report = (s as { report?: ReleaseReportFigures }).report;
    if (!report) continue;
    await ledger.runs.startStep(s.id, 'Report', undefined, s.at, 1_900_000_000);
    await ledger.runs.endStep(s.id, 'Report', undefined, {
      status: StepStatus.SUCCEEDED,
      endedAt: s.at,
      durationMs: 1,
      attempt: 1,
      output: storedJson(JSON.stringify(report), MAX_STEP_OUTPUT_BYTES),
    });
  }
}

/** A ledger whose client records every DynamoDB command it sends. */
function recordingLedger(tableName: string): { ledger: Ledger; commands: string[] } {
  const client = new DynamoDBClient({
    endpoint: db.endpoint(),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return { ledger: Ledger.fromClient(client, tableName), commands };
}

function memoryWriter(): ReportWriter & { objects: Map<string, { body: string; contentType: string }> } {
  const objects = new Map<string, { body: string; contentType: string }>();
  return {
    objects,
    async put(key, body, contentType) {
      objects.set(key, { body, contentType });
    },
  };
}

function digestEnv(tableName: string): Record<string, string> {
  return {
    LEDGER_TABLE_NAME: tableName,
    [DIGEST_ENV.BUCKET]: 'reports-bucket',
    [DIGEST_ENV.JOB_IDS]: JSON.stringify(JOBS),
    [DIGEST_ENV.TIME_ZONE]: 'Europe/Berlin',
    [DIGEST_ENV.RELEASE_JOB_ID]: RELEASE,
  };
}

function context(ledger: Ledger, env: Record<string, string>, runId = 'digest-1'): StepContext {
  return {
    ledger,
    env,
    now: () => new Date('2027-01-10T05:00:42.000Z'),
    run: runRef({
      runId,
      jobId: 'audit-digest',
      startedAt: '2027-01-10T05:00:40.000Z',
      trigger: { type: 'schedule', scheduledTime: END },
    }),
    step: { name: 'Digest' },
    attempt: 1,
    remainingMs: () => 60_000,
  };
}

const zeroTriggers = Object.fromEntries(Object.values(TriggerType).map((t) => [t, 0]));
const zeroStatuses = Object.fromEntries(Object.values(RunStatus).map((s) => [s, 0]));

describe('the digest over a seeded ledger', () => {
  let tableName: string;
  let commands: string[];
  let writer: ReturnType<typeof memoryWriter>;
  let summary: DigestSummary;
  let report: DigestReport;

  beforeAll(async () => {
    tableName = await db.freshTable();
    const recording = recordingLedger(tableName);
    await seed(recording.ledger);
    recording.commands.length = 0;
    commands = recording.commands;
    writer = memoryWriter();
    // Pages of 5 runs: every window is several pages long.
    summary = await digest(
      { input: {}, results: {} },
      context(recording.ledger, digestEnv(tableName)),
      writer,
      {
        pageSize: 5,
      },
    );
    const json = writer.objects.get(summary.keys.json);
    report = JSON.parse(json?.body ?? '{}') as DigestReport;
  });

  it('writes the JSON and the CSV under audit-digest/<local date>/<runId>', () => {
    expect([...writer.objects.keys()]).toEqual([
      'audit-digest/2027/01/10/digest-1.json',
      'audit-digest/2027/01/10/digest-1.csv',
    ]);
    expect(writer.objects.get(summary.keys.json)?.contentType).toBe('application/json');
    expect(writer.objects.get(summary.keys.csv)?.contentType).toBe('text/csv; charset=utf-8');
    expect(report).toMatchObject({
      kind: 'stepjobs.audit-digest',
      version: 1,
      runId: 'digest-1',
      generatedAt: '2027-01-10T05:00:42.000Z',
      timeZone: 'Europe/Berlin',
      windows: {
        day: { from: DAY_FROM, to: END },
        week: { from: WEEK_FROM, to: END },
      },
    });
    expect(report.jobs.map((j) => j.jobId)).toEqual(JOBS);
  });

  it('counts the heartbeat’s last day: statuses, triggers, missed, nearest-rank p50/p95, failures by error', () => {
    const day = report.jobs.find((j) => j.jobId === 'heartbeat')?.day;
    expect(day).toEqual<WindowFigures>({
      runs: 16,
      byStatus: {
        ...zeroStatuses,
        SUCCEEDED: 8,
        FAILED: 2,
        TIMED_OUT: 1,
        ABORTED: 1,
        MISSED: 1,
        SKIPPED: 1,
        DUPLICATE: 1,
        RUNNING: 1,
      } as WindowFigures['byStatus'],
      byTrigger: { ...zeroTriggers, schedule: 13, cli: 2, manual: 1 } as WindowFigures['byTrigger'],
      missed: 1,
      // 50, 100 … 800, 900, 1000, 5000: the 6th of 12 and the 12th of 12.
      durations: { count: 12, p50Ms: 500, p95Ms: 5000, maxMs: 5000 },
      failures: {
        count: 4,
        byError: [
          {
            error: 'Boom',
            count: 2,
            exampleCause: `${LONG_CAUSE.slice(0, 299)}…`,
            exampleRunId: 'hb-boom-new',
            lastStartedAt: '2027-01-09T09:00:00.000Z',
          },
          {
            error: 'ABORTED',
            count: 1,
            exampleCause: null,
            exampleRunId: 'hb-aborted',
            lastStartedAt: '2027-01-09T11:00:00.000Z',
          },
          {
            error: 'States.Timeout',
            count: 1,
            exampleCause: null,
            exampleRunId: 'hb-timeout',
            lastStartedAt: '2027-01-09T10:00:00.000Z',
          },
        ],
      },
    });
  });

  it('counts the heartbeat’s 7 days, including the run at the week’s start and none outside', () => {
    const week = report.jobs.find((j) => j.jobId === 'heartbeat')?.week;
    expect(week).toMatchObject({
      runs: 21,
      byStatus: { SUCCEEDED: 11, FAILED: 3, MISSED: 2, TIMED_OUT: 1, ABORTED: 1, RUNNING: 1 },
      byTrigger: { ...zeroTriggers, schedule: 15, cli: 2, manual: 1, backfill: 3 },
      missed: 2,
      // 50 … 1000, 2000, 5000, 10000, 20000, 30000: the 8th of 16 and the 16th.
      durations: { count: 16, p50Ms: 700, p95Ms: 30_000, maxMs: 30_000 },
    });
    expect(week?.failures.count).toBe(5);
    expect(week?.failures.byError.map((g) => [g.error, g.count])).toEqual([
      ['Boom', 2],
      ['ABORTED', 1],
      ['Other', 1],
      ['States.Timeout', 1],
    ]);
    expect(week?.failures.byError.find((g) => g.error === 'Other')?.exampleCause).toBe('other cause');
  });

  it('counts a job without runs as zeroes, with no percentiles', () => {
    const digestJob = report.jobs.find((j) => j.jobId === 'audit-digest');
    for (const window of [digestJob?.day, digestJob?.week]) {
      expect(window).toEqual({
        runs: 0,
        byStatus: zeroStatuses,
        byTrigger: zeroTriggers,
        missed: 0,
        durations: { count: 0, p50Ms: null, p95Ms: null, maxMs: null },
        failures: { count: 0, byError: [] },
      });
    }
  });

  it('sums the release job’s Report figures: applied runs added up, the latest dry run, unreported runs', () => {
    const release = report.jobs.find((j) => j.jobId === RELEASE);
    expect(release?.day).toMatchObject({
      runs: 4,
      byStatus: { SUCCEEDED: 3, FAILED: 1 },
      durations: { count: 4, p50Ms: 30_000, p95Ms: 60_000, maxMs: 60_000 },
      failures: {
        count: 1,
        byError: [
          expect.objectContaining({
            error: 'ToleratedFailureExceeded',
            exampleCause: '3 of 4 actions failed (75.0%)',
          }),
        ],
      },
    });
    expect(release?.week.durations).toEqual({ count: 7, p50Ms: 45_000, p95Ms: 90_000, maxMs: 90_000 });
    expect(report.release).toEqual({
      jobId: RELEASE,
      day: {
        runs: 2,
        unreported: 1,
        applied: {
          runs: 1,
          actions: 5,
          released: 2,
          failed: 1,
          notApplied: 0,
          estimatedMonthlySavingUsd: 55.37,
        },
        dryRun: {
          runs: 1,
          latest: {
            runId: 'rel-dry-day',
            startedAt: '2027-01-09T10:00:00.000Z',
            actions: 4,
            wouldRelease: 3,
            estimatedMonthlySavingUsd: 99.99,
          },
        },
        byAction: { release: { DONE: 2, FAILED: 1, PLANNED: 3 }, mark: { MARKED: 2, PLANNED: 1 } },
      },
      week: {
        runs: 5,
        unreported: 1,
        // rel-applied-day + rel-applied-week + rel-swept (from its output summary).
        applied: {
          runs: 3,
          actions: 9,
          released: 4,
          failed: 1,
          notApplied: 0,
          estimatedMonthlySavingUsd: 77.87,
        },
        dryRun: {
          runs: 2,
          latest: {
            runId: 'rel-dry-day',
            startedAt: '2027-01-09T10:00:00.000Z',
            actions: 4,
            wouldRelease: 3,
            estimatedMonthlySavingUsd: 99.99,
          },
        },
        byAction: {
          release: { DONE: 4, FAILED: 1, PLANNED: 10 },
          mark: { MARKED: 2, PLANNED: 1 },
          cancel: { CANCELLED: 2 },
        },
      },
    });
  });

  it('adds every job up per window, and returns a small summary of it', () => {
    expect(report.totals).toEqual({
      day: { runs: 20, failures: 5, missed: 1 },
      week: { runs: 28, failures: 6, missed: 2 },
    });
    expect(summary).toEqual({
      reportsWritten: 2,
      bucket: 'reports-bucket',
      keys: {
        json: 'audit-digest/2027/01/10/digest-1.json',
        csv: 'audit-digest/2027/01/10/digest-1.csv',
      },
      timeZone: 'Europe/Berlin',
      jobs: 3,
      lastDay: { from: DAY_FROM, to: END, runs: 20, failures: 5, missed: 1 },
      lastWeek: { from: WEEK_FROM, to: END, runs: 28, failures: 6, missed: 2 },
      release: { released: 4, estimatedMonthlySavingUsd: 77.87, dryRunWouldRelease: 3 },
    });
    expect(Buffer.byteLength(JSON.stringify(summary))).toBeLessThan(1024);
  });

  it('writes one CSV row per window and job, with the same figures', () => {
    const lines = (writer.objects.get(summary.keys.csv)?.body ?? '').trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(1 + 2 * JOBS.length);
    const rows = lines.slice(1).map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(CSV_COLUMNS.map((column, i) => [column, cells[i]]));
    });
    expect(rows.map((r) => `${r.window}/${r.job}`)).toEqual([
      'day/heartbeat',
      `day/${RELEASE}`,
      'day/audit-digest',
      'week/heartbeat',
      `week/${RELEASE}`,
      'week/audit-digest',
    ]);
    expect(rows[0]).toMatchObject({
      from: DAY_FROM,
      to: END,
      runs: '16',
      succeeded: '8',
      failed: '2',
      missed: '1',
      trigger_schedule: '13',
      durations: '12',
      p50_ms: '500',
      p95_ms: '5000',
      failures: '4',
      errors: 'Boom (2); ABORTED (1); States.Timeout (1)',
      release_runs: '',
    });
    expect(rows[4]).toMatchObject({
      release_runs: '5',
      released: '4',
      release_failed_actions: '1',
      saving_usd_month: '77.87',
      would_release: '3',
    });
    expect(rows[2]).toMatchObject({ runs: '0', p50_ms: '', p95_ms: '' });
  });

  it('reads by index only: queries and batch reads, never a Scan, several pages per job', () => {
    expect(new Set(commands)).toEqual(new Set(['QueryCommand', 'BatchGetItemCommand', 'GetItemCommand']));
    expect(commands).not.toContain('ScanCommand');
    // 21 heartbeat runs in pages of 5 (5 pages), 7 release runs (2), none of audit-digest (1).
    expect(commands.filter((c) => c === 'QueryCommand')).toHaveLength(8);
    // One Report step read per SUCCEEDED release run of the week.
    expect(commands.filter((c) => c === 'GetItemCommand')).toHaveLength(6);
  });
});

describe('the window’s end', () => {
  it('is the input’s `until`, else the slot’s scheduled time, else the run’s start', async () => {
    const tableName = await db.freshTable();
    const ledger = Ledger.fromClient(db.client(), tableName);
    const ctx = context(ledger, digestEnv(tableName));
    const at = async (input: { until?: string }, run = ctx.run) =>
      (await digest({ input, results: {} }, { ...ctx, run }, memoryWriter())).lastDay.to;
    expect(await at({ until: '2027-02-01T12:00:00+01:00' })).toBe('2027-02-01T11:00:00.000Z');
    expect(await at({})).toBe(END);
    expect(await at({}, { ...ctx.run, trigger: { type: 'cli' } })).toBe('2027-01-10T05:00:40.000Z');
  });
});

describe('a year of history, more runs than one page', () => {
  it('reads the whole window in pages of 100 and counts every run', async () => {
    const tableName = await db.freshTable();
    const { ledger, commands } = recordingLedger(tableName);
    // 250 heartbeat runs in the last day, 30 a day for the year before it: only the window is read.
    for (let i = 0; i < 250; i += 1)
      await ledger.runs.create(
        record({ id: `day-${i}`, at: minute(DAY_FROM, i), status: RunStatus.SUCCEEDED, durationMs: i + 1 }),
      );
    for (let d = 8; d < 373; d += 12)
      await ledger.runs.create(
        record({
          id: `old-${d}`,
          at: new Date(Date.parse(END) - d * DAY).toISOString(),
          status: RunStatus.FAILED,
          durationMs: 1,
        }),
      );
    commands.length = 0;
    const summary = await digest(
      { input: {}, results: {} },
      context(ledger, { ...digestEnv(tableName), [DIGEST_ENV.JOB_IDS]: '["heartbeat"]' }),
      memoryWriter(),
    );
    expect(summary.lastDay).toMatchObject({ runs: 250, failures: 0 });
    expect(summary.lastWeek).toMatchObject({ runs: 250, failures: 0 });
    // 250 runs: pages of 100, 100 and 50, each one query and one batch read.
    expect(commands.filter((c) => c === 'QueryCommand')).toHaveLength(3);
    expect(commands).not.toContain('ScanCommand');
  });
});

describe('the handler', () => {
  let s3: EmbeddedS3;
  beforeAll(async () => {
    s3 = await startEmbeddedS3({ buckets: ['digest-reports'] });
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('writes both reports to the bucket through an endpoint override (path-style), and records its step', async () => {
    const tableName = await db.freshTable();
    const ledger = Ledger.fromClient(db.client(), tableName);
    await ledger.runs.create(
      record({ id: 'hb-1', at: '2027-01-09T12:00:00.000Z', status: RunStatus.SUCCEEDED, durationMs: 5 }),
    );
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint(),
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    const run = context(ledger, {}, 'digest-handler').run;
    const output = await handler.forEnv({ ...digestEnv(tableName), [DIGEST_ENV.BUCKET]: 'digest-reports' })({
      run,
      step: { name: 'Digest' },
      data: { input: {}, results: {} },
    });
    expect(output.lastDay).toMatchObject({ runs: 1, failures: 0, missed: 0 });
    const json = await s3.client.send(
      new GetObjectCommand({ Bucket: 'digest-reports', Key: output.keys.json }),
    );
    const written = JSON.parse((await json.Body?.transformToString()) ?? '{}') as DigestReport;
    expect(written.jobs.find((j) => j.jobId === 'heartbeat')?.day.runs).toBe(1);
    const csv = await s3.client.send(
      new GetObjectCommand({ Bucket: 'digest-reports', Key: output.keys.csv }),
    );
    expect(await csv.Body?.transformToString()).toMatch(/^window,from,to,job,runs,/);
    const step = await findStep(ledger.table, 'digest-handler', 'Digest');
    expect(step).toMatchObject({ status: 'SUCCEEDED', output: storedValue(output) });
  });

  it('fails with a ConfigError naming a missing variable', async () => {
    const tableName = await db.freshTable();
    const { [DIGEST_ENV.TIME_ZONE]: _dropped, ...env } = digestEnv(tableName);
    const ledger = Ledger.fromClient(db.client(), tableName);
    await expect(digest({ input: {}, results: {} }, context(ledger, env), memoryWriter())).rejects.toThrow(
      /DIGEST_TIME_ZONE is not set/,
    );
  });
});
