/** The simulated EC2: the commands the EC2 adapters send, answered from the inventory. */
import type { Filter, Tag } from '@aws-sdk/client-ec2';
import { ec2TypeOf, hex, instanceState, matcher, newId, toTags } from './ec2-conventions';
import { fail, NOT_FOUND, UnsupportedBySimulatedAccount } from './errors';
import type { Inventory } from './inventory';
import {
  checkTagKeys,
  decodeToken,
  encodeToken,
  num,
  str,
  strings,
  type Handler,
  type Input,
} from './requests';
import type { Of, SimulatedType } from './resources';
import { SimulatedService } from './service';

/** The EC2 commands the adapters send (instances, volumes, snapshots, images, addresses, tags). */
export class SimulatedEc2 extends SimulatedService {
  /** Describe one EC2 type: by ids (all or NotFound), or paginated, both through the filters. */
  private async describe<T extends SimulatedType>(
    type: T,
    command: string,
    input: Input,
    idsField: string,
  ): Promise<{ items: Of<T>[]; NextToken?: string }> {
    const accept = matcher(input.Filters as Filter[] | undefined, command);
    const ids = strings(input[idsField]);
    if (ids?.length) return { items: (await this.inventory.getAll(type, ids)).filter(accept) };
    const page = await this.inventory.page(type, {
      after: decodeToken(str(input.NextToken), 'InvalidPaginationToken'),
      limit: this.limit(num(input.MaxResults)),
      keep: accept,
    });
    return { items: page.items, NextToken: encodeToken(page.next) };
  }

  private ownedBySelf(owners: string[] | undefined): boolean {
    return !owners?.length || owners.some((owner) => owner === 'self' || owner === this.account);
  }

  /** Tag changes on any EC2 resource id; every id must exist (AWS checks them all first). */
  private async ec2Tags(input: Input, change: (tags: Tag[]) => Parameters<Inventory['update']>[2]) {
    const ids = strings(input.Resources) ?? [];
    const tags = (input.Tags as Tag[] | undefined) ?? [];
    for (const id of ids) await this.inventory.vanishIfArmed(ec2TypeOf(id), id);
    for (const id of ids) await this.inventory.getAll(ec2TypeOf(id), [id]);
    for (const id of ids) {
      const type = ec2TypeOf(id);
      await this.inventory.update(type, id, change(tags), () => NOT_FOUND[type](id));
    }
    return {};
  }

