import {
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { Readable } from 'node:stream';
import { TransientError } from '../../../../shared/errors';
import { RETRY } from '../../../../tasks/release/clients';
import type { Clients } from '../../../../tasks/release/model';
import { ebsSnapshot } from '../../../../tasks/release/resources/ebs-snapshot';
import {
  ACCOUNT,
  adapterAccount,
  awsError,
  CREDENTIALS,
  expectEc2MarkAndUnmark,
  plannedAction,
  policy,
  REGION,
  SELECTOR,
} from './mock-account';

const snapshot = (id: string): Snapshot => ({
  SnapshotId: id,
  OwnerId: ACCOUNT,
  State: 'completed',
  VolumeSize: 30,
  StartTime: new Date('2025-06-01T00:00:00Z'),
  Tags: [{ Key: 'stepjobs:release', Value: 'true' }],
});

const SNAPSHOT_ID = 'snap-0abc';
const account = () => adapterAccount(ebsSnapshot, { resourceId: SNAPSHOT_ID, operation: 'delete' });
const action = () => plannedAction({ type: 'ebs-snapshot', resourceId: SNAPSHOT_ID, operation: 'delete' });

/**
 * An EC2 client on the real SDK stack (serializer, signer, retry strategy, XML error parser) whose HTTP layer
 * answers from `answers` in turn: this shows what the SDK's own retries do, which a stubbed `send` bypasses.
 */
function ec2OverHttp(
  config: { maxAttempts: number; retryMode?: string },
  answers: { status: number; body: string }[],
) {
  const requests: string[] = [];
  const ec2 = new EC2Client({
    region: REGION,
    credentials: CREDENTIALS,
    ...config,
    requestHandler: {
      async handle(request: { body?: unknown }) {
        requests.push(String(request.body));
        const answer = answers[Math.min(requests.length - 1, answers.length - 1)] ?? {
          status: 500,
          body: '',
        };
        return {
          response: {
            statusCode: answer.status,
            headers: { 'content-type': 'text/xml;charset=UTF-8' },
            body: Readable.from([Buffer.from(answer.body)]),
          },
        };
      },
    },
  });
  return { clients: { ec2 } as Clients, requests };
}

const THROTTLED = {
  status: 503,
  body:
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>' +
    '<Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>',
};
const DELETED = {
  status: 200,
  body:
    '<?xml version="1.0" encoding="UTF-8"?><DeleteSnapshotResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
    '<requestId>r-2</requestId><return>true</return></DeleteSnapshotResponse>',
};

describe('ebs-snapshot adapter', () => {
  it('discovers own snapshots page by page, with the AMIs using them read once per discovery', async () => {
    const { ec2, discover } = account();
    ec2
      .on(DescribeImagesCommand)
      .resolvesOnce({
        Images: [
          {
            ImageId: 'ami-01',
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-02' } },
              { DeviceName: '/dev/sdb' },
            ],
          },
        ],
        NextToken: 'images-2',
      })
      .resolvesOnce({
        Images: [{ ImageId: 'ami-02', BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-03' } }] }],
      });
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [snapshot('snap-01'), snapshot('snap-02')], NextToken: 'snapshots-2' })
      .resolvesOnce({ Snapshots: [snapshot('snap-03')] });

    const found = await discover();

    expect(found[0]).toEqual({
      type: 'ebs-snapshot',
      id: 'snap-01',
      arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:snapshot/snap-01`,
      tags: { 'stepjobs:release': 'true' },
      facts: { state: 'completed', sizeGiB: 30, startedAt: '2025-06-01T00:00:00.000Z', usedByImage: null },
    });
    expect(found.map((r) => [r.id, r.facts.usedByImage])).toEqual([
      ['snap-01', null],
      ['snap-02', 'ami-01'],
      ['snap-03', 'ami-02'],
    ]);
    // The SDK paginator reuses one input object across pages, so only the last page's token is observable.
    const images = ec2.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input);
    expect(images.map((i) => i.Owners)).toEqual([['self'], ['self']]);
    expect(images[1]?.NextToken).toBe('images-2');
    const snapshots = ec2.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input);
    expect(snapshots.map((i) => [i.OwnerIds, i.Filters])).toEqual([
      [['self'], [{ Name: 'tag-key', Values: SELECTOR.tagKeys }]],
      [['self'], [{ Name: 'tag-key', Values: SELECTOR.tagKeys }]],
    ]);
    expect(snapshots[1]?.NextToken).toBe('snapshots-2');
  });

  it('deletes the snapshot; NotFound is ALREADY_GONE, InUse a failure', async () => {
    const { ec2, release } = account();
    ec2
      .on(DeleteSnapshotCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('InvalidSnapshot.NotFound'))
      .rejectsOnce(awsError('InvalidSnapshot.InUse'));

    await expect(release()).resolves.toBe('DONE');
    await expect(release()).resolves.toBe('ALREADY_GONE');
    await expect(release()).rejects.toMatchObject({ name: 'InvalidSnapshot.InUse' });
    expect(ec2.commandCalls(DeleteSnapshotCommand)[0]?.args[0].input).toEqual({ SnapshotId: SNAPSHOT_ID });
  });

  it('marks and unmarks the snapshot by id', async () => {
    await expectEc2MarkAndUnmark(account(), SNAPSHOT_ID);
  });

  describe('throttling, through the real SDK stack', () => {
    it("succeeds when the SDK's retries outlast a throttled answer (the release job's retry settings)", async () => {
      const { clients, requests } = ec2OverHttp(RETRY, [THROTTLED, DELETED]);

      await expect(ebsSnapshot.release(clients, action(), policy())).resolves.toBe('DONE');
      expect(requests).toHaveLength(2);
      expect(requests[0]).toContain('Action=DeleteSnapshot');
      expect(requests[0]).toContain('SnapshotId=snap-0abc');
    });

    it('fails as TransientError, naming the call, when throttling outlasts the retries', async () => {
      const { clients, requests } = ec2OverHttp({ maxAttempts: 1 }, [THROTTLED]);

      const error = await ebsSnapshot.release(clients, action(), policy()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({
        message: expect.stringContaining('DeleteSnapshot'),
        cause: expect.objectContaining({ name: 'RequestLimitExceeded' }),
      });
      expect(requests).toHaveLength(1);
    });
  });
});
