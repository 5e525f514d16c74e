/**
 * The real account's SDK clients for the release job, created once per region and traced. Throttling is the
 * normal failure of a job that walks a whole account, so the clients retry hard and adaptively; a throttling
 * error that outlasts these retries becomes a TransientError in the adapters (resources/aws.ts), and the state
 * machine retries the step.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { tracer } from '../../shared/powertools';
import type { Clients } from './model';

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
    clients = {
      ec2: tracer.captureAWSv3Client(new EC2Client(config)),
      logs: tracer.captureAWSv3Client(new CloudWatchLogsClient(config)),
      sts: tracer.captureAWSv3Client(new STSClient(config)),
    };
    byRegion.set(key, clients);
  }
  return clients;
}
