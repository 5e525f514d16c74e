/**
 * The embedded S3: s3rver in-process on 127.0.0.1, on a free port, over a directory of plain files (one folder
 * per bucket, one file per object, with its metadata beside it). Local mode creates the template's buckets in
 * it, and handlers reach it through `AWS_ENDPOINT_URL_S3` with the same dummy credentials as the embedded
 * DynamoDB; their S3 clients address buckets by path.
 *
 * **Shared by processes.** s3rver keeps nothing in memory: every request reads or writes the directory. So each
 * stepjobs process on a data directory runs its own server on its own port over the same `<dataDir>-s3`
 * directory, and what one writes the others list and read at once; no process depends on another staying.
 * Writes of different keys never touch the same file (report keys hold the run id). A listing made while
 * another process is writing an object may see that object half written, as a file system would show it; the
 * next listing sees it whole.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './embedded-dynamodb';

// s3rver accepts requests signed with the access keys of its one account; it does not check V4 signatures, so
// local mode's dummy key only has to be known.
DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);

export interface EmbeddedS3Options {
  /**
   * Where buckets and objects are kept, shared with every other process that uses the same directory.
   * @default a new temporary directory, removed at stop
   */
  directory?: string;
  /** Buckets to create when absent. @default none */
  buckets?: readonly string[];
}

export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_S3`. */
  endpoint: string;
  /** A path-style client for this endpoint with dummy credentials. */
  client: S3Client;
  directory: string;
  /** Close the client and the server (and remove a temporary directory). */
  stop(): Promise<void>;
}

/** The embedded S3's directory for a local DynamoDB data directory: beside it, `<dataDir>-s3`. */
export function s3DataDir(dynamoDataDir: string): string {
  return `${dynamoDataDir.replace(/[\\/]+$/, '')}-s3`;
}

/** An S3 client for an embedded endpoint: path-style addresses, dummy credentials, the local region. */
function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
}

/** Start s3rver on 127.0.0.1 on a free port over `directory`, with `buckets` created. */
export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), 'stepjobs-s3-')));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    // Clients use path-style addresses; a host name is never a bucket here.
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  // Inside s3rver's XML encoder (its second middleware), outside its routes: see listV2ThroughV1.
  server.middleware.splice(2, 0, listV2ThroughV1);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localS3Client(endpoint);
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    client,
    directory,
    stop() {
      stopped ??= (async () => {
        client.destroy();
        await server.close();
        if (temporary) await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** What {@link listV2ThroughV1} reads and writes of a Koa context. */
interface ListingContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface ListBucketResult {
  Marker?: string;
  NextMarker?: string;
  IsTruncated?: boolean;
  Contents?: Array<{ Key: string; Owner?: unknown }>;
  CommonPrefixes?: Array<{ Prefix: string }>;
  [field: string]: unknown;
}

const continuationToken = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const keyOfToken = (token: string) => Buffer.from(token, 'base64url').toString('utf8');

/**
 * ListObjectsV2 paging for s3rver 3.7.1 on Node 24. s3rver makes V2 continuation tokens with DES, which
 * OpenSSL 3 no longer provides (jamhall/s3rver#818), so a V2 listing longer than a page fails with an
 * InternalError. This middleware answers a V2 listing (`list-type=2`) with s3rver's V1 listing, whose
 * `marker` is the key to list after, and writes V2's fields itself: the continuation token is the last key
 * listed (base64url), as opaque to a client as S3's own. The SDK's ListObjectsV2 paging then works locally
 * exactly as on AWS.
 */
async function listV2ThroughV1(ctx: ListingContext, next: () => Promise<void>): Promise<void> {
  const query = ctx.query;
  const isBucketListing = ctx.method === 'GET' && /^\/[^/]+\/?$/.test(ctx.path);
  if (!isBucketListing || query['list-type'] !== '2') return next();
  const {
    'list-type': _v2,
    'continuation-token': token,
    'start-after': startAfter,
    'fetch-owner': fetchOwner,
    ...rest
  } = query;
  const after = typeof token === 'string' ? keyOfToken(token) : startAfter;
  ctx.query = { ...rest, ...(typeof after === 'string' && after ? { marker: after } : {}) };
  await next();
  const result = (ctx.body as { ListBucketResult?: ListBucketResult } | undefined)?.ListBucketResult;
  if (!result) return;
  const { Marker: _marker, NextMarker: nextMarker, ...fields } = result;
  const contents = (fields.Contents ?? []).map((object) =>
    fetchOwner === 'true' ? object : { ...object, Owner: undefined },
  );
  const last = nextMarker ?? contents.at(-1)?.Key;
  ctx.body = {
    ListBucketResult: {
      ...fields,
      Contents: contents,
      KeyCount: contents.length + (fields.CommonPrefixes?.length ?? 0),
      ...(typeof token === 'string' ? { ContinuationToken: token } : { StartAfter: startAfter }),
      ...(fields.IsTruncated && last ? { NextContinuationToken: continuationToken(last) } : {}),
    },
  };
}
