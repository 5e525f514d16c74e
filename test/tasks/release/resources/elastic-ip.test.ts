import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeAddressesCommand,
  ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { TransientError } from '../../../../shared/errors';
import { elasticIp } from '../../../../tasks/release/resources/elastic-ip';
import {
  ACCOUNT,
  awsError,
  collect,
  mockAccount,
  plannedAction,
  policy,
  REGION,
  SELECTOR,
} from './mock-account';

const action = () => plannedAction({ type: 'elastic-ip', resourceId: 'eipalloc-0abc', operation: 'release' });

describe('elastic-ip adapter', () => {
  it('discovers tagged VPC addresses with facts, and an ARN with the account from STS (asked once)', async () => {
    const { clients, ec2, sts } = mockAccount();
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

    const found = await collect(elasticIp.discover(clients, SELECTOR));

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
    const { clients, ec2, sts } = mockAccount();
    ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });

    await expect(collect(elasticIp.discover(clients, SELECTOR))).resolves.toEqual([]);
    expect(sts.calls()).toHaveLength(0);
  });

  it('releases by allocation id; NotFound is ALREADY_GONE, throttling TransientError', async () => {
    const { clients, ec2 } = mockAccount();
    ec2
      .on(ReleaseAddressCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('InvalidAllocationID.NotFound'))
      .rejectsOnce(awsError('RequestLimitExceeded'));

    await expect(elasticIp.release(clients, action(), policy())).resolves.toBe('DONE');
    await expect(elasticIp.release(clients, action(), policy())).resolves.toBe('ALREADY_GONE');
    await expect(elasticIp.release(clients, action(), policy())).rejects.toBeInstanceOf(TransientError);
    expect(ec2.commandCalls(ReleaseAddressCommand)[0]?.args[0].input).toEqual({
      AllocationId: 'eipalloc-0abc',
    });
  });

  it('marks and unmarks by allocation id', async () => {
    const { clients, ec2 } = mockAccount();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    const mark = { ...action(), kind: 'mark' as const, releaseAfter: '2026-03-01T00:00:00.000Z' };

    await expect(elasticIp.mark(clients, mark, 'stepjobs:release-after')).resolves.toBe('DONE');
    await expect(elasticIp.unmark(clients, mark, 'stepjobs:release-after')).resolves.toBe('DONE');
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toEqual({
      Resources: ['eipalloc-0abc'],
      Tags: [{ Key: 'stepjobs:release-after', Value: '2026-03-01T00:00:00.000Z' }],
    });
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input.Resources).toEqual(['eipalloc-0abc']);
  });
});
