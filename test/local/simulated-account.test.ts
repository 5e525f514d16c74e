import '../helpers/quiet';
import { CloudWatchLogsClient, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeRegionsCommand,
  DescribeVolumesCommand,
  EC2Client,
  ReleaseAddressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { ReleasePolicy } from '../../tasks/release/input';
import {
  RESOURCE_TYPES,
  TAGS,
  type Clients,
  type PlannedAction,
  type Resource,
} from '../../tasks/release/model';
import { checkCaps, evaluate } from '../../tasks/release/policy';
import { adapters } from '../../tasks/release/resources';
import { SOURCE_VOLUME_TAG } from '../../tasks/release/resources/ebs-volume';
import {
  ensureSimulatedAccountTable,
  simulatedClients,
  type SimulatedResource,
} from '../../local/simulated-account';
import { expectedCounts, inventorySeed, scaleInventory } from '../../local/simulated-account';
import { useEmbeddedLedger } from '../helpers/ledger';
import { newSimulatedAccount, NOW } from '../tasks/release/release-fixture';

const db = useEmbeddedLedger();
const SELECTOR = { tagKeys: [TAGS.OPT_IN, TAGS.RELEASE_AFTER] };

/** A new table seeded with `resources` (@default the built-in seed), and its clients, whose clock is NOW. */
function account(resources?: readonly SimulatedResource[]) {
  return newSimulatedAccount(db, resources);
}

async function discoverAll(clients: Clients): Promise<Resource[]> {
  const found: Resource[] = [];
  for (const type of RESOURCE_TYPES) {
    for await (const page of adapters[type].discover(clients, SELECTOR)) found.push(...page.resources);
  }
  return found;
}

/** Carry out a plan as ApplyBatch does: mark, cancel (unmark) or release each action. */
async function apply(clients: Clients, actions: readonly PlannedAction[], policy: ReleasePolicy) {
  return Promise.all(
    actions.map(async (action) => {
      const adapter = adapters[action.type];
      if (action.kind === 'mark') return adapter.mark(clients, action, TAGS.RELEASE_AFTER);
      if (action.kind === 'cancel') return adapter.unmark(clients, action, TAGS.RELEASE_AFTER);
      return adapter.release(clients, action, policy);
    }),
  );
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('the simulated account', () => {
  it('is real SDK clients: the adapters page through the seeded inventory and see exactly its tagged resources', async () => {
    const { clients } = await account();
    const send = jest.spyOn(clients.ec2, 'send');
    expect(clients.ec2).toBeInstanceOf(EC2Client);
    expect(clients.logs).toBeInstanceOf(CloudWatchLogsClient);

    const found = await discoverAll(clients);

    const visible = inventorySeed(NOW).filter((c) => c.expected !== null && c.expected !== 'invisible');
    expect(found.map((r) => `${r.type} ${r.id}`).sort()).toEqual(
      visible.map((c) => `${c.resource.type} ${c.resource.id}`).sort(),
    );
    const volumePages = send.mock.calls.filter(([command]) => command instanceof DescribeVolumesCommand);
    expect(volumePages.length).toBeGreaterThan(1);
    const snapshot = found.find((r) => r.type === 'ebs-snapshot' && r.facts.usedByImage !== null);
    expect(snapshot?.facts.usedByImage).toMatch(/^ami-0[0-9a-f]{16}$/);
    expect(found.find((r) => r.type === 'elastic-ip')?.arn).toMatch(
      /^arn:aws:ec2:us-east-1:000000000000:elastic-ip\/eipalloc-0[0-9a-f]{16}$/,
    );
  });

  it('plans what the seed says under the default policy, within the default caps', async () => {
    const { clients } = await account();
    const policy = ReleasePolicy.parse({});

    const result = evaluate(await discoverAll(clients), policy, NOW);

    const planned = new Map(result.actions.map((a) => [a.resourceId, a.kind]));
    for (const { resource, expected, scenario } of inventorySeed(NOW)) {
      const kind =
        expected === 'mark' || expected === 'release' || expected === 'cancel' ? expected : undefined;
      expect({ id: resource.id, scenario, kind: planned.get(resource.id) }).toEqual({
        id: resource.id,
        scenario,
        kind,
      });
    }
    const expected = expectedCounts(inventorySeed(NOW));
    for (const type of RESOURCE_TYPES) {
      const { mark, release, cancel, inGrace } = result.counts[type];
      expect({ type, mark, release, cancel, inGrace }).toEqual({
        type,
        mark: expected[type].mark,
        release: expected[type].release,
        cancel: expected[type].cancel,
        inGrace: expected[type]['in-grace'],
      });
    }
    expect(() => checkCaps(result, policy)).not.toThrow();
  });

  it('applies the plan with realistic state changes; the vanishing volume is ALREADY_GONE', async () => {
    const { clients, stored, find } = await account();
    const policy = ReleasePolicy.parse({});
    const seed = inventorySeed(NOW);
    const idOf = (scenario: RegExp, type: string) => {
      const found = seed.find((c) => c.resource.type === type && scenario.test(c.scenario));
      if (!found) throw new Error(`no seed case ${scenario}`);
      return found.resource.id;
    };
    const { actions } = evaluate(await discoverAll(clients), policy, NOW);

    const outcomes = await apply(clients, actions, policy);

    const outcomeOf = new Map(actions.map((a, i) => [a.resourceId, outcomes[i]]));
    const vanished = idOf(/deleted by someone else/, 'ebs-volume');
    expect(outcomeOf.get(vanished)).toBe('ALREADY_GONE');
    expect([...outcomeOf.entries()].filter(([, o]) => o !== 'DONE').map(([id]) => id)).toEqual([vanished]);
    expect(await find(vanished)).toBeUndefined();

    const instance = await find(idOf(/marked and past/, 'ec2-instance'));
    expect(instance).toMatchObject({ state: 'stopped' });
    const dueVolume = idOf(/marked and due/, 'ebs-volume');
    expect(await find(dueVolume)).toBeUndefined();
    const safety = (await stored()).filter((r) => r.tags[SOURCE_VOLUME_TAG] !== undefined);
    expect(safety).toEqual([
      expect.objectContaining({
        type: 'ebs-snapshot',
        volumeId: dueVolume,
        tags: { Name: 'old-build-cache', [TAGS.OPT_IN]: 'true', team: 'ci', [SOURCE_VOLUME_TAG]: dueVolume },
      }),
    ]);
    expect(await find(idOf(/marked and due/, 'ebs-snapshot'))).toBeUndefined();
    expect(await find(idOf(/marked and due/, 'elastic-ip'))).toBeUndefined();
    expect(await find(idOf(/marked and due/, 'log-group'))).toMatchObject({ retentionDays: 30 });
    for (const action of actions.filter((a) => a.kind === 'mark')) {
      expect((await find(action.resourceId))?.tags[TAGS.RELEASE_AFTER]).toBe(action.releaseAfter);
    }
    for (const action of actions.filter((a) => a.kind === 'cancel')) {
      expect((await find(action.resourceId))?.tags).not.toHaveProperty([TAGS.RELEASE_AFTER]);
    }

    // The next run at the same time releases nothing: what was marked is in grace, what was released is done.
    const next = evaluate(await discoverAll(clients), policy, NOW);
    expect(next.actions.filter((a) => a.kind === 'release')).toEqual([]);
  });

  it('terminates as EC2 does: addresses and volumes let go, a second terminate or a stop finds it gone', async () => {
    const { clients, find } = await account();
    const seed = inventorySeed(NOW);
    const instance = seed.find((c) => c.scenario === 'opted in, expires in 30 days')?.resource;
    const id = instance?.id ?? '';
    const action: PlannedAction = {
      type: 'ec2-instance',
      resourceId: id,
      arn: `arn:aws:ec2:us-east-1:000000000000:instance/${id}`,
      kind: 'release',
      operation: 'terminate',
      reason: 'test',
      estimatedMonthlySavingUsd: null,
    };
    const terminate = ReleasePolicy.parse({ types: { 'ec2-instance': { action: 'terminate' } } });
    const attachedTo = (r: SimulatedResource) =>
      (r.type === 'ebs-volume' && r.attachedTo === id) ||
      (r.type === 'elastic-ip' && r.associatedWith === id);
    const holders = seed.map((c) => c.resource).filter(attachedTo);
    expect(holders.map((r) => r.type).sort()).toEqual([
      'ebs-volume',
      'ebs-volume',
      'elastic-ip',
      'elastic-ip',
    ]);

    await expect(adapters['ec2-instance'].release(clients, action, terminate)).resolves.toBe('DONE');

    expect(await find(id)).toMatchObject({ state: 'terminated' });
    for (const holder of holders) {
      const now = await find(holder.id);
      expect(now && attachedTo(now)).toBe(false);
    }
    expect(await find(holders.find((r) => r.type === 'ebs-volume')?.id ?? '')).toMatchObject({
      state: 'available',
    });
    await expect(adapters['ec2-instance'].release(clients, action, terminate)).resolves.toBe('ALREADY_GONE');
    await expect(adapters['ec2-instance'].release(clients, action, ReleasePolicy.parse({}))).resolves.toBe(
      'ALREADY_GONE',
    );
  });

  it("answers AWS's error names for missing and busy resources", async () => {
    const { clients } = await account();
    const seed = inventorySeed(NOW);
    const ami = seed.find((c) => c.resource.type === 'ec2-image')?.resource;
    const snapshotOfAmi = ami?.type === 'ec2-image' ? ami.snapshotIds[0] : undefined;
    const attached = seed.find((c) => c.resource.type === 'ebs-volume' && c.resource.state === 'in-use');
    const associated = seed.find((c) => c.resource.type === 'elastic-ip' && c.resource.associatedWith);
    const { ec2, logs } = clients;

    const names = await Promise.all([
      errorOf(ec2.send(new StopInstancesCommand({ InstanceIds: ['i-0000000000000000'] }))),
      errorOf(ec2.send(new DeleteVolumeCommand({ VolumeId: 'vol-0000000000000000' }))),
      errorOf(ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0000000000000000'] }))),
      errorOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0000000000000000' }))),
      errorOf(ec2.send(new ReleaseAddressCommand({ AllocationId: 'eipalloc-0000000000000000' }))),
      errorOf(logs.send(new PutRetentionPolicyCommand({ logGroupName: '/nope', retentionInDays: 30 }))),
      errorOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotOfAmi }))),
      errorOf(ec2.send(new DeleteVolumeCommand({ VolumeId: attached?.resource.id }))),
      errorOf(ec2.send(new ReleaseAddressCommand({ AllocationId: associated?.resource.id }))),
      errorOf(ec2.send(new DescribeVolumesCommand({ NextToken: 'not-a-token' }))),
    ]).then((errors) => errors.map((e) => e.name));

    expect(names).toEqual([
      'InvalidInstanceID.NotFound',
      'InvalidVolume.NotFound',
      'InvalidVolume.NotFound',
      'InvalidSnapshot.NotFound',
      'InvalidAllocationID.NotFound',
      'ResourceNotFoundException',
      'InvalidSnapshot.InUse',
      'VolumeInUse',
      'InvalidIPAddress.InUse',
      'InvalidPaginationToken',
    ]);
  });

  it('lets a vanishOnApply resource be seen, then deletes it at the first mutating call', async () => {
    const volume: SimulatedResource = {
      type: 'ebs-volume',
      id: 'vol-0feedfacecafe0001',
      tags: { [TAGS.OPT_IN]: 'true' },
      state: 'available',
      sizeGiB: 10,
      volumeType: 'gp3',
      iops: 3000,
      createdAt: '2026-01-01T00:00:00.000Z',
      vanishOnApply: true,
    };
    const { clients, find } = await account([volume]);

    expect((await discoverAll(clients)).map((r) => r.id)).toEqual([volume.id]);
    const described = await clients.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volume.id] }));
    expect(described.Volumes?.[0]?.VolumeId).toBe(volume.id);

    const error = await errorOf(
      clients.ec2.send(new CreateTagsCommand({ Resources: [volume.id], Tags: [{ Key: 'k', Value: 'v' }] })),
    );
    expect(error.name).toBe('InvalidVolume.NotFound');
    expect(await find(volume.id)).toBeUndefined();
  });

  it('keeps every write when apply batches tag resources concurrently', async () => {
    const resources = scaleInventory(60, NOW);
    const { clients, stored } = await account(resources);
    const ec2Ids = resources.filter((r) => r.type !== 'log-group').map((r) => r.id);
    const one = ec2Ids[0] ?? '';

    await Promise.all([
      ...ec2Ids.map((id) =>
        clients.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'batch', Value: id }] })),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        clients.ec2.send(
          new CreateTagsCommand({ Resources: [one], Tags: [{ Key: `k${i}`, Value: `${i}` }] }),
        ),
      ),
    ]);

    const after = await stored();
    for (const id of ec2Ids) expect(after.find((r) => r.id === id)?.tags.batch).toBe(id);
    const tagsOfOne = after.find((r) => r.id === one)?.tags ?? {};
    expect(Array.from({ length: 10 }, (_, i) => tagsOfOne[`k${i}`])).toEqual(
      Array.from({ length: 10 }, (_, i) => `${i}`),
    );
  });

  it('names a command or filter it does not simulate', async () => {
    const { clients } = await account([]);

    const error = await errorOf(clients.ec2.send(new DescribeRegionsCommand({})));

    expect(error).toMatchObject({ name: 'UnsupportedBySimulatedAccount' });
    expect(error.message).toContain('EC2 DescribeRegions');
    const filter = await errorOf(
      clients.ec2.send(
        new DescribeVolumesCommand({ Filters: [{ Name: 'availability-zone', Values: ['x'] }] }),
      ),
    );
    expect(filter).toMatchObject({ name: 'UnsupportedBySimulatedAccount' });
    expect(filter.message).toContain('filter availability-zone');
  });

  it('scales: a generated account of mostly opted-in candidates is discovered in full', async () => {
    const resources = scaleInventory(250, NOW);
    const { clients } = await account(resources);
    const big = simulatedClients(
      db.client(),
      (await account(resources)).tableName,
      'us-east-1',
      '000000000000',
      {
        pageSize: 100,
      },
    );

    const [small, large] = await Promise.all([discoverAll(clients), discoverAll(big)]);

    expect(small).toHaveLength(250);
    expect(large.map((r) => r.id)).toEqual(small.map((r) => r.id));
    const { counts } = evaluate(small, ReleasePolicy.parse({}), NOW);
    for (const type of RESOURCE_TYPES)
      expect(counts[type]).toMatchObject({ discovered: 50, mark: 45, protected: 5 });
  });

  it('creates its table idempotently', async () => {
    const tableName = `simulated-${randomUUID().slice(0, 8)}`;
    await ensureSimulatedAccountTable(db.client(), tableName);
    await expect(ensureSimulatedAccountTable(db.client(), tableName)).resolves.toBeUndefined();
  });
});
