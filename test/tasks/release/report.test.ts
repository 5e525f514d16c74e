/**
 * Report with real dependencies: the actions it sums are the ones Plan and ApplyBatch recorded for the seeded
 * simulated account (and, for the tolerance edge cases, records written straight into the ledger).
 */
import '../../helpers/quiet';
import type { ActionOutcome } from '../../../shared/ledger/items';
import { applyBatch } from '../../../tasks/release/apply-batch';
import { RESOURCE_TYPES, type PlannedAction } from '../../../tasks/release/model';
import { plan, toActionRecord } from '../../../tasks/release/plan';
import { report, ToleratedFailureExceeded, type ReportData } from '../../../tasks/release/report';
import { expectedCounts, inventorySeed } from '../../../local/simulated-account';
import { useEmbeddedLedger } from '../../helpers/ledger';
import { NOW, newRunId, releaseInput, releaseWorld, type ReleaseWorld } from './release-fixture';
import { actionsOf } from '../../../shared/ledger/actions-repository';

const db = useEmbeddedLedger();
const SEED = inventorySeed(NOW);
const EXPECTED = expectedCounts(SEED);
const VANISHING = SEED.filter((c) => c.resource.vanishOnApply).map((c) => c.resource);

const reportData = (input: Record<string, unknown>): ReportData => ({
  input: releaseInput(input),
  results: {},
});

/** Plan the seed, and apply the first `applyBatches` batches (@default all) of a run that applies. */
async function planAndApply(world: ReleaseWorld, input: Record<string, unknown>, applyBatches?: number) {
  const runId = newRunId();
  const parsed = releaseInput(input);
  const planned = await plan({ input: parsed, results: {} }, world.ctx(runId, 'Plan'), world.clients);
  for (const batch of planned.batches.slice(0, applyBatches)) {
    await applyBatch({ batch, policy: parsed.policy }, world.ctx(runId, 'ApplyBatch', batch), world.clients);
  }
  return { runId, planned };
}

/** Overwrite the outcome of the first `n` recorded actions of a run, as failed attempts would. */
async function fail(world: ReleaseWorld, runId: string, n: number, outcome: ActionOutcome = 'FAILED') {
  const actions = (await world.actions(runId)).slice(0, n);
  await actionsOf(world.ledger).record(
    actions.map((a) => ({ ...a, outcome, error: { name: 'UnauthorizedOperation', cause: 'denied' } })),
  );
}

describe('the report of a run that applied', () => {
  it('sums actions per type, action and outcome, and the saving of what was released', async () => {
    const world = await releaseWorld(db);
    const input = { dryRun: false };
    const { runId, planned } = await planAndApply(world, input);

    const summary = await report(reportData(input), world.ctx(runId, 'Report'));

    const byType = Object.fromEntries(
      RESOURCE_TYPES.map((type) => {
        const seeded = EXPECTED[type];
        const gone = VANISHING.filter((r) => r.type === type).length;
        const release = { ...(seeded.release > gone ? { DONE: seeded.release - gone } : {}) };
        if (gone > 0) Object.assign(release, { ALREADY_GONE: gone });
        return [
          type,
          {
            ...(seeded.mark ? { mark: { MARKED: seeded.mark } } : {}),
            ...(seeded.cancel ? { cancel: { CANCELLED: seeded.cancel } } : {}),
            ...(seeded.release ? { release } : {}),
          },
        ];
      }),
    );
    expect(summary.byType).toEqual(byType);
    const total = planned.planned.mark + planned.planned.release + planned.planned.cancel;
    expect(summary.totals).toEqual({
      actions: total,
      failed: 0,
      notApplied: 0,
      released: planned.planned.release - VANISHING.length,
      wouldRelease: 0,
    });
    // The vanished volume saved nothing: the saving counts only what this run released.
    const released = (await world.actions(runId)).filter(
      (a) => a.action === 'release' && a.outcome === 'DONE',
    );
    const saving = released.reduce((sum, a) => sum + (a.estimatedMonthlySavingUsd ?? 0), 0);
    expect(summary.estimatedMonthlySavingUsd).toBeCloseTo(saving, 2);
    expect(summary.estimatedMonthlySavingUsd).toBeLessThan(planned.estimatedMonthlySavingUsd);
    expect(summary).toMatchObject({ dryRun: false, simulatedAccount: true });
  });
});

