/**
 * Elastic IPs (VPC allocations). Idle means not associated (the rules); release gives the address back.
 * DescribeAddresses does not paginate: it answers every matching address at once.
 */
import type { Address } from '@aws-sdk/client-ec2';
import type { FactsByType, Resource, ResourceAdapter } from '../model';
import { call, CallerAccount, ec2Arn, mutate, required, tagRecord } from './aws';
import { markEc2, regionOf, tagKeyFilter, unmarkEc2 } from './ec2';
import { sdk } from '../sdk';

const NOT_FOUND = ['InvalidAllocationID.NotFound'];

function toResource(address: Address, id: string, region: string, account: string): Resource {
  const facts: FactsByType['elastic-ip'] = {
    associated: address.AssociationId !== undefined,
    publicIp: required(address.PublicIp, id, 'PublicIp'),
  };
  return {
    type: 'elastic-ip',
    id,
    arn: ec2Arn(region, account, 'elastic-ip', id),
    tags: tagRecord(address.Tags),
    facts,
  };
}

export const elasticIp: ResourceAdapter = {
  id: 'elastic-ip',

  // DescribeAddresses is not paginated (an account has a few addresses): one page.
  async *discover({ ec2, sts }, { tagKeys }) {
    const region = await regionOf(ec2);
    const out = await call('DescribeAddresses', () =>
      ec2.send(new (sdk.ec2().DescribeAddressesCommand)({ Filters: [tagKeyFilter(tagKeys)] })),
    );
    // An address names no owner; ask STS once, and only when there is an address.
    const account = new CallerAccount(sts);
    const resources: Resource[] = [];
    for (const address of out.Addresses ?? []) {
      // Only VPC addresses have an allocation id; EC2-Classic addresses no longer exist.
      if (address.AllocationId) {
        resources.push(toResource(address, address.AllocationId, region, await account.get()));
      }
    }
    yield { resources };
  },

  release: ({ ec2 }, action) =>
    mutate('ReleaseAddress', NOT_FOUND, () =>
      ec2.send(new (sdk.ec2().ReleaseAddressCommand)({ AllocationId: action.resourceId })),
    ),

  mark: (clients, action, tagKey) => markEc2(clients, action, tagKey, NOT_FOUND),
  unmark: (clients, action, tagKey) => unmarkEc2(clients, action, tagKey, NOT_FOUND),
};
