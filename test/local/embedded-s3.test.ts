import {
  GetObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { s3DataDir, startEmbeddedS3, type EmbeddedS3 } from '../../local/embedded-s3';
import { buckets, localBucketName, resolve, type CfnTemplate } from '../../local/template';

const dirs: string[] = [];
const servers: EmbeddedS3[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function started(options: Parameters<typeof startEmbeddedS3>[0]): Promise<EmbeddedS3> {
  const s3 = await startEmbeddedS3(options);
  servers.push(s3);
  return s3;
}

const text = async (s3: EmbeddedS3, Bucket: string, Key: string) =>
  (await (await s3.client.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString()) ?? '';

test('serves the buckets it was given, over a temporary directory it removes at stop', async () => {
  const s3 = await startEmbeddedS3({ buckets: ['reports'] });
  expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await s3.client.send(new PutObjectCommand({ Bucket: 'reports', Key: 'a/b/c.json', Body: '{"ü":1}' }));
  expect(await text(s3, 'reports', 'a/b/c.json')).toBe('{"ü":1}');
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'reports', Prefix: 'a/' }));
  expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([['a/b/c.json', 8]]);
  await s3.stop();
  expect(existsSync(s3.directory)).toBe(false);
});

test('servers of several processes share one directory: what one writes, the others list and read at once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stepjobs-s3-test-'));
  dirs.push(dir);
  const directory = s3DataDir(path.join(dir, 'dynamodb'));
  expect(directory).toBe(path.join(dir, 'dynamodb-s3'));
  // Each process starts its own server on its own port; creating a bucket that exists is harmless.
  const [one, two] = await Promise.all([
    started({ directory, buckets: ['reports'] }),
    started({ directory, buckets: ['reports'] }),
  ]);
  expect(one.endpoint).not.toBe(two.endpoint);
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? one : two).client.send(
        new PutObjectCommand({ Bucket: 'reports', Key: `job/run-${i}.json`, Body: `{"run":${i}}` }),
      ),
    ),
  );
  for (const s3 of [one, two]) {
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'reports' }));
    expect(listed.Contents?.map((o) => o.Key)).toHaveLength(10);
    expect(await text(s3, 'reports', 'job/run-3.json')).toBe('{"run":3}');
  }
  // The data outlives both servers: a later process finds it.
  await one.stop();
  await two.stop();
  const later = await started({ directory });
  expect(await text(later, 'reports', 'job/run-8.json')).toBe('{"run":8}');
  expect(existsSync(directory)).toBe(true);
});

test('pages ListObjectsV2 with continuation tokens (s3rver 3.7.1 cannot on Node 24 by itself: DES)', async () => {
  const s3 = await started({ buckets: ['reports'] });
  for (let i = 0; i < 7; i += 1)
    await s3.client.send(new PutObjectCommand({ Bucket: 'reports', Key: `k-${i}`, Body: 'x' }));
  const first = await s3.client.send(new ListObjectsV2Command({ Bucket: 'reports', MaxKeys: 5 }));
  expect(first.Contents).toHaveLength(5);
  expect(first.IsTruncated).toBe(true);
  const rest = await s3.client.send(
    new ListObjectsV2Command({
      Bucket: 'reports',
      MaxKeys: 5,
      ContinuationToken: first.NextContinuationToken,
    }),
  );
  expect(rest.Contents?.map((o) => o.Key)).toEqual(['k-5', 'k-6']);
  expect(rest).toMatchObject({ IsTruncated: false, KeyCount: 2 });
  expect(rest.NextContinuationToken).toBeUndefined();
  const after = await s3.client.send(new ListObjectsV2Command({ Bucket: 'reports', StartAfter: 'k-4' }));
  expect(after.Contents?.map((o) => o.Key)).toEqual(['k-5', 'k-6']);
  // The SDK's own paginator, as the CLI's listing pages: every key once, in order.
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client, pageSize: 3 }, { Bucket: 'reports' }))
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
  expect(keys).toEqual(['k-0', 'k-1', 'k-2', 'k-3', 'k-4', 'k-5', 'k-6']);
});

test('a template bucket gets a valid local S3 name, which Ref and GetAtt resolve to', () => {
  const template: CfnTemplate = {
    Resources: { AuditDigestJobReportsBucket9C4BBBA7: { Type: 'AWS::S3::Bucket' } },
  };
  expect(buckets(template)).toEqual(['auditdigestjobreportsbucket9c4bbba7']);
  expect(resolve(template, { Ref: 'AuditDigestJobReportsBucket9C4BBBA7' })).toBe(
    'auditdigestjobreportsbucket9c4bbba7',
  );
  expect(resolve(template, { 'Fn::GetAtt': ['AuditDigestJobReportsBucket9C4BBBA7', 'Arn'] })).toBe(
    'arn:aws:s3:::auditdigestjobreportsbucket9c4bbba7',
  );
  const long = localBucketName(`${'Very'.repeat(20)}LongBucketABCDEF12`);
  expect(long).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
  expect(long.endsWith('abcdef12')).toBe(true);
});
