import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type Volume,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { TransientError } from '../../../../shared/errors';
import { ebsVolume, SOURCE_VOLUME_TAG } from '../../../../tasks/release/resources/ebs-volume';
import {
  ACCOUNT,
  adapterAccount,
  awsError,
  policy,
  REGION,
  SELECTOR,
  type AdapterAccount,
} from './mock-account';

const VOLUME_ID = 'vol-0abc1234def567890';

const volume = (id: string, extra: Partial<Volume> = {}): Volume => ({
  VolumeId: id,
  Size: 100,
  VolumeType: 'gp3',
  Iops: 3000,
  State: 'available',
  CreateTime: new Date('2026-01-01T00:00:00Z'),
  Tags: [{ Key: 'stepjobs:release', Value: 'true' }],
  ...extra,
});

const account = () => adapterAccount(ebsVolume, { resourceId: VOLUME_ID, operation: 'snapshot-and-delete' });

/** The volume still as discovered, no earlier safety snapshot, and AWS accepting snapshot and delete. */
function readyToRelease(tags = [{ Key: 'stepjobs:release', Value: 'true' }]): AdapterAccount {
  const ready = account();
  ready.ec2.on(DescribeVolumesCommand).resolves({ Volumes: [volume(VOLUME_ID, { Tags: tags })] });
  ready.ec2
    .on(DescribeSnapshotsCommand)
    .resolvesOnce({ Snapshots: [] })
    .resolves({ Snapshots: [{ SnapshotId: 'snap-0new', State: 'pending' }] });
  ready.ec2.on(CreateSnapshotCommand).resolves({ SnapshotId: 'snap-0new', State: 'pending' });
  ready.ec2.on(DeleteVolumeCommand).resolves({});
  return ready;
}

/** The command names in the order the adapter sent them. */
function sent(account: AdapterAccount): string[] {
  return account.ec2.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));
}

