/**
 * Adapter tests run against real SDK clients whose `send` is stubbed by aws-sdk-client-mock: each test builds
 * its own clients, so no stub outlives its test. The clients retry once at most (maxAttempts 1), so a throttling
 * error reaches the adapter at once, as it would after the real clients' retries ran out.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ReleasePolicy } from '../../../../tasks/release/input';
import type { Clients, PlannedAction, Resource } from '../../../../tasks/release/model';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export function mockAccount() {
  const config = { region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
  const clients: Clients = {
    ec2: new EC2Client(config),
    logs: new CloudWatchLogsClient(config),
    sts: new STSClient(config),
  };
  return {
    clients,
    ec2: mockClient(clients.ec2),
    logs: mockClient(clients.logs),
    sts: mockClient(clients.sts),
  };
}

/** An error as the SDK throws it for an AWS error code. */
export function awsError(name: string, message = `${name} (test)`): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export async function collect(resources: AsyncIterable<Resource>): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const resource of resources) out.push(resource);
  return out;
}

export function plannedAction(
  overrides: Partial<PlannedAction> & Pick<PlannedAction, 'type' | 'resourceId'>,
): PlannedAction {
  return {
    arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:resource/${overrides.resourceId}`,
    kind: 'release',
    operation: 'release',
    reason: 'test',
    estimatedMonthlySavingUsd: null,
    ...overrides,
  };
}

export function policy(input: unknown = {}): ReleasePolicy {
  return ReleasePolicy.parse(input);
}

export const SELECTOR = { tagKeys: ['stepjobs:release', 'stepjobs:release-after'] };
