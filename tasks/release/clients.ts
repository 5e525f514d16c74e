/**
 * The real account's SDK clients for the release job, created once per region, traced, and each created (its
 * SDK package loaded, tasks/release/sdk.ts) only when a task first uses it. Throttling is the normal failure
 * of a job that walks a whole account, so the clients retry hard and adaptively; a throttling error that
 * outlasts these retries becomes a TransientError in the adapters (resources/aws.ts), and the state machine
 * retries the step.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { STSClient } from '@aws-sdk/client-sts';
import { tracing } from '../../shared/powertools';
import type { Clients } from './model';
import { sdk } from './sdk';

/**
 * Attempts per call (the first included), and the adaptive mode: on top of backoff, the client rate-limits
 * itself after a throttling answer, so concurrent apply batches slow down together instead of piling on.
 */
export const RETRY = { maxAttempts: 8, retryMode: 'adaptive' } as const;

const byRegion = new Map<string, Clients>();

/** The traced clients for `region` (@default the SDK's region chain: AWS_REGION in Lambda). */
export function createClients(region?: string): Clients {
  const key = region ?? '(default)';
  let clients = byRegion.get(key);
  if (!clients) {
    const config = { ...RETRY, ...(region ? { region } : {}) };
    let ec2: EC2Client | undefined;
    let logs: CloudWatchLogsClient | undefined;
    let sts: STSClient | undefined;
    let tagging: ResourceGroupsTaggingAPIClient | undefined;
    clients = {
      get ec2() {
        return (ec2 ??= tracing.instrument(new (sdk.ec2().EC2Client)(config), 'EC2'));
      },
      get logs() {
        return (logs ??= tracing.instrument(new (sdk.logs().CloudWatchLogsClient)(config), 'CloudWatchLogs'));
      },
      get sts() {
        return (sts ??= tracing.instrument(new (sdk.sts().STSClient)(config), 'STS'));
      },
      get tagging() {
        return (tagging ??= tracing.instrument(
          new (sdk.tagging().ResourceGroupsTaggingAPIClient)(config),
          'ResourceGroupsTaggingAPI',
        ));
      },
    };
    byRegion.set(key, clients);
  }
  return clients;
}