describe('the report of a dry run', () => {
  it('counts planned releases as would-release, with the plan’s saving', async () => {
    const world = await releaseWorld(db);
    const { runId, planned } = await planAndApply(world, { dryRun: true });

    const summary = await report(reportData({ dryRun: true }), world.ctx(runId, 'Report'));

    for (const type of RESOURCE_TYPES) {
      const outcomes = Object.values(summary.byType[type] ?? {}).flatMap((perOutcome) =>
        Object.keys(perOutcome),
      );
      expect(new Set(outcomes)).toEqual(new Set(['PLANNED']));
      expect(summary.byType[type]?.release).toEqual({ PLANNED: EXPECTED[type].release });
    }
    expect(summary.totals).toMatchObject({
      failed: 0,
      notApplied: 0,
      released: 0,
      wouldRelease: planned.planned.release,
    });
    expect(summary.estimatedMonthlySavingUsd).toBe(planned.estimatedMonthlySavingUsd);
    expect(summary.dryRun).toBe(true);
  });

  it('of an empty plan is all zeros', async () => {
    const world = await releaseWorld(db, []);
    const { runId } = await planAndApply(world, { dryRun: true });

    const summary = await report(reportData({ dryRun: true }), world.ctx(runId, 'Report'));

    expect(summary).toMatchObject({
      byType: {},
      totals: { actions: 0, failed: 0, notApplied: 0, released: 0, wouldRelease: 0 },
      estimatedMonthlySavingUsd: 0,
    });
  });
});

describe('the tolerated failure percentage', () => {
  it('fails the run when more actions failed than the policy tolerates, saying how many', async () => {
    const world = await releaseWorld(db);
    const input = { dryRun: false, policy: { toleratedFailurePercentage: 10 } };
    const { runId } = await planAndApply(world, input);
    const total = (await world.actions(runId)).length;
    // The smallest count of failures above 10%.
    const failures = Math.floor(total / 10) + 1;
    await fail(world, runId, failures);

    const error = await report(reportData(input), world.ctx(runId, 'Report')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ToleratedFailureExceeded);
    expect(error).toMatchObject({
      name: 'ToleratedFailureExceeded',
      message: `${failures} of ${total} actions failed (${((failures / total) * 100).toFixed(1)}%), more than the tolerated 10%; see "stepjobs actions <runId>"`,
    });
  });

  it('lets a run with failures up to the percentage succeed, and reports the failures', async () => {
    const world = await releaseWorld(db);
    const input = { dryRun: false, policy: { toleratedFailurePercentage: 10 } };
    const { runId } = await planAndApply(world, input);
    const total = (await world.actions(runId)).length;
    const failures = Math.floor(total / 10);
    expect(failures).toBeGreaterThan(0);
    await fail(world, runId, failures);

    const summary = await report(reportData(input), world.ctx(runId, 'Report'));

    expect(summary.totals).toMatchObject({ actions: total, failed: failures });
  });

  it('is exact at the boundary: 1 failure in 10 actions is 10%, tolerated at 10 and not at 9.99', async () => {
    const world = await releaseWorld(db);
    const runId = newRunId();
    const ctx = world.ctx(runId, 'Report');
    const actions: PlannedAction[] = Array.from({ length: 10 }, (_, i) => ({
      type: 'elastic-ip',
      resourceId: `eipalloc-0${i}`,
      arn: `arn:aws:ec2:us-east-1:000000000000:elastic-ip/eipalloc-0${i}`,
      kind: 'release',
      operation: 'release',
      reason: 'not associated',
      estimatedMonthlySavingUsd: 3.65,
    }));
    await actionsOf(world.ledger).record(
      actions.map((a, i) => toActionRecord(a, ctx, i === 0 ? 'FAILED' : 'DONE', NOW.toISOString())),
    );
    const at = (tolerated: number) =>
      report(reportData({ dryRun: false, policy: { toleratedFailurePercentage: tolerated } }), ctx);

    await expect(at(10)).resolves.toMatchObject({
      totals: { actions: 10, failed: 1, released: 9 },
      estimatedMonthlySavingUsd: 32.85,
    });
    await expect(at(9.99)).rejects.toThrow('1 of 10 actions failed (10.0%), more than the tolerated 9.99%');
    await expect(at(0)).rejects.toBeInstanceOf(ToleratedFailureExceeded);
  });

  it('counts actions a run that applies never carried out (a batch the Map tolerated) as failures', async () => {
    const world = await releaseWorld(db);
    const input = { dryRun: false, policy: { batchSize: 5, toleratedFailurePercentage: 10 } };
    const { runId, planned } = await planAndApply(world, input, 2);
    const total = planned.planned.mark + planned.planned.release + planned.planned.cancel;
    const notApplied = total - 10;
    expect(notApplied).toBeGreaterThan(total / 10);

    const error = await report(reportData(input), world.ctx(runId, 'Report')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ToleratedFailureExceeded);
    expect((error as Error).message).toContain(`${notApplied} of ${total} actions were never applied`);

    const tolerant = { dryRun: false, policy: { batchSize: 5, toleratedFailurePercentage: 100 } };
    const summary = await report(reportData(tolerant), world.ctx(runId, 'Report'));
    expect(summary.totals).toMatchObject({ actions: total, failed: 0, notApplied });
  });
});
