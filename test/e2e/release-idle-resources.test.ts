/**
 * The release job end to end on the local runtime: the synthesized state machine, every handler in-process,
 * the ledger and the simulated account in dynalite. Each test starts from a freshly seeded account and checks
 * what the run did to it and what the ledger says, not only how the execution ended.
 */
import '../helpers/quiet';
import type { ExecutionResult } from '../../local/runtime';
import { prepareSimulatedAccount, SIMULATED_ACCOUNT_TABLE_NAME } from '../../local/simulated-account';
import { RunStatus } from '../../shared/constants';
import type { ActionRecord } from '../../shared/ledger/items';
import { TAGS } from '../../tasks/release/model';
import type { PlanOutput } from '../../tasks/release/plan';
import type { ReleaseReport } from '../../tasks/release/report';
import { SOURCE_VOLUME_TAG } from '../../tasks/release/resources/ebs-volume';
import { readSimulatedAccount, type SimulatedResource } from '../../local/simulated-account';
import {
  inventorySeed,
  scaleInventory,
  simulatedInventory,
  type SeedCase,
} from '../../local/simulated-account';
import { releaseIdleResources } from '../../workflows/release-idle-resources';
import { recordEvents, useLocalRuntime } from '../helpers/local-runtime';
import { MAX_PAYLOAD_BYTES, maxPayloadBytes } from '../../local/service-limits';
import { actionsOf as actionsRepositoryOf } from '../../shared/ledger/actions-repository';

const runtime = useLocalRuntime();
const JOB = releaseIdleResources.id;
const DAY_MS = 86_400_000;

/** Drop the simulated account and seed it again (@default the built-in seed, placed around now). */
async function resetAccount(seed: (now: Date) => SimulatedResource[] = simulatedInventory): Promise<Date> {
  const now = new Date();
  await prepareSimulatedAccount(runtime().dynamoClient, { reset: true, seed }, now);
  return now;
}

const account = () => readSimulatedAccount(runtime().dynamoClient, SIMULATED_ACCOUNT_TABLE_NAME);
const byId = (resources: readonly SimulatedResource[]) => new Map(resources.map((r) => [r.id, r]));

async function actionsOf(result: ExecutionResult): Promise<ActionRecord[]> {
  const all: ActionRecord[] = [];
  for await (const action of actionsRepositoryOf(runtime().ledger).allByRun(result.runId)) all.push(action);
  return all;
}

interface ReleaseResults {
  Plan: PlanOutput;
  Report: ReleaseReport;
}
const resultsOf = (result: ExecutionResult) => (result.output as { results: ReleaseResults }).results;

/** The seeded resource of a scenario (scenario texts are unique within a type). */
function seeded(cases: readonly SeedCase[], type: SimulatedResource['type'], scenario: RegExp) {
  const found = cases.filter((c) => c.resource.type === type && scenario.test(c.scenario));
  if (found.length !== 1) throw new Error(`${found.length} seeded ${type} match ${scenario}`);
  return (found[0] as SeedCase).resource;
}

describe('a manual run with {}', () => {
  it('is a dry run: the whole plan is recorded as PLANNED and the account is untouched', async () => {
    const now = await resetAccount();
    const before = await account();
    const events = recordEvents();

    const result = await runtime().run(JOB, {}, { onEvent: events.onEvent });

    expect(result.status).toBe('SUCCEEDED');
    expect(events.entered()).toEqual([
      'StartRun',
      'Decide',
      'PlanStart',
      'Plan',
      'Planned',
      'Apply',
      'Report',
      'FinishRun',
    ]);
    const detail = await runtime().ledger.runs.detail(result.runId);
    const { run } = detail;
    expect(run.status).toBe(RunStatus.SUCCEEDED);
    expect(JSON.parse(run.input?.text ?? '')).toMatchObject({ dryRun: true });

    const expected = inventorySeed(now).filter((c) =>
      ['mark', 'release', 'cancel'].includes(c.expected ?? ''),
    );
    const actions = await actionsOf(result);
    expect(actions.map((a) => `${a.resourceId} ${a.action}`).sort()).toEqual(
      expected.map((c) => `${c.resource.id} ${c.expected}`).sort(),
    );
    expect(actions.every((a) => a.outcome === 'PLANNED' && a.dryRun)).toBe(true);
    expect(await account()).toEqual(before);

    const { Plan, Report } = resultsOf(result);
    expect(Plan).toMatchObject({ dryRun: true, simulatedAccount: true, batches: [] });
    expect(Report).toMatchObject({
      dryRun: true,
      simulatedAccount: true,
      totals: { actions: actions.length, failed: 0, notApplied: 0, released: 0 },
    });
    expect(Report.totals.wouldRelease).toBe(expected.filter((c) => c.expected === 'release').length);
    // The Report step's record holds the report.
    const reportStep = detail.steps.find((s) => s.name === 'Report');
    expect(JSON.parse(reportStep?.output?.text ?? '{}')).toMatchObject({ dryRun: true });
  });
});

