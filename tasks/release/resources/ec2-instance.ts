/**
 * EC2 instances. Idle means expired (the `stepjobs:expires-at` tag, read by the rules); release stops or
 * terminates, as the policy says. Terminated and shutting-down instances are left out of discovery: they are
 * gone, and AWS keeps listing them for about an hour.
 */
import type { EC2Client, Instance } from '@aws-sdk/client-ec2';
import type { FactsByType, Resource, ResourceAdapter } from '../model';
import { call, ec2Arn, hasName, isoOf, mutate, pages, required, tagRecord } from './aws';
import { markEc2, regionOf, tagKeyFilter, unmarkEc2 } from './ec2';
import { sdk } from '../sdk';

const NOT_FOUND = ['InvalidInstanceID.NotFound'];
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/** DescribeInstances allows 5 to 1000. */
const PAGE_SIZE = 1000;

function toResource(instance: Instance, region: string, account: string): Resource {
  const id = required(instance.InstanceId, 'An instance', 'InstanceId');
  const facts: FactsByType['ec2-instance'] = {
    state: required(instance.State?.Name, id, 'State'),
    instanceType: required(instance.InstanceType, id, 'InstanceType'),
    launchTime: isoOf(instance.LaunchTime, id, 'LaunchTime'),
  };
  return {
    type: 'ec2-instance',
    id,
    arn: ec2Arn(region, account, 'instance', id),
    tags: tagRecord(instance.Tags),
    facts,
  };
}

/** The instance's state now, or undefined when AWS no longer knows it. */
async function currentState(ec2: EC2Client, id: string): Promise<string | undefined> {
  try {
    const out = await call('DescribeInstances', () =>
      ec2.send(new (sdk.ec2().DescribeInstancesCommand)({ InstanceIds: [id] })),
    );
    return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
  } catch (error) {
    if (hasName(error, NOT_FOUND)) return undefined;
    throw error;
  }
}

export const ec2Instance: ResourceAdapter = {
  id: 'ec2-instance',

  async *discover({ ec2 }, { tagKeys, startingToken }) {
    const region = await regionOf(ec2);
    const paginator = sdk
      .ec2()
      .paginateDescribeInstances(
        { client: ec2, pageSize: PAGE_SIZE, ...(startingToken ? { startingToken } : {}) },
        { Filters: [tagKeyFilter(tagKeys), { Name: 'instance-state-name', Values: LIVE_STATES }] },
      );
    for await (const page of pages('DescribeInstances', paginator)) {
      const resources = (page.Reservations ?? []).flatMap((reservation) => {
        const account = required(reservation.OwnerId, 'A reservation', 'OwnerId');
        return (reservation.Instances ?? []).map((instance) => toResource(instance, region, account));
      });
      yield { resources, ...(page.NextToken ? { nextToken: page.NextToken } : {}) };
    }
  },

  async release({ ec2 }, action, policy) {
    const InstanceIds = [action.resourceId];
    if (policy.types['ec2-instance'].action === 'terminate') {
      let previous: string | undefined;
      const outcome = await mutate('TerminateInstances', NOT_FOUND, async () => {
        const out = await ec2.send(new (sdk.ec2().TerminateInstancesCommand)({ InstanceIds }));
        previous = out.TerminatingInstances?.[0]?.PreviousState?.Name;
      });
      // Terminating a terminated instance succeeds; it was gone before this run touched it.
      return previous === 'terminated' ? 'ALREADY_GONE' : outcome;
    }
    try {
      // Stopping a stopped (or stopping) instance succeeds: DONE, so a retried action is harmless.
      return await mutate('StopInstances', NOT_FOUND, () =>
        ec2.send(new (sdk.ec2().StopInstancesCommand)({ InstanceIds })),
      );
    } catch (error) {
      if (!hasName(error, ['IncorrectInstanceState'])) throw error;
      // A terminated instance cannot be stopped: it is gone. Any other state (pending) is a real failure.
      const state = await currentState(ec2, action.resourceId);
      if (state === undefined || state === 'terminated' || state === 'shutting-down') return 'ALREADY_GONE';
      throw error;
    }
  },

  mark: (clients, action, tagKey) => markEc2(clients, action, tagKey, NOT_FOUND),
  unmark: (clients, action, tagKey) => unmarkEc2(clients, action, tagKey, NOT_FOUND),
};