  readonly handlers: Record<string, Handler> = {
    DescribeInstances: async (input) => {
      const { items, NextToken } = await this.describe(
        'ec2-instance',
        'DescribeInstances',
        input,
        'InstanceIds',
      );
      const Reservations = items.map((i) => ({
        ReservationId: `r-${i.id.slice(2)}`,
        OwnerId: this.account,
        Instances: [
          {
            InstanceId: i.id,
            InstanceType: i.instanceType,
            State: instanceState(i.state),
            LaunchTime: new Date(i.launchTime),
            Placement: { AvailabilityZone: `${this.region}a` },
            Tags: toTags(i.tags),
          },
        ],
      }));
      return { Reservations, NextToken };
    },

    StopInstances: async (input) => this.changeInstances(input, 'stopped'),
    TerminateInstances: async (input) => this.changeInstances(input, 'terminated'),

    DescribeVolumes: async (input) => {
      const { items, NextToken } = await this.describe('ebs-volume', 'DescribeVolumes', input, 'VolumeIds');
      const Volumes = items.map((v) => ({
        VolumeId: v.id,
        OwnerId: this.account,
        Size: v.sizeGiB,
        VolumeType: v.volumeType,
        ...(v.iops === null ? {} : { Iops: v.iops }),
        State: v.state,
        CreateTime: new Date(v.createdAt),
        AvailabilityZone: `${this.region}a`,
        Encrypted: false,
        Attachments: v.attachedTo
          ? [{ VolumeId: v.id, InstanceId: v.attachedTo, Device: '/dev/sdf', State: 'attached' }]
          : [],
        Tags: toTags(v.tags),
      }));
      return { Volumes, NextToken };
    },

    DeleteVolume: async (input) => {
      const id = str(input.VolumeId) ?? '';
      await this.inventory.vanishIfArmed('ebs-volume', id);
      await this.inventory.remove(
        'ebs-volume',
        id,
        {
          expression: '#state = :available',
          names: { '#state': 'state' },
          values: { ':available': 'available' },
        },
        (current) =>
          current
            ? fail(
                'VolumeInUse',
                `Volume ${id} is currently attached to ${current.attachedTo ?? 'an instance'}`,
              )
            : NOT_FOUND['ebs-volume'](id),
      );
      return {};
    },

    CreateSnapshot: async (input) => {
      const volumeId = str(input.VolumeId) ?? '';
      await this.inventory.vanishIfArmed('ebs-volume', volumeId);
      const [volume] = await this.inventory.getAll('ebs-volume', [volumeId]);
      const specs = (input.TagSpecifications as { ResourceType?: string; Tags?: Tag[] }[] | undefined) ?? [];
      const tags: Record<string, string> = {};
      for (const spec of specs.filter((s) => s.ResourceType === 'snapshot')) {
        for (const { Key, Value } of spec.Tags ?? []) if (Key !== undefined) tags[Key] = Value ?? '';
      }
      checkTagKeys(Object.keys(tags), 'InvalidParameterValue');
      const now = this.now();
      const snapshot: Of<'ebs-snapshot'> = {
        type: 'ebs-snapshot',
        id: newId('snap'),
        tags,
        state: 'pending',
        sizeGiB: volume?.sizeGiB ?? 0,
        startedAt: now.toISOString(),
        volumeId,
        completesAt: new Date(now.getTime() + 1000).toISOString(),
        ...(str(input.Description) ? { description: str(input.Description) } : {}),
      };
      await this.inventory.create(snapshot);
      return { ...this.snapshotOutput(snapshot), State: 'pending' };
    },

    DescribeSnapshots: async (input) => {
      if (!this.ownedBySelf(strings(input.OwnerIds))) return { Snapshots: [] };
      const { items, NextToken } = await this.describe(
        'ebs-snapshot',
        'DescribeSnapshots',
        input,
        'SnapshotIds',
      );
      return { Snapshots: items.map((s) => this.snapshotOutput(s)), NextToken };
    },

    DeleteSnapshot: async (input) => {
      const id = str(input.SnapshotId) ?? '';
      await this.inventory.vanishIfArmed('ebs-snapshot', id);
      const [image] = await this.inventory.all('ec2-image', (i) => i.snapshotIds.includes(id));
      if (image) throw fail('InvalidSnapshot.InUse', `The snapshot ${id} is currently in use by ${image.id}`);
      await this.inventory.remove('ebs-snapshot', id, {}, () => NOT_FOUND['ebs-snapshot'](id));
      return { Return: true };
    },

    DescribeImages: async (input) => {
      if (!this.ownedBySelf(strings(input.Owners))) return { Images: [] };
      const { items, NextToken } = await this.describe('ec2-image', 'DescribeImages', input, 'ImageIds');
      const Images = items.map((image) => ({
        ImageId: image.id,
        Name: image.name,
        OwnerId: this.account,
        State: 'available',
        ImageType: 'machine',
        Public: false,
        CreationDate: image.createdAt,
        BlockDeviceMappings: image.snapshotIds.map((SnapshotId, i) => ({
          DeviceName: i === 0 ? '/dev/xvda' : `/dev/sd${String.fromCharCode(102 + i)}`,
          Ebs: { SnapshotId, DeleteOnTermination: true },
        })),
        Tags: toTags(image.tags),
      }));
      return { Images, NextToken };
    },

    DescribeAddresses: async (input) => {
      // DescribeAddresses does not paginate: every matching address in one answer.
      const keep = matcher(input.Filters as Filter[] | undefined, 'DescribeAddresses');
      const ids = strings(input.AllocationIds);
      const items = ids?.length
        ? (await this.inventory.getAll('elastic-ip', ids)).filter(keep)
        : await this.inventory.all('elastic-ip', keep);
      const Addresses = items.map((a) => ({
        AllocationId: a.id,
        PublicIp: a.publicIp,
        Domain: 'vpc',
        PublicIpv4Pool: 'amazon',
        NetworkBorderGroup: this.region,
        ...(a.associatedWith
          ? { AssociationId: `eipassoc-0${hex(a.id)}`, InstanceId: a.associatedWith }
          : {}),
        Tags: toTags(a.tags),
      }));
      return { Addresses };
    },

    ReleaseAddress: async (input) => {
      const id = str(input.AllocationId);
      if (!id) throw new UnsupportedBySimulatedAccount('ReleaseAddress', 'only by AllocationId');
      await this.inventory.vanishIfArmed('elastic-ip', id);
      await this.inventory.remove(
        'elastic-ip',
        id,
        { expression: 'attribute_not_exists(#assoc)', names: { '#assoc': 'associatedWith' } },
        (current) =>
          current
            ? fail(
                'InvalidIPAddress.InUse',
                `Address ${current.publicIp} is associated with ${current.associatedWith}`,
              )
            : NOT_FOUND['elastic-ip'](id),
      );
      return {};
    },

    CreateTags: async (input) => {
      checkTagKeys(
        ((input.Tags as Tag[] | undefined) ?? []).map((t) => t.Key ?? ''),
        'InvalidParameterValue',
      );
      return this.ec2Tags(input, (tags) => ({
        setTags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
      }));
    },

    DeleteTags: async (input) => {
      const tags = (input.Tags as Tag[] | undefined) ?? [];
      if (tags.some((t) => t.Value !== undefined)) {
        throw new UnsupportedBySimulatedAccount('DeleteTags', 'tags with a Value; give keys only');
      }
      if (!tags.length)
        throw new UnsupportedBySimulatedAccount('DeleteTags', 'without Tags (delete all tags)');
      return this.ec2Tags(input, () => ({ removeTags: tags.map((t) => t.Key ?? '') }));
    },
  };

