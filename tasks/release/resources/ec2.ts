/**
 * What the four EC2 resource types share: the server-side tag-key filter, and marking through the one
 * CreateTags/DeleteTags API that takes any EC2 resource id.
 */
import type { EC2Client, Filter } from '@aws-sdk/client-ec2';
import type { ApplyOutcome, Clients, PlannedAction } from '../model';
import { InvalidAction, mutate } from './aws';
import { sdk } from '../sdk';

/** Only resources carrying any of the keys: EC2 filters server-side, so untagged resources never page in. */
export function tagKeyFilter(tagKeys: readonly string[]): Filter {
  return { Name: 'tag-key', Values: [...tagKeys] };
}

export function regionOf(ec2: EC2Client): Promise<string> {
  return ec2.config.region();
}

/** Write `{ [tagKey]: action.releaseAfter }` on the resource. */
export async function markEc2(
  { ec2 }: Clients,
  action: PlannedAction,
  tagKey: string,
  notFound: readonly string[],
): Promise<ApplyOutcome> {
  if (!action.releaseAfter) {
    throw new InvalidAction(action.resourceId, 'a mark needs releaseAfter');
  }
  const Tags = [{ Key: tagKey, Value: action.releaseAfter }];
  return mutate('CreateTags', notFound, () =>
    ec2.send(new (sdk.ec2().CreateTagsCommand)({ Resources: [action.resourceId], Tags })),
  );
}

/** Remove the tag whatever its value; removing a tag the resource does not have succeeds. */
export async function unmarkEc2(
  { ec2 }: Clients,
  action: PlannedAction,
  tagKey: string,
  notFound: readonly string[],
): Promise<ApplyOutcome> {
  return mutate('DeleteTags', notFound, () =>
    ec2.send(new (sdk.ec2().DeleteTagsCommand)({ Resources: [action.resourceId], Tags: [{ Key: tagKey }] })),
  );
}
