/**
 * The simulated Resource Groups Tagging API: GetResources with a list of log group ARNs, as the log group
 * adapter sends it (the tags of one DescribeLogGroups page in one call), answered from the inventory.
 */
import { fail } from './errors';
import type { Inventory } from './inventory';
import type { SimulatedLogs } from './logs';
import { strings, type Handler } from './requests';

/** GetResources takes at most 100 ARNs. */
const MAX_ARNS = 100;

export function taggingHandlers(logs: SimulatedLogs, inventory: Inventory): Record<string, Handler> {
  return {
    GetResources: async (input) => {
      const arns = strings(input.ResourceARNList) ?? [];
      if (input.PaginationToken !== undefined || input.ResourcesPerPage !== undefined) {
        throw fail('InvalidParameterException', 'ResourceARNList cannot be used with pagination parameters');
      }
      if (arns.length > MAX_ARNS) {
        throw fail('InvalidParameterException', `ResourceARNList holds at most ${MAX_ARNS} ARNs`);
      }
      const names = new Map(arns.map((arn) => [logs.groupNameOf(arn), arn]));
      const groups = await inventory.getMany('log-group', [...names.keys()]);
      // AWS leaves out what has no tags, and what does not exist.
      const ResourceTagMappingList = groups
        .filter((g) => Object.keys(g.tags).length > 0)
        .map((g) => ({
          ResourceARN: names.get(g.id),
          Tags: Object.entries(g.tags).map(([Key, Value]) => ({ Key, Value })),
        }));
      return { ResourceTagMappingList };
    },
  };
}