describe('a run with dryRun false', () => {
  it('marks, releases and cancels in the account, and records each outcome', async () => {
    const now = await resetAccount();
    const seed = inventorySeed(now);
    const events = recordEvents();

    const result = await runtime().run(JOB, { dryRun: false }, { onEvent: events.onEvent });

    expect(result.status).toBe('SUCCEEDED');
    expect(events.entered()).toEqual([
      'StartRun',
      'Decide',
      'PlanStart',
      'Plan',
      'Planned',
      'Apply',
      'ApplyBatch',
      'Report',
      'FinishRun',
    ]);
    const actions = await actionsOf(result);
    const after = byId(await account());
    const vanished = seeded(seed, 'ebs-volume', /vanishOnApply/);
    for (const action of actions) {
      const resource = after.get(action.resourceId);
      if (action.action === 'mark') {
        expect(action.outcome).toBe('MARKED');
        // A week of grace (the default) from the run's clock.
        const releaseAfter = Date.parse(resource?.tags[TAGS.RELEASE_AFTER] ?? '');
        expect(releaseAfter).toBe(Date.parse(action.releaseAfter ?? ''));
        expect(Math.abs(releaseAfter - (now.getTime() + 7 * DAY_MS))).toBeLessThan(60_000);
      } else if (action.action === 'cancel') {
        expect(action.outcome).toBe('CANCELLED');
        expect(resource?.tags).not.toHaveProperty([TAGS.RELEASE_AFTER]);
      } else if (action.resourceId === vanished.id) {
        expect(action.outcome).toBe('ALREADY_GONE');
        expect(resource).toBeUndefined();
      } else {
        expect(action.outcome).toBe('DONE');
        if (action.resourceType === 'ec2-instance') expect(resource).toMatchObject({ state: 'stopped' });
        else if (action.resourceType === 'log-group') expect(resource).toMatchObject({ retentionDays: 30 });
        else expect(resource).toBeUndefined(); // volume deleted, snapshot deleted, address released
      }
    }
    expect(new Set(actions.map((a) => a.action))).toEqual(new Set(['mark', 'release', 'cancel']));
    // The deleted volume left its safety snapshot behind.
    const dueVolume = seeded(seed, 'ebs-volume', /marked and due \(snapshot, then delete\)/);
    const safety = [...after.values()].filter((r) => r.tags[SOURCE_VOLUME_TAG] === dueVolume.id);
    expect(safety).toEqual([expect.objectContaining({ type: 'ebs-snapshot', volumeId: dueVolume.id })]);

    const { Report } = resultsOf(result);
    const released = actions.filter((a) => a.action === 'release' && a.outcome === 'DONE');
    expect(Report).toMatchObject({
      dryRun: false,
      totals: {
        actions: actions.length,
        failed: 0,
        notApplied: 0,
        released: released.length,
        wouldRelease: 0,
      },
    });
    expect(Report.byType['ebs-volume']?.release).toMatchObject({ ALREADY_GONE: 1 });
  });

  it('releases what an earlier run marked once the grace period has passed (MARKED, then DONE)', async () => {
    await resetAccount();
    // 0.00002 days is 1.728 seconds.
    const input = { dryRun: false, policy: { graceDays: 0.00002 } };
    const first = await runtime().run(JOB, input);
    expect(first.status).toBe('SUCCEEDED');
    const marks = (await actionsOf(first)).filter((a) => a.action === 'mark');
    expect(marks.length).toBeGreaterThanOrEqual(5);
    expect(marks.every((a) => a.outcome === 'MARKED')).toBe(true);
    const due = Math.max(...marks.map((a) => Date.parse(a.releaseAfter ?? '')));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 50));

    const second = await runtime().run(JOB, input);

    expect(second.status).toBe('SUCCEEDED');
    const released = new Map(
      (await actionsOf(second)).filter((a) => a.action === 'release').map((a) => [a.resourceId, a]),
    );
    const after = byId(await account());
    for (const mark of marks) {
      expect(released.get(mark.resourceId)).toMatchObject({
        outcome: 'DONE',
        reason: expect.stringContaining('has passed'),
      });
      // Newest first: this run released it, the one before marked it (earlier tests' runs follow: the
      // seed's ids are the same each time it is seeded).
      const history = await actionsRepositoryOf(runtime().ledger).listByResource(mark.resourceId);
      expect(history.items.slice(0, 2).map((a) => [a.runId, a.action, a.outcome])).toEqual([
        [second.runId, 'release', 'DONE'],
        [first.runId, 'mark', 'MARKED'],
      ]);
      const resource = after.get(mark.resourceId);
      if (mark.resourceType === 'ec2-instance') expect(resource).toMatchObject({ state: 'stopped' });
      else if (mark.resourceType === 'log-group') expect(resource).toMatchObject({ retentionDays: 30 });
      else expect(resource).toBeUndefined();
    }
  });
});

