/**
 * Where the digest puts its reports: the job's S3 bucket, with one traced client per endpoint. On AWS the
 * client takes the SDK's defaults (virtual-hosted addresses, the function's role). When an endpoint override is
 * set (`AWS_ENDPOINT_URL_S3`, or `AWS_ENDPOINT_URL` for every service), as local mode sets it for its embedded
 * S3, the client addresses buckets by path: a local server on 127.0.0.1 has no per-bucket host names.
 */
import type * as S3 from '@aws-sdk/client-s3';
import { tracing } from '../../shared/powertools';

let sdk: typeof S3 | undefined;
/**
 * The S3 client package, loaded when the digest first writes: the SDK is left to the Lambda runtime, so each
 * client package is paid for when it is required, and the digest spends its first seconds reading the ledger.
 */
function s3Sdk(): typeof S3 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require is the point
  sdk ??= require('@aws-sdk/client-s3') as typeof S3;
  return sdk;
}

/** What the digest needs of a bucket: write one object. */
export interface ReportWriter {
  put(key: string, body: string, contentType: string): Promise<void>;
}

const clients = new Map<string, S3.S3Client>();

/**
 * The S3 client for the endpoint the SDK will use. The SDK reads the endpoint variables when a client is
 * created, so the endpoint is the cache key: a second embedded S3 in one process (tests) gets its own client.
 */
export function s3Client(): S3.S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? '';
  let client = clients.get(endpoint);
  if (!client) {
    client = tracing.instrument(
      new (s3Sdk().S3Client)({ maxAttempts: 5, ...(endpoint ? { forcePathStyle: true } : {}) }),
      'S3',
    );
    clients.set(endpoint, client);
  }
  return client;
}

/** Writes to `bucket` through `client` (@default {@link s3Client}). */
export function bucketWriter(bucket: string, client?: S3.S3Client): ReportWriter {
  return {
    async put(key, body, contentType) {
      await (client ?? s3Client()).send(
        new (s3Sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    },
  };
}
