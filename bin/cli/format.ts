/** Human output of the CLI: tables (cli-table3), durations, times in a job's time zone, run summaries. */
import Table from 'cli-table3';
import type { StoredJson } from '../../shared/json';
import type { JobState, RunRecord, StepRecord } from '../../shared/ledger/items';
import type { RunDetail } from '../../shared/ledger/runs-repository';
import { pauseText } from '../../shared/ledger/pause';
import { duration, statusText, triggerText, truncate } from '../../shared/run-text';
import type { LocalSweepResult } from '../../local/runtime';

export { duration, statusText, triggerText, truncate } from '../../shared/run-text';

export function table(
  head: string[],
  rows: Array<Array<string | number>>,
  colWidths: Array<number | null> = [],
): string {
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true, colWidths });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

/** `2026-11-30 14:00 CET`-style local time in a zone. */
export function zoned(date: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(date);
  return text;
}

export function shortTime(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '-';
}

export function lastRunText(state: JobState): string {
  const last = state.lastRun;
  return last ? `${last.status} ${shortTime(last.endedAt ?? last.startedAt)}` : 'never';
}

export function runsTable(runs: readonly RunRecord[]): string {
  return table(
    ['run', 'status', 'trigger', 'started (UTC)', 'duration', 'error'],
    runs.map((r) => [
      r.runId,
      statusText(r),
      triggerText(r),
      shortTime(r.startedAt),
      duration(r.durationMs),
      r.error ? `${r.error.name}${r.error.cause ? `: ${truncate(r.error.cause, 60)}` : ''}` : '',
    ]),
  );
}

function stepName(step: StepRecord): string {
  return step.itemIndex === undefined ? step.name : `${step.name}[${step.itemIndex}]`;
}

/** Steps of a run; `runFinal` marks a step still RUNNING as one whose end the ledger never got. */
export function stepsTable(steps: readonly StepRecord[], runFinal = false): string {
  return table(
    ['step', 'status', 'attempts', 'started (UTC)', 'duration', 'error'],
    steps.map((s) => [
      stepName(s),
      runFinal && s.status === 'RUNNING' ? 'RUNNING (end not recorded)' : s.status,
      s.attempts,
      shortTime(s.startedAt),
      duration(s.durationMs),
      s.error ? `${s.error.name}: ${truncate(s.error.cause ?? '', 60)}` : '',
    ]),
  );
}

/** The full human view of one run: the record, its steps, and a count of its actions. */
export function runDetailText(detail: RunDetail): string {
  const { run } = detail;
  const lines = [
    `Run ${run.runId}`,
    `  job        ${run.jobId}`,
    `  status     ${statusText(run)}`,
    `  trigger    ${triggerText(run)}`,
    `  execution  ${run.executionArn ?? '(none: no delivery of the slot arrived)'}`,
    `  started    ${shortTime(run.startedAt)}`,
    `  ended      ${shortTime(run.endedAt)}`,
    `  duration   ${duration(run.durationMs)}`,
    `  input      ${run.input ? storedText(run.input) : '(not validated)'}`,
    `  sent       ${run.inputUnavailable ? `(${run.inputUnavailable})` : storedText(run.rawInput)}`,
  ];
  if (run.tookOverFrom) lines.push(`  took over  an expired lease from ${run.tookOverFrom}`);
  if (run.calendarExclusion && run.status !== 'SKIPPED')
    lines.push(`  calendar   ran in an exclusion (${run.calendarExclusion}): only scheduled runs skip it`);
  if (run.relatedRunId && (run.trigger.type === 'catchup' || run.trigger.type === 'backfill'))
    lines.push(`  replaces   ${run.relatedRunId}, which skipped this slot`);
  for (const earlier of run.redrives ?? [])
    lines.push(
      `  redriven   ${shortTime(earlier.at)}, after it ended ${earlier.status}${earlier.error ? ` (${earlier.error.name})` : ''}`,
    );
  if (run.hint) lines.push(`  what next  ${run.hint}`);
  if (run.resumedAfter)
    lines.push(`  resumed    first run after a pause that ended: ${pauseText(run.resumedAfter)}`);
  if (run.finalizedBy) lines.push(`  finalized  by the ${run.finalizedBy}`);
  if (run.error) lines.push(`  error      ${run.error.name}${run.error.cause ? `: ${run.error.cause}` : ''}`);
  if (run.output)
    lines.push(`  output     ${truncate(run.output, 400)}${run.outputTruncated ? ' (truncated)' : ''}`);
  for (const step of detail.steps)
    if (step.output && step.itemIndex === undefined)
      lines.push(`  ${`${step.name} →`.padEnd(10)} ${storedText(step.output, 300)}`);
  lines.push(`  expires    ${new Date(run.expiresAt * 1000).toISOString().slice(0, 10)}`);
  if (detail.steps.length > 0) lines.push('', 'Steps', stepsTable(detail.steps, run.status !== 'RUNNING'));
  if (detail.actions.length > 0)
    lines.push('', `Actions: ${detail.actions.length} (stepjobs actions ${run.runId})`);
  return lines.join('\n');
}

/** A stored JSON text, cut for the terminal; a text the ledger keeps only in part says how much of it. */
export function storedText(stored: StoredJson, max = 400): string {
  const text = truncate(stored.text, max);
  if (!stored.truncated) return text;
  return `${text} (first ${Buffer.byteLength(stored.text, 'utf8')} of ${stored.bytes} bytes; sha256 ${stored.sha256.slice(0, 16)}…)`;
}

/** What the start-up recovery repaired, in one line; `undefined` when it repaired nothing. */
export function recoveryLine(
  result: Pick<LocalSweepResult, 'repaired' | 'releasedLocks' | 'notifyError'>,
): string | undefined {
  const ended = result.repaired.filter((r) => r.how === 'finalized');
  const recorded = result.repaired.filter((r) => r.how === 'recorded');
  const parts: string[] = [];
  const runs = (list: typeof ended) =>
    `${list.length} run${list.length === 1 ? '' : 's'} (${list
      .slice(0, 3)
      .map((r) => `${r.runId} ${r.status}`)
      .join(', ')}${list.length > 3 ? ', …' : ''})`;
  if (ended.length > 0) parts.push(`ended ${runs(ended)} left RUNNING by a stepjobs process that is gone`);
  if (recorded.length > 0) parts.push(`recorded ${runs(recorded)} that had no run record`);
  const locks = result.releasedLocks;
  if (locks.length > 0) {
    const held = locks.map((l) => `${l.jobId}, held by ${l.holderRunId}`).join('; ');
    parts.push(
      `released ${locks.length} lock${locks.length === 1 ? '' : 's'} that outlived ${locks.length === 1 ? 'its run' : 'their runs'} (${held})`,
    );
  }
  if (parts.length === 0) return undefined;
  const unnotified = result.notifyError ? ` The run notifier was not told: ${result.notifyError}.` : '';
  return `recovered: ${parts.join('; ')}. See stepjobs show <runId>.${unnotified}`;
}
