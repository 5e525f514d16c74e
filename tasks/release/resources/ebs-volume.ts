/**
 * EBS volumes. Idle means unattached (`available`) long enough (the rules). Release deletes the volume, by
 * default after a safety snapshot: the snapshot only has to exist before DeleteVolume, not to be completed,
 * because EBS finishes a pending snapshot from a deleted volume.
 */
import type { EC2Client, Tag, Volume } from '@aws-sdk/client-ec2';
import { StepJobsError, TransientError } from '../../../shared/errors';
import { TAGS, type ApplyOutcome, type FactsByType, type Resource, type ResourceAdapter } from '../model';
import {
  call,
  CallerAccount,
  ec2Arn,
  hasName,
  isoOf,
  mutate,
  pages,
  required,
  ResourceStateChanged,
  tagRecord,
} from './aws';
import { markEc2, regionOf, tagKeyFilter, unmarkEc2 } from './ec2';
import { sdk } from '../sdk';

const NOT_FOUND = ['InvalidVolume.NotFound'];
/** DescribeVolumes allows 5 to 500. */
const PAGE_SIZE = 500;
/** Tags the job sets on a safety snapshot: which volume it preserves. */
export const SOURCE_VOLUME_TAG = 'stepjobs:source-volume';
/**
 * Waits between polls for a new snapshot to show in DescribeSnapshots (EC2 is eventually consistent), about
 * 30 s in all. After that the action fails as transient; its retry finds the snapshot by its tag.
 */
export const SNAPSHOT_POLL_MS: readonly number[] = [250, 500, 1000, 2000, 3000, 5000, 5000, 6000, 7000];

async function toResource(volume: Volume, region: string, account: CallerAccount): Promise<Resource> {
  const id = required(volume.VolumeId, 'A volume', 'VolumeId');
  const facts: FactsByType['ebs-volume'] = {
    state: required(volume.State, id, 'State'),
    sizeGiB: required(volume.Size, id, 'Size'),
    volumeType: required(volume.VolumeType, id, 'VolumeType'),
    iops: volume.Iops ?? null,
    createdAt: isoOf(volume.CreateTime, id, 'CreateTime'),
  };
  const arn = volume.VolumeArn ?? ec2Arn(region, volume.OwnerId ?? (await account.get()), 'volume', id);
  return { type: 'ebs-volume', id, arn, tags: tagRecord(volume.Tags), facts };
}

/** The volume as it is now, or undefined when it is gone. */
async function describeVolume(ec2: EC2Client, id: string): Promise<Volume | undefined> {
  try {
    const out = await call('DescribeVolumes', () =>
      ec2.send(new (sdk.ec2().DescribeVolumesCommand)({ VolumeIds: [id] })),
    );
    return out.Volumes?.[0];
  } catch (error) {
    if (hasName(error, NOT_FOUND)) return undefined;
    throw error;
  }
}

/** A safety snapshot an earlier attempt of this action already took, so a retry does not take a second one. */
async function existingSafetySnapshot(ec2: EC2Client, volumeId: string): Promise<string | undefined> {
  const paginator = sdk
    .ec2()
    .paginateDescribeSnapshots(
      { client: ec2 },
      { OwnerIds: ['self'], Filters: [{ Name: `tag:${SOURCE_VOLUME_TAG}`, Values: [volumeId] }] },
    );
  for await (const page of pages('DescribeSnapshots', paginator)) {
    const usable = page.Snapshots?.find((s) => s.State !== 'error' && s.SnapshotId);
    if (usable?.SnapshotId) return usable.SnapshotId;
  }
  return undefined;
}

/**
 * The volume's own tags on its snapshot, so owners and cost allocation carry over, without the job's mark (the
 * snapshot starts its own life) and without `aws:` tags, which CreateSnapshot rejects.
 */
export function safetySnapshotTags(volumeId: string, volumeTags: readonly Tag[] | undefined): Tag[] {
  const kept = (volumeTags ?? []).filter(
    ({ Key }) => Key !== undefined && Key !== TAGS.RELEASE_AFTER && !Key.startsWith('aws:'),
  );
  return [...kept, { Key: SOURCE_VOLUME_TAG, Value: volumeId }];
}

