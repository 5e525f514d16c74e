/**
 * ApplyBatch with real dependencies: Plan stores a plan for the seeded simulated account, and each batch is
 * applied with the simulated account's SDK clients. The clients are wrapped only to watch (or, for one call,
 * to fail) what the adapters send, so every state change the tests see is the account's own.
 */
import '../../helpers/quiet';
import { ReleaseAddressCommand } from '@aws-sdk/client-ec2';
import { TransientError } from '../../../shared/errors';
import type { ActionRecord } from '../../../shared/ledger/items';
import { applyBatch, type ApplyBatchOutput } from '../../../tasks/release/apply-batch';
import { TAGS, type Clients, type PlannedAction } from '../../../tasks/release/model';
import { fromPlanEntry, plan } from '../../../tasks/release/plan';
import { SOURCE_VOLUME_TAG } from '../../../tasks/release/resources/ebs-volume';
import { SimulatedServiceError, type SimulatedResource } from '../../../local/simulated-account';
import { inventorySeed, type SeedCase } from '../../../local/simulated-account';
import { useEmbeddedLedger } from '../../helpers/ledger';
import { NOW, newRunId, releaseInput, releaseWorld, type ReleaseWorld } from './release-fixture';
import { actionsOf } from '../../../shared/ledger/actions-repository';

const db = useEmbeddedLedger();
const SEED = inventorySeed(NOW);

/** The seed's resource for a scenario (each scenario text is unique within its type). */
function seeded(type: SimulatedResource['type'], scenario: RegExp): SimulatedResource {
  const found = SEED.filter((c: SeedCase) => c.resource.type === type && scenario.test(c.scenario));
  if (found.length !== 1) throw new Error(`${found.length} seeded ${type} match ${scenario}`);
  return (found[0] as SeedCase).resource;
}
const DUE_VOLUME = seeded('ebs-volume', /marked and due \(snapshot, then delete\)/);
const VANISHING_VOLUME = seeded('ebs-volume', /vanishOnApply/);
const DUE_SNAPSHOT = seeded('ebs-snapshot', /marked and due/);
const DUE_ADDRESS = seeded('elastic-ip', /marked and due/);
const NEW_ADDRESS = seeded('elastic-ip', /not marked yet/);

/** The calls that change something, and the resource each one names. */
const MUTATIONS: Record<string, (input: Record<string, unknown>) => unknown> = {
  CreateTags: (i) => (i.Resources as string[])[0],
  DeleteTags: (i) => (i.Resources as string[])[0],
  StopInstances: (i) => (i.InstanceIds as string[])[0],
  TerminateInstances: (i) => (i.InstanceIds as string[])[0],
  CreateSnapshot: (i) => i.VolumeId,
  DeleteVolume: (i) => i.VolumeId,
  DeleteSnapshot: (i) => i.SnapshotId,
  ReleaseAddress: (i) => i.AllocationId,
  TagResource: (i) => String(i.resourceArn).replace(/^.*:log-group:/, ''),
  UntagResource: (i) => String(i.resourceArn).replace(/^.*:log-group:/, ''),
  PutRetentionPolicy: (i) => i.logGroupName,
};

interface Call {
  command: string;
  resourceId: string;
}

/**
 * The account's clients, watched: every mutating call is listed in `calls`, and `fail` may answer a call with
 * an error instead of passing it on (an IAM denial, throttling).
 */
function watched(clients: Clients, fail?: (call: Call) => Error | undefined) {
  const calls: Call[] = [];
  const watch = <C extends object>(client: C): C =>
    new Proxy(client, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== 'send') return typeof value === 'function' ? value.bind(target) : value;
        return async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          const name = command.constructor.name.replace(/Command$/, '');
          const resourceOf = MUTATIONS[name];
          if (resourceOf) {
            const call = { command: name, resourceId: String(resourceOf(command.input)) };
            const error = fail?.(call);
            if (error) throw error;
            calls.push(call);
          }
          return (target as { send: (c: unknown) => Promise<unknown> }).send(command);
        };
      },
    });
  return {
    calls,
    clients: {
      ec2: watch(clients.ec2),
      logs: watch(clients.logs),
      sts: watch(clients.sts),
      tagging: watch(clients.tagging),
    } as Clients,
  };
}

