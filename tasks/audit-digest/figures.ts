/**
 * The digest's figures: every job's runs over the last day and the last 7 days, read from the ledger by index
 * (one pass over each job's GSI1 partition for the 7-day window, page by page; the day is the tail of it), and
 * the release job's actions and estimated savings from its runs' Report step items.
 *
 * Windows end at the same instant and start at the same local wall-clock time 1 and 7 days earlier, in the
 * digest's time zone: consecutive daily digests tile time with no gap and no overlap, DST days included (a
 * window is then 23 or 25 hours long).
 */
import { RunStatus, TriggerType } from '../../shared/constants';
import type { RunRecord } from '../../shared/ledger/items';
import type { Ledger } from '../../shared/ledger/ledger';
import { findStep } from '../../shared/ledger/run-notes';
import { instantsOf, localIso, offsetBeforeMs, wallClockMs } from '../../shared/time-zone';
import * as z from '../../shared/zod';

const DAY_MS = 86_400_000;

/** The statuses a digest counts as failures, with their error names and causes. */
export const FAILURE_STATUSES: readonly RunStatus[] = [
  RunStatus.FAILED,
  RunStatus.TIMED_OUT,
  RunStatus.ABORTED,
];
/** An example cause is cut to this many characters: a digest says what went wrong, the ledger keeps it whole. */
export const MAX_CAUSE_CHARS = 300;
/** Error groups listed per job and window; the rest are counted together as {@link OTHER_ERRORS}. */
export const MAX_ERROR_GROUPS = 20;
export const OTHER_ERRORS = '(other errors)';
/** The step of the release job whose output holds its figures (tasks/release/report.ts). */
export const RELEASE_REPORT_STEP = 'Report';

export type WindowName = 'day' | 'week';
export const WINDOWS: readonly WindowName[] = ['day', 'week'];

export interface DigestWindow {
  /** Runs started at or after this instant (ISO, UTC)… */
  from: string;
  /** …and before this one. */
  to: string;
  /** The same two instants in the digest's time zone, with their offsets. */
  fromLocal: string;
  toLocal: string;
}

/**
 * The digest's two windows, both ending at `end`: the last day and the last 7 days, each starting at the
 * same local wall-clock time as `end`, 1 and 7 days earlier in `timeZone`. A start that falls in a
 * spring-forward gap is read with the offset in force before the gap (02:30 that did not exist is 01:30 UTC in
 * Berlin); one in a fall-back repeat is the earlier of its two instants, so the window is never short.
 */
export function digestWindows(end: Date, timeZone: string): Record<WindowName, DigestWindow> {
  const endMs = end.getTime();
  const window = (days: number): DigestWindow => {
    const wall = wallClockMs(endMs, timeZone) - days * DAY_MS;
    const startMs = instantsOf(wall, timeZone)[0] ?? wall - offsetBeforeMs(wall, timeZone);
    return {
      from: new Date(startMs).toISOString(),
      to: end.toISOString(),
      fromLocal: localIso(startMs, timeZone),
      toLocal: localIso(endMs, timeZone),
    };
  };
  return { day: window(1), week: window(7) };
}

/**
 * The nearest-rank percentile: the smallest of `sorted` (ascending) with at least `p` percent of the values at
 * or below it. Always a value that was measured (no interpolation), so the digest's p50 and p95 are durations a
 * run really had; `null` for no values.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** `text` cut to `max` characters, whitespace runs collapsed, with `…` when cut. */
