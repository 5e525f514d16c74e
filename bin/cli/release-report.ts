/**
 * The release job's run summary for people: counts per type, what would be (or was) released and why, the
 * estimated monthly saving, and where to see the ledger. Read from the run's ledger record and actions.
 */
import type { RunDetail } from '../../shared/ledger/runs-repository';
import type { ActionRecord } from '../../shared/ledger/items';
import { actionsTable } from './action-commands';
import type { PlanOutput } from '../../tasks/release/plan';
import { table } from './format';

/** The parts of the Plan step's output the summary shows. */
type PlanSummary = Pick<PlanOutput, 'dryRun' | 'simulatedAccount' | 'counts' | 'estimatedMonthlySavingUsd'>;

/**
 * The plan's summary: the output of the Plan invocation that finished planning (the last of `Plan[<n>]`), or
 * the run's output when the sweep finalized the run.
 */
function planOf(detail: RunDetail): PlanSummary | undefined {
  const invocations = detail.steps.filter(
    (s) => s.name === 'Plan' && s.output !== undefined && !s.output.truncated,
  );
  try {
    for (const step of invocations.reverse()) {
      const output = JSON.parse(step.output?.text ?? '') as PlanSummary & { done?: boolean };
      if (output.done !== false) return output;
    }
    if (detail.run.output) return (JSON.parse(detail.run.output) as { Plan?: PlanSummary }).Plan;
  } catch {
    // a cut output: the actions below still tell the story
  }
  return undefined;
}

/** Whether the run was a dry run: the plan says so; without one (a run that failed first), its input does. */
function isDryRun(
  detail: RunDetail,
  plan: PlanSummary | undefined,
  actions: readonly ActionRecord[],
): boolean {
  if (plan) return plan.dryRun;
  const dryRun = validatedDryRun(detail.run.input?.text);
  return typeof dryRun === 'boolean' ? dryRun : actions.every((a) => a.dryRun);
}

/** `dryRun` of a validated input text (never cut: a release input is far smaller than the inline bound). */
function validatedDryRun(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { dryRun?: unknown } | null)?.dryRun;
  } catch {
    return undefined; // a cut text is not JSON: the actions decide
  }
}

export function releaseReportText(detail: RunDetail, actions: readonly ActionRecord[]): string {
  const plan = planOf(detail);
  const lines: string[] = [];
  const dryRun = isDryRun(detail, plan, actions);
  if (plan?.simulatedAccount) {
    lines.push(
      'NOTE: this ran against the SIMULATED account (local mode): no real AWS resource exists or was touched.',
    );
  }
  if (detail.run.error && actions.every((a) => a.outcome === 'PLANNED')) {
    // Failed before Apply changed anything (invalid input, a blast-radius cap): no outcomes to show.
    lines.push(
      `${dryRun ? 'DRY RUN' : 'NOT APPLIED'}: the run failed (${detail.run.error.name}) before changing anything; nothing was changed.`,
      ...(actions.length > 0
        ? [`It planned ${actions.length} actions, never applied: npx stepjobs actions ${detail.run.runId}`]
        : []),
      `Ledger: npx stepjobs show ${detail.run.runId}`,
    );
    return lines.join('\n');
  }
  if (!plan && actions.length === 0) {
    lines.push(
      `${dryRun ? 'DRY RUN' : 'NOT APPLIED'}: no plan was recorded; nothing was changed.`,
      `Ledger: npx stepjobs show ${detail.run.runId}`,
    );
    return lines.join('\n');
  }
  lines.push(
    dryRun
      ? 'DRY RUN: the plan below was recorded; nothing was changed.'
      : 'Applied: the outcomes below were recorded.',
  );
  if (plan) {
    lines.push(
      '',
      table(
        [
          'type',
          'discovered',
          'not opted in',
          'protected',
          'not idle',
          'in grace',
          'mark',
          'release',
          'cancel',
        ],
        Object.entries(plan.counts).map(([type, c]) => [
          type,
          c.discovered,
          c.notOptedIn,
          c.protected,
          c.notIdle,
          c.inGrace,
          c.mark,
          c.release,
          c.cancel,
        ]),
      ),
    );
  }
  const releases = actions.filter((a) => a.action === 'release');
  if (releases.length > 0) {
    lines.push('', dryRun ? 'Would release:' : 'Released:', actionsTable(releases));
  }
  const others = actions.filter((a) => a.action !== 'release');
  if (others.length > 0)
    lines.push(
      '',
      'Grace period (mark now, release after the date; cancel when no longer a candidate):',
      actionsTable(others),
    );
  const saving = releases
    .filter((a) => (dryRun ? a.outcome === 'PLANNED' : a.outcome === 'DONE'))
    .reduce((sum, a) => sum + (a.estimatedMonthlySavingUsd ?? 0), 0);
  lines.push(
    '',
    `Estimated monthly saving${dryRun ? ' if applied' : ''}: $${saving.toFixed(2)} (us-east-1 on-demand list prices; an estimate)`,
    `Ledger: npx stepjobs actions ${detail.run.runId}   ·   npx stepjobs resource <resource-id>   ·   npx stepjobs show ${detail.run.runId}`,
  );
  return lines.join('\n');
}
