/**
 * `stepjobs audit`: runs of every job, newest first, for auditors: who or what triggered each run, how it
 * ended and who finalized it. One page per call over the ledger's status index (GSI3), whatever the length of
 * the history; `--csv` and `--json` for spreadsheets and scripts.
 */
import { stringify } from 'csv-stringify/sync';
import type { RunStatus } from '../../shared/constants';
import type { Page, RunRecord } from '../../shared/ledger/items';
import { runningSince, type JobDefinition } from '../../workflows/job-definition';
import { filterOptions, filterText, jobDefinition, type Output, type RunFilters } from './commands';
import { ExitCode } from './errors';
import { duration, shortTime, statusText, table, triggerText, truncate } from './format';
import type { Target } from './target';

export interface AuditOptions {
  status?: RunStatus;
  since?: string;
  until?: string;
  jobId?: string;
  limit: number;
  cursor?: string;
  format: 'table' | 'json' | 'csv';
  now?: Date;
}

/** The columns of `--csv`, one run per row. */
export const AUDIT_CSV_COLUMNS = [
  'runId',
  'jobId',
  'status',
  'trigger',
  'principal',
  'scheduledTime',
  'startedAt',
  'endedAt',
  'durationMs',
  'error',
  'finalizedBy',
  'executionArn',
] as const;

function csvRow(run: RunRecord): Record<(typeof AUDIT_CSV_COLUMNS)[number], string> {
  return {
    runId: run.runId,
    jobId: run.jobId,
    status: run.status,
    trigger: run.trigger.type,
    principal: run.trigger.principal ?? '',
    scheduledTime: run.trigger.scheduledTime ?? '',
    startedAt: run.startedAt,
    endedAt: run.endedAt ?? '',
    durationMs: run.durationMs === undefined ? '' : String(run.durationMs),
    error: run.error ? `${run.error.name}${run.error.cause ? `: ${run.error.cause}` : ''}` : '',
    finalizedBy: run.finalizedBy ?? '',
    executionArn: run.executionArn ?? '',
  };
}

export async function auditCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: AuditOptions,
): Promise<number> {
  const now = options.now ?? new Date();
  const filters: RunFilters = { status: options.status, since: options.since, until: options.until };
  const query = { ...filters, limit: options.limit, cursor: options.cursor };
  let page: Page<RunRecord>;
  if (options.jobId) {
    const job = jobDefinition(jobs, options.jobId);
    page = await target.ledger.runs.listByJob(job.id, { ...query, runningSince: runningSince(job, now) });
  } else {
    page = await target.ledger.runs.listAll({
      ...query,
      running: jobs.map((job) => ({ jobId: job.id, since: runningSince(job, now) })),
    });
  }
  const more = page.cursor
    ? `stepjobs audit${options.jobId ? ` --job ${options.jobId}` : ''}${filterOptions(filters)} --limit ${options.limit}${options.format === 'table' ? '' : ` --${options.format}`} --cursor ${page.cursor}`
    : undefined;
  if (options.format === 'json') {
    io.out(JSON.stringify(page, null, 2));
    return ExitCode.OK;
  }
  if (options.format === 'csv') {
    io.out(stringify(page.items.map(csvRow), { header: true, columns: [...AUDIT_CSV_COLUMNS] }).trimEnd());
    // The hint goes to stderr, so the CSV on stdout stays one table.
    if (more) io.note(`More: ${more}`);
    return ExitCode.OK;
  }
  if (page.items.length === 0) {
    io.out(
      `No runs${options.jobId ? ` of ${options.jobId}` : ''}${filterText(filters)}${options.cursor ? ' after this cursor' : ''}.`,
    );
    return ExitCode.OK;
  }
  io.out(
    table(
      ['run', 'job', 'status', 'trigger', 'started (UTC)', 'duration', 'finalized by', 'error'],
      page.items.map((r) => [
        r.runId,
        r.jobId,
        statusText(r),
        triggerText(r),
        shortTime(r.startedAt),
        duration(r.durationMs),
        r.finalizedBy ?? '',
        r.error ? `${r.error.name}${r.error.cause ? `: ${truncate(r.error.cause, 40)}` : ''}` : '',
      ]),
    ),
  );
  if (more) io.out(`More: ${more}`);
  return ExitCode.OK;
}
