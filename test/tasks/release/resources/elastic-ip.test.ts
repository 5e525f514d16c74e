import { DescribeAddressesCommand, ReleaseAddressCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { TransientError } from '../../../../shared/errors';
import { elasticIp } from '../../../../tasks/release/resources/elastic-ip';
import { ACCOUNT, adapterAccount, awsError, expectEc2MarkAndUnmark, REGION, SELECTOR } from './mock-account';

const ALLOCATION_ID = 'eipalloc-0abc';
const account = () => adapterAccount(elasticIp, { resourceId: ALLOCATION_ID, operation: 'release' });

describe('elastic-ip adapter', () => {
  it('discovers tagged VPC addresses with facts, and an ARN with the account from STS (asked once)', async () => {
    const { ec2, sts, discover } = account();
    ec2.on(DescribeAddressesCommand).resolves({
      Addresses: [
        {
          AllocationId: 'eipalloc-01',
          PublicIp: '203.0.113.10',
          Tags: [{ Key: 'stepjobs:release', Value: 'true' }],
        },
        {
          AllocationId: 'eipalloc-02',
          PublicIp: '203.0.113.11',
          AssociationId: 'eipassoc-01',
          InstanceId: 'i-01',
        },
        { PublicIp: '198.51.100.1' },
      ],
    });
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });

    const found = await discover();

    expect(found).toEqual([
      {
        type: 'elastic-ip',
        id: 'eipalloc-01',
        arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:elastic-ip/eipalloc-01`,
        tags: { 'stepjobs:release': 'true' },
        facts: { associated: false, publicIp: '203.0.113.10' },
      },
      expect.objectContaining({ id: 'eipalloc-02', facts: { associated: true, publicIp: '203.0.113.11' } }),
    ]);
    expect(ec2.commandCalls(DescribeAddressesCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'tag-key', Values: SELECTOR.tagKeys }],
    });
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('does not ask STS when there is no address', async () => {
    const { ec2, sts, discover } = account();
    ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });

    await expect(discover()).resolves.toEqual([]);
    expect(sts.calls()).toHaveLength(0);
  });

  it('releases by allocation id; NotFound is ALREADY_GONE, throttling TransientError', async () => {
    const { ec2, release } = account();
    ec2
      .on(ReleaseAddressCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('InvalidAllocationID.NotFound'))
      .rejectsOnce(awsError('RequestLimitExceeded'));

    await expect(release()).resolves.toBe('DONE');
    await expect(release()).resolves.toBe('ALREADY_GONE');
    await expect(release()).rejects.toBeInstanceOf(TransientError);
    expect(ec2.commandCalls(ReleaseAddressCommand)[0]?.args[0].input).toEqual({
      AllocationId: ALLOCATION_ID,
    });
  });

  it('marks and unmarks by allocation id', async () => {
    await expectEc2MarkAndUnmark(account(), ALLOCATION_ID);
  });
});