export function cutText(text: string, max = MAX_CAUSE_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export interface FailureGroup {
  /** The error name; a failed run with no error recorded is grouped under its status. */
  error: string;
  count: number;
  /** The cause of the newest failure of the group, cut to MAX_CAUSE_CHARS; null when none was recorded. */
  exampleCause: string | null;
  /** The newest failed run of the group (`stepjobs show <runId>`). */
  exampleRunId: string;
  /** When that run started. */
  lastStartedAt: string;
}

export interface WindowFigures {
  /** Every run record that started in the window, whatever its status (DUPLICATE and SKIPPED included). */
  runs: number;
  byStatus: Record<RunStatus, number>;
  byTrigger: Record<TriggerType, number>;
  /** Scheduled slots no delivery came for (status MISSED). */
  missed: number;
  /** Nearest-rank percentiles of the runs that have a duration (the ones that ended; MISSED runs have none). */
  durations: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  /** FAILED, TIMED_OUT and ABORTED runs, grouped by error name, largest group first. */
  failures: { count: number; byError: FailureGroup[] };
}

const zeroes = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

/** Counts one window's runs of one job; fed newest first, so the first failure of a group is its newest. */
export class WindowTally {
  private readonly byStatus = zeroes(Object.values(RunStatus));
  private readonly byTrigger = zeroes(Object.values(TriggerType));
  private readonly durations: number[] = [];
  private readonly errors = new Map<string, FailureGroup>();
  private runs = 0;
  private failures = 0;

  add(run: RunRecord): void {
    this.runs += 1;
    this.byStatus[run.status] = (this.byStatus[run.status] ?? 0) + 1;
    const trigger = run.trigger?.type;
    if (trigger) this.byTrigger[trigger] = (this.byTrigger[trigger] ?? 0) + 1;
    if (typeof run.durationMs === 'number') this.durations.push(run.durationMs);
    if (!FAILURE_STATUSES.includes(run.status)) return;
    this.failures += 1;
    const name = run.error?.name || run.status;
    const group = this.errors.get(name);
    if (group) group.count += 1;
    else
      this.errors.set(name, {
        error: name,
        count: 1,
        exampleCause: run.error?.cause ? cutText(run.error.cause) : null,
        exampleRunId: run.runId,
        lastStartedAt: run.startedAt,
      });
  }

  figures(): WindowFigures {
    const sorted = [...this.durations].sort((a, b) => a - b);
    const groups = [...this.errors.values()].sort(
      (a, b) => b.count - a.count || a.error.localeCompare(b.error),
    );
    const listed = groups.slice(0, MAX_ERROR_GROUPS);
    const rest = groups.slice(MAX_ERROR_GROUPS);
    if (rest.length > 0) {
      const newest = rest.reduce((a, b) => (b.lastStartedAt > a.lastStartedAt ? b : a));
      listed.push({ ...newest, error: OTHER_ERRORS, count: rest.reduce((sum, g) => sum + g.count, 0) });
    }
    return {
      runs: this.runs,
      byStatus: { ...this.byStatus },
      byTrigger: { ...this.byTrigger },
      missed: this.byStatus.MISSED,
      durations: {
        count: sorted.length,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        maxMs: sorted.at(-1) ?? null,
      },
      failures: { count: this.failures, byError: listed },
    };
  }
}

/**
 * The part of the release job's Report output the digest reads (tasks/release/report.ts `ReleaseReport`);
 * checked, since it is stored JSON text another version of the job may have written.
 */
export const ReleaseReportFigures = z.object({
  dryRun: z.boolean(),
  byType: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number()))),
  totals: z.object({
    actions: z.number(),
    failed: z.number(),
    notApplied: z.optional(z.number()),
    released: z.number(),
    wouldRelease: z.number(),
  }),
  estimatedMonthlySavingUsd: z.number(),
});
export type ReleaseReportFigures = z.infer<typeof ReleaseReportFigures>;

export interface ReleaseFigures {
  /** Release runs of the window whose Report figures were read. */
  runs: number;
  /** SUCCEEDED release runs whose Report figures could not be read (no step output, or cut, or not JSON). */
  unreported: number;
  /** Runs that applied their plan: what they did, summed (each resource is released once, so sums add up). */
  applied: {
    runs: number;
    actions: number;
    released: number;
    failed: number;
    notApplied: number;
    /** Estimated monthly saving of the releases carried out in the window, USD at list prices. */
    estimatedMonthlySavingUsd: number;
  };
  /**
   * Dry runs plan the same candidates again each time, so their figures are not summed: the latest one says
   * what applying would release now.
   */
  dryRun: {
    runs: number;
    latest: {
      runId: string;
      startedAt: string;
      actions: number;
      wouldRelease: number;
      estimatedMonthlySavingUsd: number;
    } | null;
  };
  /** `<action>` → `<outcome>` → count, summed over every reported run (dry runs' outcomes are PLANNED). */
  byAction: Record<string, Record<string, number>>;
}

/** Sums the release job's Report figures over one window; fed newest first. */
export class ReleaseTally {
  private readonly result: ReleaseFigures = {
    runs: 0,
    unreported: 0,
    applied: { runs: 0, actions: 0, released: 0, failed: 0, notApplied: 0, estimatedMonthlySavingUsd: 0 },
    dryRun: { runs: 0, latest: null },
    byAction: {},
  };

  unreported(): void {
    this.result.unreported += 1;
  }

