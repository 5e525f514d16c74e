import {
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { TransientError } from '../../../../shared/errors';
import { logGroup } from '../../../../tasks/release/resources/log-group';
import {
  ACCOUNT,
  adapterAccount,
  awsError,
  MARK_TAG,
  policy,
  REGION,
  RELEASE_AFTER,
  SELECTOR,
} from './mock-account';

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
  /** GetResources answering from `tags`: only ARNs it was asked for, and only those with tags (as AWS does). */
  const answerTags = (
    tagging: ReturnType<typeof account>['tagging'],
    tags: Record<string, Record<string, string>>,
  ) =>
    tagging.on(GetResourcesCommand).callsFake(async (input: { ResourceARNList?: string[] }) => ({
      ResourceTagMappingList: (input.ResourceARNList ?? [])
        .filter((arn) => tags[arn] && Object.keys(tags[arn] ?? {}).length > 0)
        .map((arn) => ({
          ResourceARN: arn,
          Tags: Object.entries(tags[arn] ?? {}).map(([Key, Value]) => ({ Key, Value })),
        })),
    }));

  it('lists every page, reads the tags of each page in one call, and keeps only groups with a selector key', async () => {
    const { logs, tagging, discover } = account();
    logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [group('/aws/lambda/a'), group('/aws/lambda/b', 14)], nextToken: 'n2' })
      .resolvesOnce({ logGroups: [group('/aws/lambda/c'), { ...group('/ecs/d'), logGroupArn: undefined }] });
    answerTags(tagging, {
      [arnOf('/aws/lambda/a')]: { 'stepjobs:release': 'true', team: 'web' },
      [arnOf('/aws/lambda/b')]: { team: 'web' },
      [arnOf('/aws/lambda/c')]: { 'stepjobs:release-after': '2026-01-01T00:00:00.000Z' },
      [arnOf('/ecs/d')]: { 'stepjobs:release': 'true' },
    });

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
    // One tagging call per page, never one per group.
    expect(tagging.commandCalls(GetResourcesCommand).map((c) => c.args[0].input.ResourceARNList)).toEqual([
      ['/aws/lambda/a', '/aws/lambda/b'].map(arnOf),
      ['/aws/lambda/c', '/ecs/d'].map(arnOf),
    ]);
    expect(logs.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
    expect(logs.commandCalls(DescribeLogGroupsCommand)[1]?.args[0].input.nextToken).toBe('n2');
  });

  it('yields each page with the token that resumes after it, and starts from a given token', async () => {
    const { logs, tagging, clients } = account();
    // The paginator reuses its input object, so record each call's token when it is made.
    const tokens: Array<string | undefined> = [];
    const answers = [{ logGroups: [group('/b')], nextToken: 'n3' }, { logGroups: [group('/c')] }];
    logs.on(DescribeLogGroupsCommand).callsFake(async (input: { nextToken?: string }) => {
      tokens.push(input.nextToken);
      return answers[tokens.length - 1];
    });
    answerTags(tagging, {
      [arnOf('/b')]: { 'stepjobs:release': 'true' },
      [arnOf('/c')]: { 'stepjobs:release': 'true' },
    });
    const pages = [];
    for await (const page of logGroup.discover(clients, { ...SELECTOR, startingToken: 'n2' }))
      pages.push({ ids: page.resources.map((r) => r.id), next: page.nextToken });
    expect(pages).toEqual([
      { ids: ['/b'], next: 'n3' },
      { ids: ['/c'], next: undefined },
    ]);
    expect(tokens).toEqual(['n2', 'n3']);
  });

  it('skips a group deleted between the listing and its tags (GetResources leaves it out)', async () => {
    const { logs, tagging, discover } = account();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [group('/gone'), group('/here')] });
    answerTags(tagging, { [arnOf('/here')]: { 'stepjobs:release': 'true' } });

    await expect(discover()).resolves.toEqual([expect.objectContaining({ id: '/here' })]);
  });

  it('turns throttled tag reads into a TransientError', async () => {
    const { logs, tagging, discover } = account();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [group('/a')] });
    tagging.on(GetResourcesCommand).rejects(awsError('ThrottlingException'));

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