  private snapshotOutput(s: Of<'ebs-snapshot'>): Record<string, unknown> {
    const completed =
      s.state === 'pending' && s.completesAt !== undefined && this.now() >= new Date(s.completesAt);
    const state = completed ? 'completed' : s.state;
    return {
      SnapshotId: s.id,
      VolumeId: s.volumeId,
      VolumeSize: s.sizeGiB,
      State: state,
      Progress: state === 'completed' ? '100%' : '0%',
      StartTime: new Date(s.startedAt),
      OwnerId: this.account,
      Encrypted: false,
      StorageTier: 'standard',
      ...(s.description ? { Description: s.description } : {}),
      Tags: toTags(s.tags),
    };
  }

  /** Stop or terminate: every id must exist; a terminated instance cannot be stopped. */
  private async changeInstances(input: Input, to: 'stopped' | 'terminated') {
    const ids = strings(input.InstanceIds) ?? [];
    for (const id of ids) await this.inventory.vanishIfArmed('ec2-instance', id);
    await this.inventory.getAll('ec2-instance', ids);
    const changes = [];
    for (const id of ids) {
      const before = await this.inventory.update(
        'ec2-instance',
        id,
        {
          set: { state: to },
          ...(to === 'stopped'
            ? {
                condition: {
                  expression: '#state IN (:running, :stopping, :stopped)',
                  names: { '#state': 'state' },
                  values: { ':running': 'running', ':stopping': 'stopping', ':stopped': 'stopped' },
                },
              }
            : {}),
        },
        (current) =>
          current
            ? fail(
                'IncorrectInstanceState',
                `The instance '${id}' is not in a state from which it can be stopped.`,
              )
            : NOT_FOUND['ec2-instance'](id),
      );
      const previous = before.state;
      const current =
        to === 'stopped'
          ? previous === 'stopped'
            ? 'stopped'
            : 'stopping'
          : previous === 'terminated'
            ? 'terminated'
            : 'shutting-down';
      changes.push({
        InstanceId: id,
        PreviousState: instanceState(previous),
        CurrentState: instanceState(current),
      });
    }
    if (to === 'terminated') for (const id of ids) await this.detachFrom(id);
    return to === 'stopped' ? { StoppingInstances: changes } : { TerminatingInstances: changes };
  }

  /** A terminated instance lets go of its Elastic IPs and (non-root) volumes, as EC2 does. */
  private async detachFrom(instanceId: string): Promise<void> {
    for (const address of await this.inventory.all('elastic-ip', (a) => a.associatedWith === instanceId)) {
      await this.inventory.update('elastic-ip', address.id, { remove: ['associatedWith'] }, () =>
        NOT_FOUND['elastic-ip'](address.id),
      );
    }
    for (const volume of await this.inventory.all('ebs-volume', (v) => v.attachedTo === instanceId)) {
      await this.inventory.update(
        'ebs-volume',
        volume.id,
        { set: { state: 'available' }, remove: ['attachedTo'] },
        () => NOT_FOUND['ebs-volume'](volume.id),
      );
    }
  }
}
