/**
 * The audit digest's run summary for people: the windows, the key figures and where its two reports are, from
 * the Digest step's output in the ledger (the reports themselves are in the report bucket).
 */
import type { RunDetail } from '../../shared/ledger/runs-repository';
import type { DigestSummary } from '../../tasks/audit-digest/digest';

/** The Digest step's summary, when the step ended and its output is whole JSON (a few hundred bytes). */
function summaryOf(detail: RunDetail): DigestSummary | undefined {
  const step = detail.steps.find((s) => s.name === 'Digest');
  if (!step?.output || step.output.truncated) return undefined;
  return JSON.parse(step.output.text) as DigestSummary;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function digestReportText(detail: RunDetail): string {
  const summary = summaryOf(detail);
  if (!summary) return 'No digest was written (the Digest step did not finish); see the steps above.';
  const window = (w: DigestSummary['lastDay']) =>
    `${plural(w.runs, 'run')}, ${plural(w.failures, 'failure')}, ${w.missed} missed`;
  const lines = [
    `Digest of ${plural(summary.jobs, 'job')} (${summary.timeZone}), up to ${summary.lastDay.to}:`,
    `  last day:    ${window(summary.lastDay)}`,
    `  last 7 days: ${window(summary.lastWeek)}`,
  ];
  if (summary.release) {
    lines.push(
      `  release (7 days): ${summary.release.released} released, estimated saving $${summary.release.estimatedMonthlySavingUsd.toFixed(2)}/month` +
        (summary.release.dryRunWouldRelease === null
          ? ''
          : `; the latest dry run would release ${summary.release.dryRunWouldRelease}`),
    );
  }
  lines.push(
    `Reports (bucket ${summary.bucket}): ${summary.keys.json}, ${summary.keys.csv}`,
    `Read them: npx stepjobs reports --show ${summary.keys.json}`,
  );
  return lines.join('\n');
}