describe('ebs-volume adapter', () => {
  it('discovers every page with the tag-key filter, facts, and an ARN from the owner id', async () => {
    const { ec2, sts, discover } = account();
    ec2
      .on(DescribeVolumesCommand)
      .resolvesOnce({ Volumes: [volume('vol-01', { OwnerId: ACCOUNT })], NextToken: 't2' })
      .resolvesOnce({
        Volumes: [volume('vol-02', { OwnerId: ACCOUNT, Iops: undefined, VolumeType: 'st1' })],
      });

    const found = await discover();

    expect(found).toEqual([
      {
        type: 'ebs-volume',
        id: 'vol-01',
        arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-01`,
        tags: { 'stepjobs:release': 'true' },
        facts: {
          state: 'available',
          sizeGiB: 100,
          volumeType: 'gp3',
          iops: 3000,
          createdAt: '2026-01-01T00:00:00.000Z',
        },
      },
      expect.objectContaining({
        id: 'vol-02',
        facts: expect.objectContaining({ volumeType: 'st1', iops: null }),
      }),
    ]);
    const inputs = ec2.commandCalls(DescribeVolumesCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.Filters)).toEqual([
      [{ Name: 'tag-key', Values: SELECTOR.tagKeys }],
      [{ Name: 'tag-key', Values: SELECTOR.tagKeys }],
    ]);
    expect(inputs[1]?.NextToken).toBe('t2');
    expect(sts.calls()).toHaveLength(0);
  });

  it('asks STS for the account once when volumes carry no owner id', async () => {
    const { ec2, sts, discover } = account();
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [volume('vol-01'), volume('vol-02')] });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '210987654321' });

    const found = await discover();

    expect(found.map((r) => r.arn)).toEqual([
      `arn:aws:ec2:${REGION}:210987654321:volume/vol-01`,
      `arn:aws:ec2:${REGION}:210987654321:volume/vol-02`,
    ]);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('snapshots first, waits until the snapshot exists, then deletes the volume', async () => {
    const account = readyToRelease([
      { Key: 'stepjobs:release', Value: 'true' },
      { Key: 'stepjobs:release-after', Value: '2026-01-10T00:00:00.000Z' },
      { Key: 'team', Value: 'data' },
      { Key: 'aws:cloudformation:stack-name', Value: 'old-stack' },
    ]);

    await expect(account.release()).resolves.toBe('DONE');

    expect(sent(account)).toEqual([
      'DescribeVolumes',
      'DescribeSnapshots', // an earlier attempt's snapshot?
      'CreateSnapshot',
      'DescribeSnapshots', // the new snapshot exists
      'DeleteVolume',
    ]);
    const lookup = account.ec2.commandCalls(DescribeSnapshotsCommand)[0]?.args[0].input;
    expect(lookup).toMatchObject({
      OwnerIds: ['self'],
      Filters: [{ Name: `tag:${SOURCE_VOLUME_TAG}`, Values: [VOLUME_ID] }],
    });
    const create = account.ec2.commandCalls(CreateSnapshotCommand)[0]?.args[0].input;
    expect(create?.VolumeId).toBe(VOLUME_ID);
    expect(create?.Description).toMatch(new RegExp(`${VOLUME_ID}.*stepjobs`));
    expect(create?.TagSpecifications).toEqual([
      {
        ResourceType: 'snapshot',
        Tags: [
          { Key: 'stepjobs:release', Value: 'true' },
          { Key: 'team', Value: 'data' },
          { Key: SOURCE_VOLUME_TAG, Value: VOLUME_ID },
        ],
      },
    ]);
    expect(account.ec2.commandCalls(DescribeSnapshotsCommand)[1]?.args[0].input).toEqual({
      SnapshotIds: ['snap-0new'],
    });
    expect(account.ec2.commandCalls(DeleteVolumeCommand)[0]?.args[0].input).toEqual({ VolumeId: VOLUME_ID });
  });

  it('polls until a new snapshot is visible (EC2 is eventually consistent)', async () => {
    const account = readyToRelease();
    account.ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [] })
      .rejectsOnce(awsError('InvalidSnapshot.NotFound'))
      .resolves({ Snapshots: [{ SnapshotId: 'snap-0new', State: 'pending' }] });

    await expect(account.release()).resolves.toBe('DONE');
    expect(sent(account)).toEqual([
      'DescribeVolumes',
      'DescribeSnapshots',
      'CreateSnapshot',
      'DescribeSnapshots',
      'DescribeSnapshots',
      'DeleteVolume',
    ]);
  });

  it('reuses the safety snapshot of an earlier attempt instead of taking a second one', async () => {
    const account = readyToRelease();
    account.ec2
      .on(DescribeSnapshotsCommand)
      .resolves({ Snapshots: [{ SnapshotId: 'snap-0earlier', State: 'pending' }] });

    await expect(account.release()).resolves.toBe('DONE');
    expect(account.ec2.commandCalls(CreateSnapshotCommand)).toHaveLength(0);
    expect(sent(account)).toEqual([
      'DescribeVolumes',
      'DescribeSnapshots',
      'DescribeSnapshots',
      'DeleteVolume',
    ]);
  });

  it('deletes without a snapshot when the policy says so', async () => {
    const account = readyToRelease();
    const noSnapshot = policy({ types: { 'ebs-volume': { snapshotFirst: false } } });

    await expect(account.release(noSnapshot)).resolves.toBe('DONE');
    expect(sent(account)).toEqual(['DeleteVolume']);
  });

  it('is ALREADY_GONE when the volume is missing before, during, or at the delete', async () => {
    const before = readyToRelease();
    before.ec2.on(DescribeVolumesCommand).rejects(awsError('InvalidVolume.NotFound'));
    await expect(before.release()).resolves.toBe('ALREADY_GONE');
    expect(sent(before)).toEqual(['DescribeVolumes']);

    const during = readyToRelease();
    during.ec2.on(CreateSnapshotCommand).rejects(awsError('InvalidVolume.NotFound'));
    await expect(during.release()).resolves.toBe('ALREADY_GONE');
    expect(during.ec2.commandCalls(DeleteVolumeCommand)).toHaveLength(0);

    const atDelete = readyToRelease();
    atDelete.ec2.on(DeleteVolumeCommand).rejects(awsError('InvalidVolume.NotFound'));
    await expect(atDelete.release()).resolves.toBe('ALREADY_GONE');
  });

  it('refuses to snapshot or delete a volume that was attached since the plan', async () => {
    const account = readyToRelease();
    account.ec2.on(DescribeVolumesCommand).resolves({ Volumes: [volume(VOLUME_ID, { State: 'in-use' })] });

    await expect(account.release()).rejects.toMatchObject({
      name: 'ResourceStateChanged',
    });
    expect(sent(account)).toEqual(['DescribeVolumes']);
  });

  it('turns throttling after the SDK retries into a TransientError', async () => {
    const account = readyToRelease();
    account.ec2.on(DeleteVolumeCommand).rejects(awsError('RequestLimitExceeded'));

    await expect(account.release()).rejects.toBeInstanceOf(TransientError);
  });

  it('marks and unmarks with the volume id, NotFound being ALREADY_GONE', async () => {
    const { ec2, mark, unmark } = account();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).rejects(awsError('InvalidVolume.NotFound'));

    await expect(mark()).resolves.toBe('DONE');
    await expect(unmark()).resolves.toBe('ALREADY_GONE');
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Resources).toEqual([VOLUME_ID]);
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input.Resources).toEqual([VOLUME_ID]);
  });
});
