/**
 * Where the digest puts its reports: the job's S3 bucket, with one traced client per endpoint. On AWS the
 * client takes the SDK's defaults (virtual-hosted addresses, the function's role). When an endpoint override is
 * set (`AWS_ENDPOINT_URL_S3`, or `AWS_ENDPOINT_URL` for every service), as local mode sets it for its embedded
 * S3, the client addresses buckets by path: a local server on 127.0.0.1 has no per-bucket host names.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tracing } from '../../shared/powertools';

/** What the digest needs of a bucket: write one object. */
export interface ReportWriter {
  put(key: string, body: string, contentType: string): Promise<void>;
}

const clients = new Map<string, S3Client>();

/**
 * The S3 client for the endpoint the SDK will use. The SDK reads the endpoint variables when a client is
 * created, so the endpoint is the cache key: a second embedded S3 in one process (tests) gets its own client.
 */
export function s3Client(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? '';
  let client = clients.get(endpoint);
  if (!client) {
    client = tracing.instrument(
      new S3Client({ maxAttempts: 5, ...(endpoint ? { forcePathStyle: true } : {}) }),
      'S3',
    );
    clients.set(endpoint, client);
  }
  return client;
}

/** Writes to `bucket` through `client` (@default {@link s3Client}). */
export function bucketWriter(bucket: string, client: S3Client = s3Client()): ReportWriter {
  return {
    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    },
  };
}