/** Plan a run that applies, with the default policy and these overrides. */
async function planned(world: ReleaseWorld, policy: Record<string, unknown> = {}) {
  const runId = newRunId();
  const input = releaseInput({ dryRun: false, policy });
  const output = await plan({ input, results: {} }, world.ctx(runId, 'Plan'), world.clients);
  const batches: PlannedAction[][] = [];
  for (const batch of output.batches) {
    batches.push((await actionsOf(world.ledger).readPlanBatch(runId, batch)).actions.map(fromPlanEntry));
  }
  return { runId, policy: input.policy, batches, actions: batches.flat() };
}

type Planned = Awaited<ReturnType<typeof planned>>;

function apply(world: ReleaseWorld, run: Planned, batch: number, clients = world.clients) {
  return applyBatch({ batch, policy: run.policy }, world.ctx(run.runId, 'ApplyBatch', batch), clients);
}

async function applyAll(world: ReleaseWorld, run: Planned, clients = world.clients) {
  const outputs: ApplyBatchOutput[] = [];
  for (const [batch] of run.batches.entries()) outputs.push(await apply(world, run, batch, clients));
  return outputs;
}

/** `<type> <id>` of a planned action, a recorded action or a seeded resource. */
const key = (a: PlannedAction | ActionRecord | SimulatedResource) =>
  'resourceType' in a
    ? `${a.resourceType} ${a.resourceId}`
    : 'resourceId' in a
      ? `${a.type} ${a.resourceId}`
      : `${a.type} ${a.id}`;

async function outcomes(world: ReleaseWorld, runId: string): Promise<Map<string, ActionRecord>> {
  return new Map((await world.actions(runId)).map((a) => [key(a), a]));
}

const tagsOf = (resource: SimulatedResource | undefined) => resource?.tags ?? {};

