/**
 * Digest, the audit digest's only step: every job's runs of the last day and the last 7 days (by status and
 * trigger, missed runs, p50/p95 durations, failures grouped by error) and the release job's actions and
 * savings, from the ledger's indexes; written as a JSON and a CSV report to the job's bucket. The step returns
 * a small summary (the report keys and the key figures), never the report: state payloads are limited to
 * 256 KiB, and the notifier's figures come from it.
 */
import * as z from '../../shared/zod';
import { jobStep, type StepContext } from '../../shared/handler';
import { logger } from '../../shared/powertools';
import { readDigestConfig } from './config';
import { collectFigures, digestWindows, type DigestWindow } from './figures';
import { AuditDigestInput } from './input';
import { bucketWriter, type ReportWriter } from './report-store';
import {
  REPORT_KIND,
  REPORT_VERSION,
  reportCsv,
  reportJson,
  reportKeys,
  type DigestReport,
} from './report-files';

export const DigestData = z.object({
  input: AuditDigestInput,
  results: z.record(z.string(), z.unknown()),
});
export type DigestData = z.infer<typeof DigestData>;

interface WindowSummary {
  from: string;
  to: string;
  runs: number;
  failures: number;
  missed: number;
}

/** The step's output: what FinishRun, the notifier and `stepjobs show` see. A few hundred bytes. */
export interface DigestSummary {
  /** Reports written (2: JSON and CSV); the notifier's `changed`, so a digest that wrote is CHANGED. */
  reportsWritten: number;
  bucket: string;
  keys: { json: string; csv: string };
  timeZone: string;
  jobs: number;
  lastDay: WindowSummary;
  lastWeek: WindowSummary;
  /** The release job's applied releases and their estimated monthly saving over the 7 days, when it exists. */
  release?: { released: number; estimatedMonthlySavingUsd: number; dryRunWouldRelease: number | null };
}

/**
 * Where the windows end: the run's input `until`, else the scheduled time of its slot (a late delivery, a
 * catch-up or a backfill digests the day its slot names), else the run's start.
 */
export function windowsEnd(data: DigestData, run: StepContext['run']): Date {
  return new Date(data.input.until ?? run.trigger.scheduledTime ?? run.startedAt);
}

export async function digest(
  data: DigestData,
  ctx: StepContext,
  writer?: ReportWriter,
  options: { pageSize?: number } = {},
): Promise<DigestSummary> {
  const config = readDigestConfig(ctx.env);
  const reports = writer ?? bucketWriter(config.bucket);
  const end = windowsEnd(data, ctx.run);
  const windows = digestWindows(end, config.timeZone);
  const figures = await collectFigures(ctx.ledger, {
    jobIds: config.jobIds,
    windows,
    ...(config.releaseJobId ? { releaseJobId: config.releaseJobId } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
  });
  const report: DigestReport = {
    kind: REPORT_KIND,
    version: REPORT_VERSION,
    runId: ctx.run.runId,
    generatedAt: ctx.now().toISOString(),
    timeZone: config.timeZone,
    windows,
    ...figures,
  };
  const keys = reportKeys(ctx.run.jobId, ctx.run.runId, end, config.timeZone);
  await reports.put(keys.json, reportJson(report), 'application/json');
  await reports.put(keys.csv, reportCsv(report), 'text/csv; charset=utf-8');

  const summary = (window: DigestWindow, name: 'day' | 'week'): WindowSummary => ({
    from: window.from,
    to: window.to,
    ...figures.totals[name],
  });
  const week = figures.release?.week;
  const result: DigestSummary = {
    reportsWritten: 2,
    bucket: config.bucket,
    keys,
    timeZone: config.timeZone,
    jobs: figures.jobs.length,
    lastDay: summary(windows.day, 'day'),
    lastWeek: summary(windows.week, 'week'),
    ...(week
      ? {
          release: {
            released: week.applied.released,
            estimatedMonthlySavingUsd: week.applied.estimatedMonthlySavingUsd,
            dryRunWouldRelease: week.dryRun.latest?.wouldRelease ?? null,
          },
        }
      : {}),
  };
  logger.info('Audit digest written', { keys, lastDay: result.lastDay, lastWeek: result.lastWeek });
  return result;
}

export const handler = jobStep(DigestData, (data, ctx) => digest(data, ctx));
