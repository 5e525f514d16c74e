/**
 * Plan with real dependencies: the ledger in dynalite and the simulated account (the seed at NOW) as the
 * account it discovers. Plan records every planned action and stores the plan in batches; it never changes
 * the account, and a cap breach stops it before anything is recorded.
 */
import '../../helpers/quiet';
import { ActionNotAllowed, BlastRadiusExceeded } from '../../../tasks/release/errors';
import { RESOURCE_TYPES, type PlannedAction } from '../../../tasks/release/model';
import {
  fromPlanEntry,
  plan,
  PLAN_BUDGET_ENV,
  type PlanData,
  type PlanOutput,
} from '../../../tasks/release/plan';
import { expectedCounts, inventorySeed } from '../../../local/simulated-account';
import { useEmbeddedLedger } from '../../helpers/ledger';
import { NOW, newRunId, releaseInput, releaseWorld, type ReleaseWorld } from './release-fixture';
import { actionsOf } from '../../../shared/ledger/actions-repository';

const db = useEmbeddedLedger();
const DAY_MS = 86_400_000;
const SEED = inventorySeed(NOW);
/** What the default policy plans for the seed: `<type> <id>` → mark, release or cancel. */
const EXPECTED_PLAN = new Map(
  SEED.filter((c) => c.expected === 'mark' || c.expected === 'release' || c.expected === 'cancel').map(
    (c) => [`${c.resource.type} ${c.resource.id}`, c.expected],
  ),
);

const data = (input: Record<string, unknown> = {}): PlanData => ({ input: releaseInput(input), results: {} });

async function runPlan(world: ReleaseWorld, input: Record<string, unknown> = {}) {
  const runId = newRunId();
  const output = await plan(data(input), world.ctx(runId, 'Plan'), world.clients);
  return { runId, output };
}

/** A plan that must fail: its run id and the error. */
async function failedPlan(world: ReleaseWorld, input: Record<string, unknown>) {
  const runId = newRunId();
  const error = await plan(data(input), world.ctx(runId, 'Plan'), world.clients).then(
    () => {
      throw new Error('expected the plan to fail');
    },
    (e: unknown) => e,
  );
  return { runId, error };
}

/** How many seeded resources of a type discovery finds (all but the invisible ones). */
const discoveredOf = (seeded: Record<string, number>) =>
  Object.entries(seeded)
    .filter(([expectation]) => expectation !== 'invisible')
    .reduce((sum, [, n]) => sum + n, 0);

describe('a dry run', () => {
  it('records every planned action as PLANNED and dry run, and touches nothing', async () => {
    const world = await releaseWorld(db);
    const before = await world.inventory();

    const { runId, output } = await runPlan(world, { dryRun: true });

    const actions = await world.actions(runId);
    expect(new Map(actions.map((a) => [`${a.resourceType} ${a.resourceId}`, a.action]))).toEqual(
      EXPECTED_PLAN,
    );
    for (const action of actions) {
      expect(action).toMatchObject({
        runId,
        jobId: 'release-idle-resources',
        outcome: 'PLANNED',
        dryRun: true,
        at: NOW.toISOString(),
        reason: expect.any(String),
      });
    }
    // The account is exactly as it was: not even a tag was written.
    expect(await world.inventory()).toEqual(before);
    // The plan is stored (that is where a dry run's actions live), and the Apply Map gets no items.
    expect(output.batches).toEqual([]);
    await expect(actionsOf(world.ledger).readPlanBatch(runId, 0)).resolves.toMatchObject({
      dryRun: true,
      batch: 0,
    });
    // Nothing was carried out, so nothing is indexed by resource.
    for (const action of actions)
      expect((await actionsOf(world.ledger).listByResource(action.resourceId)).items).toEqual([]);
    expect(output).toMatchObject({ dryRun: true, simulatedAccount: true });
  });

  it('reports counts per type and the saving of the planned releases', async () => {
    const world = await releaseWorld(db);
    const { runId, output } = await runPlan(world);

    const expected = expectedCounts(SEED);
    for (const [type, counts] of Object.entries(output.counts)) {
      const seeded = expected[type as keyof typeof expected];
      expect({ type, ...counts }).toMatchObject({
        type,
        mark: seeded.mark,
        release: seeded.release,
        cancel: seeded.cancel,
        inGrace: seeded['in-grace'],
        candidates: seeded.mark + seeded.release + seeded['in-grace'],
      });
      // A cancel lands in the bucket that says why (protected, not opted in, not idle).
      expect(counts.protected + counts.notOptedIn + counts.notIdle).toBe(
        seeded.protected + seeded['not-opted-in'] + seeded['not-idle'] + seeded.cancel,
      );
      expect(counts.protected).toBeGreaterThanOrEqual(seeded.protected);
      expect(counts.discovered).toBe(
        counts.candidates + counts.protected + counts.notOptedIn + counts.notIdle,
      );
      expect(counts.discovered).toBe(discoveredOf(seeded));
    }
    const actions = await world.actions(runId);
    const releases = actions.filter((a) => a.action === 'release');
    expect(output.planned).toEqual({
      mark: actions.filter((a) => a.action === 'mark').length,
      release: releases.length,
      cancel: actions.filter((a) => a.action === 'cancel').length,
    });
    const saving = releases.reduce((sum, a) => sum + (a.estimatedMonthlySavingUsd ?? 0), 0);
    expect(output.estimatedMonthlySavingUsd).toBeCloseTo(saving, 2);
    expect(output.estimatedMonthlySavingUsd).toBeGreaterThan(0);
  });

  it('marks with a release date graceDays after the run clock', async () => {
    const world = await releaseWorld(db);
    const { runId } = await runPlan(world, { policy: { graceDays: 2.5 } });

    const marks = (await world.actions(runId)).filter((a) => a.action === 'mark');
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) {
      expect(mark.releaseAfter).toBe(new Date(NOW.getTime() + 2.5 * DAY_MS).toISOString());
    }
  });
});