describe('applying a stored plan', () => {
  it('carries out each action once and records MARKED, CANCELLED, DONE or ALREADY_GONE', async () => {
    const world = await releaseWorld(db);
    const before = await world.inventory();
    const run = await planned(world, { batchSize: 5 });
    const watch = watched(world.clients);

    const outputs = await applyAll(world, run, watch.clients);

    expect(run.batches.length).toBeGreaterThan(2);
    expect(outputs).toEqual(
      run.batches.map((actions, batch) => ({
        batch,
        applied: actions.length,
        skippedAlreadyApplied: 0,
        failed: 0,
      })),
    );
    const recorded = await outcomes(world, run.runId);
    expect(recorded.size).toBe(run.actions.length);
    for (const action of run.actions) {
      const expected =
        action.kind === 'mark'
          ? 'MARKED'
          : action.kind === 'cancel'
            ? 'CANCELLED'
            : action.resourceId === VANISHING_VOLUME.id
              ? 'ALREADY_GONE'
              : 'DONE';
      expect(recorded.get(key(action))).toMatchObject({
        outcome: expected,
        dryRun: false,
        action: action.kind,
        operation: action.operation,
        at: NOW.toISOString(),
      });
    }
    // Each action changed its resource once; the volumes' releases took one safety snapshot each first.
    const perResource = new Map<string, string[]>();
    for (const call of watch.calls) {
      perResource.set(call.resourceId, [...(perResource.get(call.resourceId) ?? []), call.command]);
    }
    expect([...perResource.keys()].sort()).toEqual(run.actions.map((a) => a.resourceId).sort());
    expect(perResource.get(DUE_VOLUME.id)).toEqual(['CreateSnapshot', 'DeleteVolume']);
    expect(perResource.get(VANISHING_VOLUME.id)).toEqual(['CreateSnapshot']);
    for (const [id, commands] of perResource) {
      if (id === DUE_VOLUME.id || id === VANISHING_VOLUME.id) continue;
      expect({ id, calls: commands.length }).toEqual({ id, calls: 1 });
    }

    // What the account looks like now.
    const after = await world.inventory();
    const now = (id: string) => after.find((r) => r.id === id);
    for (const action of run.actions) {
      const resource = now(action.resourceId);
      if (action.kind === 'mark') expect(tagsOf(resource)[TAGS.RELEASE_AFTER]).toBe(action.releaseAfter);
      if (action.kind === 'cancel') expect(tagsOf(resource)).not.toHaveProperty([TAGS.RELEASE_AFTER]);
      if (action.kind !== 'release') continue;
      if (action.type === 'ec2-instance') expect(resource).toMatchObject({ state: 'stopped' });
      else if (action.type === 'log-group') expect(resource).toMatchObject({ retentionDays: 30 });
      else expect(resource).toBeUndefined();
    }
    const safety = after.filter((r) => r.type === 'ebs-snapshot' && r.tags[SOURCE_VOLUME_TAG] !== undefined);
    expect(safety.map((s) => s.tags[SOURCE_VOLUME_TAG])).toEqual([DUE_VOLUME.id]);
    // Resources without an action are exactly as they were.
    const acted = new Set(run.actions.map((a) => a.resourceId));
    expect(after.filter((r) => !acted.has(r.id) && !safety.includes(r))).toEqual(
      before.filter((r) => !acted.has(r.id)),
    );
  });

  it('acts on nothing when the same batch runs again: every action is skipped as already applied', async () => {
    const world = await releaseWorld(db);
    const run = await planned(world, { batchSize: 7 });
    await applyAll(world, run);
    const inventory = await world.inventory();
    const records = await world.actions(run.runId);
    const watch = watched(world.clients);

    const again = await applyAll(world, run, watch.clients);

    expect(again).toEqual(
      run.batches.map((actions, batch) => ({
        batch,
        applied: 0,
        skippedAlreadyApplied: actions.length,
        failed: 0,
      })),
    );
    expect(watch.calls).toEqual([]);
    expect(await world.inventory()).toEqual(inventory);
    expect(await world.actions(run.runId)).toEqual(records);
  });

  it('records ALREADY_GONE for resources deleted by someone else between the plan and the apply', async () => {
    const world = await releaseWorld(db);
    const run = await planned(world);
    for (const address of [DUE_ADDRESS, NEW_ADDRESS]) {
      await world.clients.ec2.send(new ReleaseAddressCommand({ AllocationId: address.id }));
    }

    const [output] = await applyAll(world, run);

    const recorded = await outcomes(world, run.runId);
    expect(recorded.get(key(DUE_ADDRESS))).toMatchObject({ action: 'release', outcome: 'ALREADY_GONE' });
    expect(recorded.get(key(NEW_ADDRESS))).toMatchObject({ action: 'mark', outcome: 'ALREADY_GONE' });
    expect(recorded.get(key(VANISHING_VOLUME))).toMatchObject({ action: 'release', outcome: 'ALREADY_GONE' });
    // Gone is not a failure.
    expect(output).toMatchObject({ failed: 0, applied: run.actions.length });
    expect([...recorded.values()].filter((a) => a.error)).toEqual([]);
  });
});

describe('a failure on one resource', () => {
  it('is recorded as FAILED on that action only, and the rest of the batch is applied', async () => {
    const world = await releaseWorld(db);
    const run = await planned(world);
    // Attached again since the plan (in use), and an IAM denial as for a resource whose tags changed.
    await world.put({ ...DUE_VOLUME, state: 'in-use', attachedTo: 'i-0attachedagain' } as SimulatedResource);
    const denied = watched(world.clients, (call) =>
      call.command === 'DeleteSnapshot' && call.resourceId === DUE_SNAPSHOT.id
        ? new SimulatedServiceError(
            'UnauthorizedOperation',
            'You are not authorized to perform this operation.',
          )
        : undefined,
    );

    const [output] = await applyAll(world, run, denied.clients);

    expect(output).toEqual({
      batch: 0,
      applied: run.actions.length - 2,
      skippedAlreadyApplied: 0,
      failed: 2,
    });
    const recorded = await outcomes(world, run.runId);
    expect(recorded.get(key(DUE_VOLUME))).toMatchObject({
      outcome: 'FAILED',
      error: { name: 'ResourceStateChanged', cause: expect.stringContaining(DUE_VOLUME.id) },
    });
    expect(recorded.get(key(DUE_SNAPSHOT))).toMatchObject({
      outcome: 'FAILED',
      error: { name: 'UnauthorizedOperation', cause: 'You are not authorized to perform this operation.' },
    });
    const failed = [...recorded.values()].filter((a) => a.outcome === 'FAILED').map(key);
    expect(failed.sort()).toEqual([key(DUE_SNAPSHOT), key(DUE_VOLUME)].sort());
    // Neither was touched: the volume was not even snapshotted.
    expect(await world.resource(DUE_VOLUME.id)).toMatchObject({ state: 'in-use' });
    expect(await world.resource(DUE_SNAPSHOT.id)).toBeDefined();
    expect(denied.calls.filter((c) => c.resourceId === DUE_VOLUME.id)).toEqual([]);
  });

  it('is tried again when the batch runs again, unlike the actions that succeeded', async () => {
    const world = await releaseWorld(db);
    const run = await planned(world);
    await world.put({ ...DUE_VOLUME, state: 'in-use', attachedTo: 'i-0attachedagain' } as SimulatedResource);
    await applyAll(world, run);
    await world.put(DUE_VOLUME); // detached again
    const watch = watched(world.clients);

    const [again] = await applyAll(world, run, watch.clients);

    expect(again).toEqual({ batch: 0, applied: 1, skippedAlreadyApplied: run.actions.length - 1, failed: 0 });
    expect(watch.calls).toEqual([
      { command: 'CreateSnapshot', resourceId: DUE_VOLUME.id },
      { command: 'DeleteVolume', resourceId: DUE_VOLUME.id },
    ]);
    expect((await outcomes(world, run.runId)).get(key(DUE_VOLUME))).toMatchObject({ outcome: 'DONE' });
    expect((await outcomes(world, run.runId)).get(key(DUE_VOLUME))?.error).toBeUndefined();
  });
});