describe('a run that would go over a blast-radius cap', () => {
  it('fails in Plan through FailRun, records BlastRadiusExceeded, and leaves the account alone', async () => {
    await resetAccount();
    const before = await account();
    const events = recordEvents();

    const result = await runtime().run(
      JOB,
      { dryRun: false, policy: { caps: { maxReleasesPerType: 0 } } },
      { onEvent: events.onEvent },
    );

    expect(result).toMatchObject({ status: 'FAILED', error: 'BlastRadiusExceeded' });
    // FailRun fails the execution itself, so that a redrive would restart there and resume Plan.
    expect(events.entered()).toEqual(['StartRun', 'Decide', 'PlanStart', 'Plan', 'PlanCaught', 'FailRun']);
    const { run, steps } = await runtime().ledger.runs.detail(result.runId);
    expect(run).toMatchObject({
      status: RunStatus.FAILED,
      error: {
        name: 'BlastRadiusExceeded',
        cause: expect.stringContaining('cap maxReleasesPerType is 0'),
      },
    });
    expect(steps).toEqual([expect.objectContaining({ name: 'Plan', status: 'FAILED' })]);
    // The plan was recorded as Plan went; none of it was carried out.
    expect((await actionsOf(result)).every((a) => a.outcome === 'PLANNED')).toBe(true);
    expect(await account()).toEqual(before);
  });
});

describe('an invalid policy', () => {
  it('is rejected before any step, and the FAILED run names the fields', async () => {
    const events = recordEvents();

    const result = await runtime().run(
      JOB,
      { policy: { graceDays: -1, graceDayz: 3 } },
      { onEvent: events.onEvent },
    );

    expect(result).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(events.entered()).toEqual(['StartRun', 'Decide', 'Rejected']);
    const { run } = await runtime().ledger.runs.detail(result.runId);
    expect(run.status).toBe(RunStatus.FAILED);
    expect(run.error?.name).toBe('InvalidInput');
    expect(run.error?.cause).toContain('policy.graceDays');
    expect(run.error?.cause).toContain('graceDayz');
    expect(await actionsOf(result)).toEqual([]);
  });
});

describe('at scale', () => {
  const N = 2_000;

  it(`runs over ${N} resources with every payload under 256 KiB and a short event history`, async () => {
    await resetAccount((now) => scaleInventory(N, now));
    const events = recordEvents();

    const result = await runtime().run(
      JOB,
      { dryRun: false, policy: { caps: { maxReleasesPerType: N, maxPercentPerType: 100 } } },
      { onEvent: events.onEvent },
    );

    expect(result.status).toBe('SUCCEEDED');
    // Nine in ten are opted-in candidates (the rest protected); each gets one action.
    const candidates = Math.round(N * 0.9);
    const { Plan, Report } = resultsOf(result);
    expect(Report.totals).toMatchObject({ actions: candidates, failed: 0, notApplied: 0 });
    expect(Plan.batches).toHaveLength(Math.ceil(candidates / 100));
    expect(events.count('StateEntered', 'ApplyBatch')).toBe(Plan.batches.length);
    expect((await actionsOf(result)).filter((a) => a.outcome === 'MARKED')).toHaveLength(candidates);

    const largest = maxPayloadBytes(events.events);
    expect(largest).toBeLessThan(MAX_PAYLOAD_BYTES);
    // The plan stays in the ledger: no payload grows with the account.
    expect(largest).toBeLessThan(16 * 1024);
    expect(events.events.length).toBeLessThan(1_000);
  }, 180_000);
});