  add(run: Pick<RunRecord, 'runId' | 'startedAt'>, report: ReleaseReportFigures): void {
    const { result } = this;
    result.runs += 1;
    for (const perAction of Object.values(report.byType)) {
      for (const [action, perOutcome] of Object.entries(perAction)) {
        const into = (result.byAction[action] ??= {});
        for (const [outcome, n] of Object.entries(perOutcome)) into[outcome] = (into[outcome] ?? 0) + n;
      }
    }
    if (report.dryRun) {
      result.dryRun.runs += 1;
      result.dryRun.latest ??= {
        runId: run.runId,
        startedAt: run.startedAt,
        actions: report.totals.actions,
        wouldRelease: report.totals.wouldRelease,
        estimatedMonthlySavingUsd: report.estimatedMonthlySavingUsd,
      };
      return;
    }
    const applied = result.applied;
    applied.runs += 1;
    applied.actions += report.totals.actions;
    applied.released += report.totals.released;
    applied.failed += report.totals.failed;
    applied.notApplied += report.totals.notApplied ?? 0;
    // Cents, summed as integers: no float drift over a year of runs.
    applied.estimatedMonthlySavingUsd =
      Math.round(applied.estimatedMonthlySavingUsd * 100 + report.estimatedMonthlySavingUsd * 100) / 100;
  }

  figures(): ReleaseFigures {
    return structuredClone(this.result);
  }
}

export interface JobDigest {
  jobId: string;
  day: WindowFigures;
  week: WindowFigures;
}

export interface DigestFigures {
  jobs: JobDigest[];
  /** Every job's figures added up, per window (runs, failures, missed). */
  totals: Record<WindowName, { runs: number; failures: number; missed: number }>;
  /** The release job's actions and savings; null when the app has no release job. */
  release: ({ jobId: string } & Record<WindowName, ReleaseFigures>) | null;
}

/**
 * The figures of `jobIds` over `windows`, from the ledger. Each job costs one pass over its GSI1 partition for
 * the 7-day window (a query and a batch read per page of `pageSize` runs, following the cursor to the end of
 * the window); the day's figures are counted on the same pass. Each SUCCEEDED release run costs one GetItem of
 * its Report step. Nothing is scanned.
 */
export async function collectFigures(
  ledger: Ledger,
  options: {
    jobIds: readonly string[];
    windows: Record<WindowName, DigestWindow>;
    releaseJobId?: string;
    pageSize?: number;
  },
): Promise<DigestFigures> {
  const { windows } = options;
  const jobs: JobDigest[] = [];
  let release: DigestFigures['release'] = null;
  for (const jobId of options.jobIds) {
    const day = new WindowTally();
    const week = new WindowTally();
    const isRelease = jobId === options.releaseJobId;
    const releaseTallies = { day: new ReleaseTally(), week: new ReleaseTally() };
    const runs = ledger.runs.allByJob(jobId, {
      since: windows.week.from,
      until: windows.week.to,
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    });
    for await (const run of runs) {
      const inDay = run.startedAt >= windows.day.from;
      week.add(run);
      if (inDay) day.add(run);
      if (!isRelease || run.status !== RunStatus.SUCCEEDED) continue;
      const report = await releaseReportOf(ledger, run);
      for (const tally of inDay ? [releaseTallies.day, releaseTallies.week] : [releaseTallies.week]) {
        if (report) tally.add(run, report);
        else tally.unreported();
      }
    }
    jobs.push({ jobId, day: day.figures(), week: week.figures() });
    if (isRelease)
      release = { jobId, day: releaseTallies.day.figures(), week: releaseTallies.week.figures() };
  }
  const totals = (name: WindowName) => ({
    runs: jobs.reduce((sum, job) => sum + job[name].runs, 0),
    failures: jobs.reduce((sum, job) => sum + job[name].failures.count, 0),
    missed: jobs.reduce((sum, job) => sum + job[name].missed, 0),
  });
  return { jobs, totals: { day: totals('day'), week: totals('week') }, release };
}

/**
 * A release run's Report figures: from its Report step item (every step stores what it returned, up to
 * 16 KiB; FinishRun keeps nothing on the run item), else from the run's stored output summary, which only a
 * run finalized by the sweep or the reconciler has (the execution's output, `results.Report` in it). Undefined
 * when neither holds readable figures.
 */
export async function releaseReportOf(
  ledger: Ledger,
  run: Pick<RunRecord, 'runId' | 'output' | 'outputTruncated'>,
): Promise<ReleaseReportFigures | undefined> {
  const step = await findStep(ledger.table, run.runId, RELEASE_REPORT_STEP);
  const fromStep = step?.output && !step.output.truncated ? parseFigures(step.output.text) : undefined;
  if (fromStep) return fromStep;
  if (!run.output || run.outputTruncated) return undefined;
  const output = parseJson(run.output) as { results?: Record<string, unknown> } | undefined;
  const report = output?.results?.[RELEASE_REPORT_STEP];
  const parsed = ReleaseReportFigures.safeParse(report);
  return parsed.success ? parsed.data : undefined;
}

function parseFigures(text: string): ReleaseReportFigures | undefined {
  const parsed = ReleaseReportFigures.safeParse(parseJson(text));
  return parsed.success ? parsed.data : undefined;
}

/** JSON text that is not JSON (a cut copy) is simply not figures: the caller counts the run as unreported. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