describe('throttling that outlasts the SDK retries', () => {
  it('records what was done, fails the batch with TransientError, and the retry does only the rest', async () => {
    const world = await releaseWorld(db);
    const run = await planned(world);
    const [actions = []] = run.batches;
    const throttledAt = actions.findIndex((a) => a.resourceId === DUE_VOLUME.id);
    // ApplyBatch works through its batch four actions at a time; the chunk with the throttled call finishes.
    const chunkEnd = Math.min(actions.length, (Math.floor(throttledAt / 4) + 1) * 4);
    expect(chunkEnd).toBeLessThan(actions.length);
    let throttled = 0;
    const throttling = watched(world.clients, (call) => {
      if (call.command !== 'DeleteVolume' || call.resourceId !== DUE_VOLUME.id) return undefined;
      throttled += 1;
      return new SimulatedServiceError('RequestLimitExceeded', 'Request limit exceeded.');
    });

    const error = await apply(world, run, 0, throttling.clients).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ message: expect.stringContaining('DeleteVolume') });
    expect(throttled).toBe(1);
    const recorded = await outcomes(world, run.runId);
    actions.forEach((action, index) => {
      const done = index < chunkEnd && index !== throttledAt;
      expect({ index, outcome: recorded.get(key(action))?.outcome }).toEqual({
        index,
        outcome: done ? expect.not.stringMatching(/^PLANNED$/) : 'PLANNED',
      });
    });
    // The safety snapshot exists, the volume too: the delete did not happen.
    const safetySnapshots = async () =>
      (await world.inventory()).filter(
        (r) => r.type === 'ebs-snapshot' && r.tags[SOURCE_VOLUME_TAG] === DUE_VOLUME.id,
      );
    expect(await safetySnapshots()).toHaveLength(1);
    expect(await world.resource(DUE_VOLUME.id)).toBeDefined();

    const watch = watched(world.clients);
    const retried = await apply(world, run, 0, watch.clients);

    expect(retried).toEqual({
      batch: 0,
      applied: actions.length - (chunkEnd - 1),
      skippedAlreadyApplied: chunkEnd - 1,
      failed: 0,
    });
    const doneBefore = new Set(
      actions.filter((_, i) => i < chunkEnd && i !== throttledAt).map((a) => a.resourceId),
    );
    expect(watch.calls.filter((c) => doneBefore.has(c.resourceId))).toEqual([]);
    // The retry found the first attempt's safety snapshot instead of taking a second one.
    expect(watch.calls.filter((c) => c.resourceId === DUE_VOLUME.id)).toEqual([
      { command: 'DeleteVolume', resourceId: DUE_VOLUME.id },
    ]);
    expect(await safetySnapshots()).toHaveLength(1);
    expect(await world.resource(DUE_VOLUME.id)).toBeUndefined();
    expect([...(await outcomes(world, run.runId)).values()].filter((a) => a.outcome === 'PLANNED')).toEqual(
      [],
    );
  });
});
