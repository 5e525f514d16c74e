/**
 * EBS snapshots owned by the account. Idle means older than the retention and not backing an AMI (the rules);
 * `usedByImage` comes from the account's own images, read once per discovery. Release deletes the snapshot.
 */
import type { EC2Client, Snapshot } from '@aws-sdk/client-ec2';
import type { FactsByType, Resource, ResourceAdapter } from '../model';
import { ec2Arn, isoOf, mutate, pages, required, tagRecord } from './aws';
import { markEc2, regionOf, tagKeyFilter, unmarkEc2 } from './ec2';
import { sdk } from '../sdk';

const NOT_FOUND = ['InvalidSnapshot.NotFound'];
/** DescribeSnapshots and DescribeImages allow up to 1000. */
const PAGE_SIZE = 1000;

/** Snapshot id → the id of an own AMI whose block device mappings use it. */
export async function snapshotsUsedByImages(ec2: EC2Client): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  const paginator = sdk
    .ec2()
    .paginateDescribeImages({ client: ec2, pageSize: PAGE_SIZE }, { Owners: ['self'] });
  for await (const page of pages('DescribeImages', paginator)) {
    for (const image of page.Images ?? []) {
      for (const mapping of image.BlockDeviceMappings ?? []) {
        const snapshotId = mapping.Ebs?.SnapshotId;
        if (snapshotId && image.ImageId && !used.has(snapshotId)) used.set(snapshotId, image.ImageId);
      }
    }
  }
  return used;
}

function toResource(snapshot: Snapshot, region: string, usedByImage: Map<string, string>): Resource {
  const id = required(snapshot.SnapshotId, 'A snapshot', 'SnapshotId');
  const facts: FactsByType['ebs-snapshot'] = {
    state: required(snapshot.State, id, 'State'),
    sizeGiB: required(snapshot.VolumeSize, id, 'VolumeSize'),
    startedAt: isoOf(snapshot.StartTime, id, 'StartTime'),
    usedByImage: usedByImage.get(id) ?? null,
  };
  return {
    type: 'ebs-snapshot',
    id,
    arn: ec2Arn(region, required(snapshot.OwnerId, id, 'OwnerId'), 'snapshot', id),
    tags: tagRecord(snapshot.Tags),
    facts,
  };
}

export const ebsSnapshot: ResourceAdapter = {
  id: 'ebs-snapshot',

  async *discover({ ec2 }, { tagKeys, startingToken }) {
    const region = await regionOf(ec2);
    // Read again by every invocation that resumes snapshot discovery: images are few, and may change.
    const usedByImage = await snapshotsUsedByImages(ec2);
    // Without OwnerIds, DescribeSnapshots also lists every public and shared snapshot.
    const paginator = sdk
      .ec2()
      .paginateDescribeSnapshots(
        { client: ec2, pageSize: PAGE_SIZE, ...(startingToken ? { startingToken } : {}) },
        { OwnerIds: ['self'], Filters: [tagKeyFilter(tagKeys)] },
      );
    for await (const page of pages('DescribeSnapshots', paginator)) {
      const resources = (page.Snapshots ?? []).map((snapshot) => toResource(snapshot, region, usedByImage));
      yield { resources, ...(page.NextToken ? { nextToken: page.NextToken } : {}) };
    }
  },

  release: ({ ec2 }, action) =>
    mutate('DeleteSnapshot', NOT_FOUND, () =>
      ec2.send(new (sdk.ec2().DeleteSnapshotCommand)({ SnapshotId: action.resourceId })),
    ),

  mark: (clients, action, tagKey) => markEc2(clients, action, tagKey, NOT_FOUND),
  unmark: (clients, action, tagKey) => unmarkEc2(clients, action, tagKey, NOT_FOUND),
};