/** The new snapshot's id, or ALREADY_GONE when the volume vanished first. */
async function createSafetySnapshot(
  ec2: EC2Client,
  volume: Volume,
  volumeId: string,
): Promise<string | 'ALREADY_GONE'> {
  let snapshotId: string | undefined;
  const outcome = await mutate('CreateSnapshot', NOT_FOUND, async () => {
    const out = await ec2.send(
      new (sdk.ec2().CreateSnapshotCommand)({
        VolumeId: volumeId,
        Description: `Safety snapshot of ${volumeId} taken by stepjobs release-idle-resources before deleting it`,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: safetySnapshotTags(volumeId, volume.Tags) }],
      }),
    );
    snapshotId = required(out.SnapshotId, `CreateSnapshot of ${volumeId}`, 'SnapshotId');
  });
  return outcome === 'ALREADY_GONE'
    ? outcome
    : required(snapshotId, `CreateSnapshot of ${volumeId}`, 'SnapshotId');
}

/** The safety snapshot ended in state `error`: the volume is kept. */
export class SafetySnapshotFailed extends StepJobsError {
  constructor(
    readonly volumeId: string,
    readonly snapshotId: string,
  ) {
    super(`Safety snapshot ${snapshotId} of ${volumeId} failed; ${volumeId} was not deleted`);
    this.name = 'SafetySnapshotFailed';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until DescribeSnapshots knows the snapshot (any state but error); not until it completes. */
async function waitUntilSnapshotExists(ec2: EC2Client, snapshotId: string, volumeId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const out = await call('DescribeSnapshots', () =>
        ec2.send(new (sdk.ec2().DescribeSnapshotsCommand)({ SnapshotIds: [snapshotId] })),
      );
      const state = out.Snapshots?.[0]?.State;
      if (state === 'error') {
        throw new SafetySnapshotFailed(volumeId, snapshotId);
      }
      if (state) return;
    } catch (error) {
      if (!hasName(error, ['InvalidSnapshot.NotFound'])) throw error;
    }
    const delay = SNAPSHOT_POLL_MS[attempt];
    if (delay === undefined) {
      throw new TransientError(
        `Safety snapshot ${snapshotId} of ${volumeId} is not visible yet; ${volumeId} is kept`,
      );
    }
    await sleep(delay);
  }
}

export const ebsVolume: ResourceAdapter = {
  id: 'ebs-volume',

  async *discover({ ec2, sts }, { tagKeys, startingToken }) {
    const region = await regionOf(ec2);
    const account = new CallerAccount(sts);
    const paginator = sdk
      .ec2()
      .paginateDescribeVolumes(
        { client: ec2, pageSize: PAGE_SIZE, ...(startingToken ? { startingToken } : {}) },
        { Filters: [tagKeyFilter(tagKeys)] },
      );
    for await (const page of pages('DescribeVolumes', paginator)) {
      const resources: Resource[] = [];
      for (const volume of page.Volumes ?? []) resources.push(await toResource(volume, region, account));
      yield { resources, ...(page.NextToken ? { nextToken: page.NextToken } : {}) };
    }
  },

  async release({ ec2 }, action, policy): Promise<ApplyOutcome> {
    const id = action.resourceId;
    if (policy.types['ebs-volume'].snapshotFirst) {
      const volume = await describeVolume(ec2, id);
      if (!volume || volume.State === 'deleting' || volume.State === 'deleted') return 'ALREADY_GONE';
      if (volume.State !== 'available')
        throw new ResourceStateChanged(id, volume.State ?? 'in an unknown state');
      const snapshotId =
        (await existingSafetySnapshot(ec2, id)) ?? (await createSafetySnapshot(ec2, volume, id));
      if (snapshotId === 'ALREADY_GONE') return snapshotId;
      await waitUntilSnapshotExists(ec2, snapshotId, id);
    }
    return mutate('DeleteVolume', NOT_FOUND, () =>
      ec2.send(new (sdk.ec2().DeleteVolumeCommand)({ VolumeId: id })),
    );
  },

  mark: (clients, action, tagKey) => markEc2(clients, action, tagKey, NOT_FOUND),
  unmark: (clients, action, tagKey) => unmarkEc2(clients, action, tagKey, NOT_FOUND),
};
