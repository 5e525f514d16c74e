/**
 * How a run reads in one line: its trigger, its status, its duration. The CLI's tables and the run
 * notifier's summaries use the same words, so a run reads the same in a terminal and in a chat channel.
 */
import type { RunRecord } from './ledger/items';
import { pauseText } from './ledger/pause';

/** `850 ms`, `12.3 s`, `4 min 5 s`. Rounds first, so 59.97 s is `1 min 0 s`, never `60.0 s` or `0 min 60 s`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * Who or what started the run: `schedule <slot>`, `cli (<principal>)`, `backfill of <slot>`, `rerun of <run>`,
 * `manual (<principal>, from CloudTrail)`, or `manual (caller unknown)` when nobody said who.
 */
export function triggerText(run: Pick<RunRecord, 'trigger'>): string {
  const t = run.trigger;
  const by = t.principal ? ` (${t.principal})` : '';
  if (t.type === 'schedule')
    return `schedule ${t.scheduledTime ?? ''}${t.attempt && t.attempt > 1 ? ` (attempt ${t.attempt})` : ''}`;
  if (t.type === 'cli') return `cli${by}`;
  if (t.type === 'catchup' || t.type === 'backfill') return `${t.type} of ${t.scheduledTime ?? ''}${by}`;
  if (t.type === 'rerun') return `rerun of ${t.relatedRunId ?? '?'}${by}`;
  if (!t.principal) return 'manual (caller unknown)';
  return `manual (${t.principal}${t.principalSource ? `, from ${t.principalSource === 'cloudtrail' ? 'CloudTrail' : t.principalSource}` : ''})`;
}

/**
 * Who started the run, as a summary says it. A console run's caller comes from CloudTrail, minutes after the
 * start and only in an account whose trail logs management events; until then it is unknown, and we say so.
 */
export function principalText(run: Pick<RunRecord, 'trigger'>): string {
  const t = run.trigger;
  if (t.principal) return t.principal;
  if (t.type === 'schedule') return 'EventBridge Scheduler';
  if (t.type === 'catchup') return 'the sweep (catch-up)';
  return 'unknown (a console or API caller; CloudTrail names it when the account has a trail)';
}

/** The status with what explains it: `SKIPPED (paused: …)`, `DUPLICATE of <run>`. */
export function statusText(
  run: Pick<RunRecord, 'status' | 'skipReason' | 'relatedRunId'> &
    Partial<Pick<RunRecord, 'pause' | 'calendarExclusion'>>,
): string {
  if (run.status === 'SKIPPED' && run.skipReason === 'calendar' && run.calendarExclusion)
    return `SKIPPED (${run.calendarExclusion})`;
  if (run.status === 'SKIPPED' && run.skipReason === 'paused' && run.pause)
    return `SKIPPED (paused: ${pauseText(run.pause)})`;
  if (run.status === 'SKIPPED' && run.skipReason) return `SKIPPED (${run.skipReason})`;
  if (run.status === 'DUPLICATE' && run.relatedRunId) return `DUPLICATE of ${run.relatedRunId}`;
  return run.status;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The execution's page in the Step Functions console of `region`. */
export function executionConsoleUrl(executionArn: string, region: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
