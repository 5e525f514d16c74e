/**
 * CloudWatch Logs log groups. Idle means kept forever, with no retention (the rules); release sets the policy's
 * retention, and deletes nothing. DescribeLogGroups cannot filter by tag, so each group's tags are read with
 * ListTagsForResource, a few at a time, and only groups carrying a selector key are kept.
 */
import type { CloudWatchLogsClient, LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import type { FactsByType, Resource, ResourceAdapter } from '../model';
import { call, hasName, InvalidAction, mapConcurrent, mutate, pages, required } from './aws';
import { sdk } from '../sdk';

const NOT_FOUND = ['ResourceNotFoundException'];
/** DescribeLogGroups allows up to 50. */
const PAGE_SIZE = 50;
/** ListTagsForResource calls in flight per page: the Logs control plane throttles at a few TPS. */
const TAG_CONCURRENCY = 5;

/** The tagging APIs take the group's ARN without DescribeLogGroups' trailing `:*`. */
function arnOf(group: LogGroup, name: string): string {
  return group.logGroupArn ?? required(group.arn, name, 'arn').replace(/:\*$/, '');
}

/** The group's tags, or undefined when it was deleted since it was listed. */
async function tagsOf(logs: CloudWatchLogsClient, arn: string): Promise<Record<string, string> | undefined> {
  try {
    const out = await call('ListTagsForResource', () =>
      logs.send(new (sdk.logs().ListTagsForResourceCommand)({ resourceArn: arn })),
    );
    return out.tags ?? {};
  } catch (error) {
    if (hasName(error, NOT_FOUND)) return undefined;
    throw error;
  }
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

  async *discover({ logs }, { tagKeys }) {
    const paginator = sdk.logs().paginateDescribeLogGroups({ client: logs, pageSize: PAGE_SIZE }, {});
    for await (const page of pages('DescribeLogGroups', paginator)) {
      const groups = (page.logGroups ?? []).map((group) => {
        const name = required(group.logGroupName, 'A log group', 'logGroupName');
        return { group, name, arn: arnOf(group, name) };
      });
      const tagged = await mapConcurrent(groups, TAG_CONCURRENCY, async (g) => ({
        ...g,
        tags: await tagsOf(logs, g.arn),
      }));
      for (const { group, name, arn, tags } of tagged) {
        if (tags && tagKeys.some((key) => key in tags)) yield toResource(group, name, arn, tags);
      }
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
