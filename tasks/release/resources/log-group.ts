/**
 * CloudWatch Logs log groups. Idle means kept forever, with no retention (the rules); release sets the policy's
 * retention, and deletes nothing. DescribeLogGroups cannot filter by tag and returns no tags, so the tags of
 * each page of groups are read in one Resource Groups Tagging API call (GetResources with the page's ARNs),
 * not one ListTagsForResource per group, and only groups carrying a selector key are kept.
 */
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients, FactsByType, Resource, ResourceAdapter } from '../model';
import { call, InvalidAction, mutate, pages, required } from './aws';
import { sdk } from '../sdk';

const NOT_FOUND = ['ResourceNotFoundException'];
/** DescribeLogGroups allows up to 50; GetResources takes up to 100 ARNs, so one call covers a page. */
const PAGE_SIZE = 50;

/** The tagging APIs take the group's ARN without DescribeLogGroups' trailing `:*`. */
function arnOf(group: LogGroup, name: string): string {
  return group.logGroupArn ?? required(group.arn, name, 'arn').replace(/:\*$/, '');
}

/**
 * The tags of the groups of one page, by ARN. GetResources leaves out a resource that has no tags (or was
 * deleted since it was listed): such a group carries no selector key.
 */
async function tagsOfPage(
  tagging: Clients['tagging'],
  arns: string[],
): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  if (arns.length === 0) return tags;
  const out = await call('GetResources', () =>
    tagging.send(new (sdk.tagging().GetResourcesCommand)({ ResourceARNList: arns })),
  );
  for (const mapping of out.ResourceTagMappingList ?? []) {
    if (!mapping.ResourceARN) continue;
    tags.set(
      mapping.ResourceARN,
      Object.fromEntries((mapping.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    );
  }
  return tags;
}

function toResource(group: LogGroup, name: string, arn: string, tags: Record<string, string>): Resource {
  const created = required(group.creationTime, name, 'creationTime');
  const facts: FactsByType['log-group'] = {
    retentionDays: group.retentionInDays ?? null,
    storedBytes: group.storedBytes ?? 0,
    createdAt: new Date(created).toISOString(),
  };
  return { type: 'log-group', id: name, arn, tags, facts };
}

export const logGroup: ResourceAdapter = {
  id: 'log-group',

  async *discover({ logs, tagging }, { tagKeys, startingToken }) {
    const paginator = sdk
      .logs()
      .paginateDescribeLogGroups(
        { client: logs, pageSize: PAGE_SIZE, ...(startingToken ? { startingToken } : {}) },
        {},
      );
    for await (const page of pages('DescribeLogGroups', paginator)) {
      const groups = (page.logGroups ?? []).map((group) => {
        const name = required(group.logGroupName, 'A log group', 'logGroupName');
        return { group, name, arn: arnOf(group, name) };
      });
      const tags = await tagsOfPage(
        tagging,
        groups.map((g) => g.arn),
      );
      const resources = groups.flatMap(({ group, name, arn }) => {
        const groupTags = tags.get(arn);
        return groupTags && tagKeys.some((key) => key in groupTags)
          ? [toResource(group, name, arn, groupTags)]
          : [];
      });
      yield { resources, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }
  },

  release: ({ logs }, action, policy) =>
    mutate('PutRetentionPolicy', NOT_FOUND, () =>
      logs.send(
        new (sdk.logs().PutRetentionPolicyCommand)({
          logGroupName: action.resourceId,
          retentionInDays: policy.types['log-group'].retentionDays,
        }),
      ),
    ),

  async mark({ logs }, action, tagKey) {
    const { releaseAfter } = action;
    if (!releaseAfter) throw new InvalidAction(action.resourceId, 'a mark needs releaseAfter');
    return mutate('TagResource', NOT_FOUND, () =>
      logs.send(
        new (sdk.logs().TagResourceCommand)({ resourceArn: action.arn, tags: { [tagKey]: releaseAfter } }),
      ),
    );
  },

  unmark: ({ logs }, action, tagKey) =>
    mutate('UntagResource', NOT_FOUND, () =>
      logs.send(new (sdk.logs().UntagResourceCommand)({ resourceArn: action.arn, tagKeys: [tagKey] })),
    ),
};
