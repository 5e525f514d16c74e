/**
 * The AWS SDK clients of the release job, loaded when first used. A task bundle leaves the SDK to the Lambda
 * runtime, so each `require` of a client package is paid at cold start; the EC2 client alone takes about
 * 160 ms to load. Report never calls AWS, and a Plan whose policy enables only log groups never calls EC2:
 * neither should pay for it. Modules load once per process; types are imported statically (and erased).
 */
import type * as CloudWatchLogs from '@aws-sdk/client-cloudwatch-logs';
import type * as EC2 from '@aws-sdk/client-ec2';
import type * as Tagging from '@aws-sdk/client-resource-groups-tagging-api';
import type * as STS from '@aws-sdk/client-sts';

function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}

/* eslint-disable @typescript-eslint/no-require-imports -- a lazy require is the point (see above) */
export const sdk = {
  ec2: once(() => require('@aws-sdk/client-ec2') as typeof EC2),
  logs: once(() => require('@aws-sdk/client-cloudwatch-logs') as typeof CloudWatchLogs),
  sts: once(() => require('@aws-sdk/client-sts') as typeof STS),
  tagging: once(() => require('@aws-sdk/client-resource-groups-tagging-api') as typeof Tagging),
};
/* eslint-enable @typescript-eslint/no-require-imports */