describe('a run that applies', () => {
  it('stores the plan in batches of policy.batchSize, in plan order, and returns their numbers', async () => {
    const world = await releaseWorld(db);
    const before = await world.inventory();

    const { runId, output } = await runPlan(world, { dryRun: false, policy: { batchSize: 4 } });

    const total = EXPECTED_PLAN.size;
    const batchCount = Math.ceil(total / 4);
    expect(output.batches).toEqual(Array.from({ length: batchCount }, (_, i) => i));
    const stored: PlannedAction[][] = [];
    for (const batch of output.batches) {
      const read = await actionsOf(world.ledger).readPlanBatch(runId, batch);
      expect(read).toMatchObject({ runId, batch, dryRun: false });
      stored.push(read.actions.map(fromPlanEntry));
    }
    expect(stored.map((b) => b.length)).toEqual([
      ...Array.from({ length: batchCount - 1 }, () => 4),
      total - 4 * (batchCount - 1),
    ]);
    await expect(actionsOf(world.ledger).readPlanBatch(runId, batchCount)).rejects.toThrow();

    // The batches hold exactly the recorded plan, once each; the records say the run is not a dry run.
    const recorded = await world.actions(runId);
    expect(recorded.every((a) => a.outcome === 'PLANNED' && !a.dryRun)).toBe(true);
    const inBatches = stored.flat().map((a) => `${a.type} ${a.resourceId}`);
    expect([...inBatches].sort()).toEqual(recorded.map((a) => `${a.resourceType} ${a.resourceId}`).sort());
    // Plan order: type order, then id, so a rerun of the same plan batches the same way.
    const planOrder = [...stored.flat()].sort(
      (a, b) =>
        RESOURCE_TYPES.indexOf(a.type) - RESOURCE_TYPES.indexOf(b.type) ||
        (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0),
    );
    expect(inBatches).toEqual(planOrder.map((a) => `${a.type} ${a.resourceId}`));
    // Planning still touches nothing: Apply does.
    expect(await world.inventory()).toEqual(before);
    expect(output.dryRun).toBe(false);
  });

  it('stores one batch when the plan fits, and none when there is nothing to do', async () => {
    const world = await releaseWorld(db);
    const { output } = await runPlan(world, { dryRun: false });
    expect(output.batches).toEqual([0]);

    const empty = await releaseWorld(db, []);
    const { runId, output: nothing } = await runPlan(empty, { dryRun: false });
    expect(nothing.batches).toEqual([]);
    expect(nothing.planned).toEqual({ mark: 0, release: 0, cancel: 0 });
    expect(await empty.actions(runId)).toEqual([]);
  });
});

