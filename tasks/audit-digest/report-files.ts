/**
 * The digest's two report files: the whole digest as JSON (the format of record, versioned), and one CSV row
 * per job and window for a spreadsheet. docs/jobs/audit-digest.md describes both.
 */
import { stringify } from 'csv-stringify/sync';
import { RunStatus, TriggerType } from '../../shared/constants';
import { wallClockMs } from '../../shared/time-zone';
import {
  WINDOWS,
  type DigestFigures,
  type DigestWindow,
  type ReleaseFigures,
  type WindowName,
} from './figures';

/** What a reader checks before reading the rest of a JSON report. */
export const REPORT_KIND = 'stepjobs.audit-digest';
export const REPORT_VERSION = 1;

export interface DigestReport extends DigestFigures {
  kind: typeof REPORT_KIND;
  version: typeof REPORT_VERSION;
  /** The run that wrote it. */
  runId: string;
  generatedAt: string;
  timeZone: string;
  windows: Record<WindowName, DigestWindow>;
}

/**
 * `<jobId>/YYYY/MM/DD/<runId>.json` and `.csv`: the date is the local date of the windows' end in the
 * digest's time zone, so a listing sorts by day and a day's reports sit together.
 */
export function reportKeys(
  jobId: string,
  runId: string,
  end: Date,
  timeZone: string,
): { json: string; csv: string } {
  const date = new Date(wallClockMs(end.getTime(), timeZone)).toISOString().slice(0, 10).replace(/-/g, '/');
  const base = `${jobId}/${date}/${runId}`;
  return { json: `${base}.json`, csv: `${base}.csv` };
}

export function reportJson(report: DigestReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The CSV columns, in order. */
export const CSV_COLUMNS = [
  'window',
  'from',
  'to',
  'job',
  'runs',
  ...Object.values(RunStatus).map((status) => status.toLowerCase()),
  ...Object.values(TriggerType).map((trigger) => `trigger_${trigger}`),
  'durations',
  'p50_ms',
  'p95_ms',
  'max_ms',
  'failures',
  'errors',
  'release_runs',
  'released',
  'release_failed_actions',
  'saving_usd_month',
  'would_release',
] as const;

/**
 * One row per window and job (the day's rows first), with the columns of {@link CSV_COLUMNS}. `errors` lists
 * the failure groups as `Name (count)` separated by `; `; the release columns are filled on the release job's
 * rows only (`would_release` from the window's latest dry run). RFC 4180 quoting, by csv-stringify.
 */
export function reportCsv(report: DigestReport): string {
  const rows: unknown[][] = [];
  for (const name of WINDOWS) {
    const window = report.windows[name];
    for (const job of report.jobs) {
      const figures = job[name];
      const release = report.release?.jobId === job.jobId ? report.release[name] : undefined;
      rows.push([
        name,
        window.from,
        window.to,
        job.jobId,
        figures.runs,
        ...Object.values(RunStatus).map((status) => figures.byStatus[status]),
        ...Object.values(TriggerType).map((trigger) => figures.byTrigger[trigger]),
        figures.durations.count,
        figures.durations.p50Ms ?? '',
        figures.durations.p95Ms ?? '',
        figures.durations.maxMs ?? '',
        figures.failures.count,
        figures.failures.byError.map((group) => `${group.error} (${group.count})`).join('; '),
        ...releaseColumns(release),
      ]);
    }
  }
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], bom: false });
}

function releaseColumns(release: ReleaseFigures | undefined): unknown[] {
  if (!release) return ['', '', '', '', ''];
  return [
    release.runs,
    release.applied.released,
    release.applied.failed,
    release.applied.estimatedMonthlySavingUsd,
    release.dryRun.latest?.wouldRelease ?? '',
  ];
}
