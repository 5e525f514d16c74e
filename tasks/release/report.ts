/**
 * Report: read every action of the run back from the ledger and sum it up per type, action and outcome,
 * with the estimated monthly saving. The summary is the run's output; FinishRun stores it on the run record.
 * More failed actions than the policy tolerates fail the run here, after everything else was recorded. An
 * action a run that applies never carried out (still PLANNED: its batch failed and the Map tolerated it) counts
 * as failed: it was planned and not done.
 */
import * as z from '../../shared/zod';
import { StepJobsError } from '../../shared/errors';
import { jobStep, type StepContext } from '../../shared/handler';
import { metrics, MetricUnit } from '../../shared/powertools';
import { isSimulated } from './account';
import { ReleaseInput } from './input';
import { actionsOf } from '../../shared/ledger/actions-repository';

export const ReportData = z.object({ input: ReleaseInput, results: z.record(z.string(), z.unknown()) });
export type ReportData = z.infer<typeof ReportData>;

export class ToleratedFailureExceeded extends StepJobsError {
  constructor(failed: number, total: number, tolerated: number, notApplied = 0) {
    const parts = [
      ...(failed > 0 || notApplied === 0 ? [`${failed} of ${total} actions failed`] : []),
      ...(notApplied > 0 ? [`${notApplied} of ${total} actions were never applied`] : []),
    ];
    super(
      `${parts.join(' and ')} (${(((failed + notApplied) / total) * 100).toFixed(1)}%), more than the tolerated ${tolerated}%; see "stepjobs actions <runId>"`,
    );
    this.name = 'ToleratedFailureExceeded';
  }
}

export interface ReleaseReport {
  dryRun: boolean;
  simulatedAccount: boolean;
  /** `<type>` → `<action>` → `<outcome>` → count. */
  byType: Record<string, Record<string, Record<string, number>>>;
  /**
   * `notApplied`: actions of a run that applies still PLANNED after Apply (their batch failed and the Map
   * tolerated it); they count as failed against the tolerated percentage.
   */
  totals: { actions: number; failed: number; notApplied: number; released: number; wouldRelease: number };
  /** Releases carried out (or, in a dry run, planned), summed: USD per month at list prices. An estimate. */
  estimatedMonthlySavingUsd: number;
}

export async function report(data: ReportData, ctx: StepContext): Promise<ReleaseReport> {
  const byType: ReleaseReport['byType'] = {};
  const totals = { actions: 0, failed: 0, notApplied: 0, released: 0, wouldRelease: 0 };
  let saving = 0;
  for await (const action of actionsOf(ctx.ledger).allByRun(ctx.run.runId)) {
    const perAction = (byType[action.resourceType] ??= {});
    const perOutcome = (perAction[action.action] ??= {});
    perOutcome[action.outcome] = (perOutcome[action.outcome] ?? 0) + 1;
    totals.actions += 1;
    if (action.outcome === 'FAILED') totals.failed += 1;
    if (!action.dryRun && action.outcome === 'PLANNED') totals.notApplied += 1;
    if (action.action !== 'release') continue;
    const counts = action.dryRun ? action.outcome === 'PLANNED' : action.outcome === 'DONE';
    if (!counts) continue;
    if (action.dryRun) totals.wouldRelease += 1;
    else totals.released += 1;
    saving += action.estimatedMonthlySavingUsd ?? 0;
  }
  countActions(ctx.run.jobId, byType, data.input.dryRun, saving);
  const tolerated = data.input.policy.toleratedFailurePercentage;
  const unsuccessful = totals.failed + totals.notApplied;
  if (totals.actions > 0 && (unsuccessful / totals.actions) * 100 > tolerated) {
    throw new ToleratedFailureExceeded(totals.failed, totals.actions, tolerated, totals.notApplied);
  }
  return {
    dryRun: data.input.dryRun,
    simulatedAccount: isSimulated(ctx.env),
    byType,
    totals,
    estimatedMonthlySavingUsd: Math.round(saving * 100) / 100,
  };
}

/**
 * The dashboard's release figures: actions by kind, planned (a dry run) or carried out (an applied run; failed
 * and never-applied ones left out), and the estimated saving.
 */
function countActions(jobId: string, byType: ReleaseReport['byType'], dryRun: boolean, saving: number): void {
  const mode = dryRun ? 'planned' : 'applied';
  const counts = new Map<string, number>();
  for (const perAction of Object.values(byType)) {
    for (const [action, perOutcome] of Object.entries(perAction)) {
      for (const [outcome, n] of Object.entries(perOutcome)) {
        const counted = dryRun ? outcome === 'PLANNED' : outcome !== 'PLANNED' && outcome !== 'FAILED';
        if (counted) counts.set(action, (counts.get(action) ?? 0) + n);
      }
    }
  }
  for (const [action, n] of counts) {
    const single = metrics.singleMetric();
    single.addDimensions({ job: jobId, action, mode });
    single.addMetric('ReleaseActions', MetricUnit.Count, n);
  }
  const single = metrics.singleMetric();
  single.addDimension('job', jobId);
  single.addMetric('EstimatedMonthlySavingUsd', MetricUnit.NoUnit, Math.round(saving * 100) / 100);
}

export const handler = jobStep(ReportData, report);
