import {
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { TransientError } from '../../../../shared/errors';
import { logGroup } from '../../../../tasks/release/resources/log-group';
import { ACCOUNT, adapterAccount, awsError, MARK_TAG, policy, REGION, RELEASE_AFTER } from './mock-account';

const arnOf = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;

const group = (name: string, retentionInDays?: number): LogGroup => ({
  logGroupName: name,
  creationTime: Date.parse('2025-01-01T00:00:00Z'),
  storedBytes: 12345,
  arn: `${arnOf(name)}:*`,
  logGroupArn: arnOf(name),
  ...(retentionInDays ? { retentionInDays } : {}),
});

const GROUP = '/aws/lambda/orders';
const account = () =>
  adapterAccount(logGroup, { resourceId: GROUP, arn: arnOf(GROUP), operation: 'set-retention' });

describe('log-group adapter', () => {
  it('lists every page, reads each group’s tags, and keeps only groups with a selector key', async () => {
    const { logs, discover } = account();
    logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [group('/aws/lambda/a'), group('/aws/lambda/b', 14)], nextToken: 'n2' })
      .resolvesOnce({ logGroups: [group('/aws/lambda/c'), { ...group('/ecs/d'), logGroupArn: undefined }] });
    const tags: Record<string, Record<string, string>> = {
      [arnOf('/aws/lambda/a')]: { 'stepjobs:release': 'true', team: 'web' },
      [arnOf('/aws/lambda/b')]: { team: 'web' },
      [arnOf('/aws/lambda/c')]: { 'stepjobs:release-after': '2026-01-01T00:00:00.000Z' },
      [arnOf('/ecs/d')]: { 'stepjobs:release': 'true' },
    };
    logs.on(ListTagsForResourceCommand).callsFake(async (input: { resourceArn: string }) => ({
      tags: tags[input.resourceArn],
    }));

    const found = await discover();

    expect(found.map((r) => r.id)).toEqual(['/aws/lambda/a', '/aws/lambda/c', '/ecs/d']);
    expect(found[0]).toEqual({
      type: 'log-group',
      id: '/aws/lambda/a',
      arn: arnOf('/aws/lambda/a'),
      tags: { 'stepjobs:release': 'true', team: 'web' },
      facts: { retentionDays: null, storedBytes: 12345, createdAt: '2025-01-01T00:00:00.000Z' },
    });
    // Without logGroupArn, the ARN is DescribeLogGroups' `arn` without its `:*`, as the tagging APIs want.
    expect(found[2]?.arn).toBe(arnOf('/ecs/d'));
    expect(logs.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input.resourceArn)).toEqual(
      ['/aws/lambda/a', '/aws/lambda/b', '/aws/lambda/c', '/ecs/d'].map(arnOf),
    );
    expect(logs.commandCalls(DescribeLogGroupsCommand)[1]?.args[0].input.nextToken).toBe('n2');
  });

  it('reads tags at most 5 at a time', async () => {
    const { logs, discover } = account();
    const names = Array.from({ length: 23 }, (_, i) => `/aws/lambda/fn-${i}`);
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: names.map((n) => group(n)) });
    let inFlight = 0;
    let most = 0;
    logs.on(ListTagsForResourceCommand).callsFake(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { tags: { 'stepjobs:release': 'true' } };
    });

    const found = await discover();

    expect(found.map((r) => r.id)).toEqual(names);
    expect(most).toBe(5);
  });

  it('skips a group deleted between the listing and its tags', async () => {
    const { logs, discover } = account();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [group('/gone'), group('/here')] });
    logs
      .on(ListTagsForResourceCommand, { resourceArn: arnOf('/gone') })
      .rejects(awsError('ResourceNotFoundException'))
      .on(ListTagsForResourceCommand, { resourceArn: arnOf('/here') })
      .resolves({ tags: { 'stepjobs:release': 'true' } });

    await expect(discover()).resolves.toEqual([expect.objectContaining({ id: '/here' })]);
  });

  it('turns throttled tag reads into a TransientError', async () => {
    const { logs, discover } = account();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [group('/a')] });
    logs.on(ListTagsForResourceCommand).rejects(awsError('ThrottlingException'));

    await expect(discover()).rejects.toBeInstanceOf(TransientError);
  });

  it("releases by setting the policy's retention; NotFound is ALREADY_GONE", async () => {
    const { logs, release } = account();
    logs.on(PutRetentionPolicyCommand).resolvesOnce({}).rejectsOnce(awsError('ResourceNotFoundException'));
    const sixtyDays = policy({ types: { 'log-group': { retentionDays: 60 } } });

    await expect(release(sixtyDays)).resolves.toBe('DONE');
    await expect(release(sixtyDays)).resolves.toBe('ALREADY_GONE');
    expect(logs.commandCalls(PutRetentionPolicyCommand)[0]?.args[0].input).toEqual({
      logGroupName: GROUP,
      retentionInDays: 60,
    });
  });

  it('marks with TagResource and unmarks with UntagResource on the group ARN', async () => {
    const { logs, mark, unmark } = account();
    logs.on(TagResourceCommand).resolves({});
    logs.on(UntagResourceCommand).rejects(awsError('ResourceNotFoundException'));

    await expect(mark()).resolves.toBe('DONE');
    await expect(unmark()).resolves.toBe('ALREADY_GONE');
    expect(logs.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      resourceArn: arnOf(GROUP),
      tags: { [MARK_TAG]: RELEASE_AFTER },
    });
    expect(logs.commandCalls(UntagResourceCommand)[0]?.args[0].input).toEqual({
      resourceArn: arnOf(GROUP),
      tagKeys: [MARK_TAG],
    });
  });
});