describe('the blast-radius caps', () => {
  it('fail the plan, naming type, cap and excess, before anything is touched; the plan stays as planned', async () => {
    const world = await releaseWorld(db);
    const before = await world.inventory();

    const { runId, error } = await failedPlan(world, {
      dryRun: false,
      policy: { caps: { maxReleasesPerType: 0 } },
    });

    expect(error).toBeInstanceOf(BlastRadiusExceeded);
    const { message, violations } = error as BlastRadiusExceeded;
    const seededReleases = expectedCounts(SEED)['ebs-volume'].release;
    expect(message).toContain(
      `ebs-volume: ${seededReleases} releases planned, cap maxReleasesPerType is 0 (${seededReleases} over)`,
    );
    expect(message).toContain('ec2-instance: 1 release planned, cap maxReleasesPerType is 0 (1 over)');
    expect(violations.map((v) => v.type).sort()).toEqual([
      'ebs-snapshot',
      'ebs-volume',
      'ec2-instance',
      'elastic-ip',
      'log-group',
    ]);
    // The plan was recorded as it went (the caps need the whole account's counts); nothing was carried out.
    const recorded = await world.actions(runId);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.every((a) => a.outcome === 'PLANNED')).toBe(true);
    expect((await actionsOf(world.ledger).listByRun(runId)).items).toEqual([]);
    expect(await world.inventory()).toEqual(before);
  });

  it('include the percentage of discovered resources', async () => {
    const world = await releaseWorld(db);
    const volumes = expectedCounts(SEED)['ebs-volume'];
    const discovered = discoveredOf(volumes);
    // 10% of the discovered volumes allows floor(discovered / 10) releases.
    const allowed = Math.floor(discovered / 10);

    const { runId, error } = await failedPlan(world, {
      dryRun: true,
      policy: { caps: { maxPercentPerType: 10 } },
    });

    expect(error).toBeInstanceOf(BlastRadiusExceeded);
    expect((error as Error).message).toContain(
      `ebs-volume: ${volumes.release} releases planned, cap maxPercentPerType 10% of ${discovered} discovered allows ${allowed} (${volumes.release - allowed} over)`,
    );
    // A dry run is capped too: its plan is the plan a real run would carry out.
    expect((await world.actions(runId)).every((a) => a.outcome === 'PLANNED' && a.dryRun)).toBe(true);
  });
});

describe('what this deployment allows', () => {
  it('refuses a policy that terminates instances, naming the field and the switch, before anything is recorded', async () => {
    const world = await releaseWorld(db);
    const before = await world.inventory();
    const { runId, error } = await failedPlan(world, {
      dryRun: false,
      policy: { types: { 'ec2-instance': { action: 'terminate' } } },
    });
    expect(error).toBeInstanceOf(ActionNotAllowed);
    expect((error as Error).message).toBe(
      'policy.types.ec2-instance.action "terminate" is not allowed by this deployment: set RELEASE_ALLOWS_TERMINATE = true in workflows/release-idle-resources.ts and deploy again (IAM grants it only then)',
    );
    expect(await world.actions(runId)).toEqual([]);
    expect(await world.inventory()).toEqual(before);
  });
});

describe('planning in slices', () => {
  /** Plan the run to the end the way the state machine does: invoke again with the last output until done. */
  async function planInSlices(
    world: ReleaseWorld,
    runId: string,
    env: Record<string, string>,
    remainingMs = 600_000,
  ) {
    const input = releaseInput({ dryRun: true });
    const outputs: PlanOutput[] = [];
    let progress: PlanOutput | undefined;
    do {
      const base = world.ctx(runId, 'Plan', outputs.length);
      const ctx = { ...base, env: { ...base.env, ...env }, remainingMs: () => remainingMs };
      progress = await plan({ input, results: progress ? { Plan: progress } : {} }, ctx, world.clients);
      outputs.push(progress);
    } while (!progress.done && outputs.length < 200);
    return outputs;
  }
  const planOf = async (world: ReleaseWorld, runId: string) =>
    new Map((await world.actions(runId)).map((a) => [`${a.resourceType} ${a.resourceId}`, a.action]));

  it.each([
    ['a budget of 3 resources per invocation', { [PLAN_BUDGET_ENV]: '3' }, 600_000],
    ['an invocation close to its timeout', {}, 1_000],
  ])(
    'resumes where the last invocation stopped, and plans what one invocation plans: %s',
    async (_what, env, remainingMs) => {
      const world = await releaseWorld(db);
      const whole = await runPlan(world, { dryRun: true });
      expect(whole.output).toMatchObject({ done: true, invocations: 1 });

      const runId = newRunId();
      const slices = await planInSlices(world, runId, env, remainingMs);
      const last = slices.at(-1);
      // The simulated account pages 5 resources at a time: many pages, one (or a few) per invocation.
      expect(slices.length).toBeGreaterThan(5);
      expect(slices.slice(0, -1).every((s) => !s.done && s.next !== undefined)).toBe(true);
      expect(last).toMatchObject({ done: true, invocations: slices.length });
      expect(last?.counts).toEqual(whole.output.counts);
      expect(last?.planned).toEqual(whole.output.planned);
      expect(last?.estimatedMonthlySavingUsd).toBe(whole.output.estimatedMonthlySavingUsd);
      expect(last?.discovered).toBe(whole.output.discovered);
      expect(await planOf(world, runId)).toEqual(EXPECTED_PLAN);
      // What travels between invocations stays small, whatever the account: counts and a cursor.
      for (const slice of slices) expect(Buffer.byteLength(JSON.stringify(slice))).toBeLessThan(4096);
    },
  );

  it('refuses a budget that is not a positive whole number', async () => {
    const world = await releaseWorld(db);
    await expect(planInSlices(world, newRunId(), { [PLAN_BUDGET_ENV]: 'lots' })).rejects.toThrow(
      'PLAN_RESOURCES_PER_INVOCATION must be a positive whole number (got "lots")',
    );
  });
});
