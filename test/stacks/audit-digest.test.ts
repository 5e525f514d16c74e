/**
 * The audit digest in the template: its report bucket (encryption, TLS only, no public access, reports expired
 * after the configured retention), the one permission its task has on it, its configuration, its schedule and
 * the stack output the CLI reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { REPO_ROOT } from '../../stacks/constructs/task-function';
import { auditDigest } from '../../workflows/audit-digest';
import { heartbeat } from '../../workflows/heartbeat';
import { defineJob } from '../../workflows/job-definition';
import { jobs } from '../../workflows';
import { DIGEST_ENV } from '../../tasks/audit-digest/config';
import { RELEASE_REPORT_STEP } from '../../tasks/audit-digest/figures';
import { releaseIdleResources } from '../../workflows/release-idle-resources';
import { functionIdOf, list, logicalIdOf, render, roleStatements, synth, type CfnResource } from './synth';

const DIGEST = 'tasks/audit-digest/digest.ts';

function cdkJsonConfig(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: { stepjobs: Record<string, unknown> };
  };
  return { ...cdkJson.context.stepjobs };
}

describe('with the app config of cdk.json', () => {
  const { template } = synth({ nag: false });
  const resources = (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;
  const bucketId = logicalIdOf(template, 'AWS::S3::Bucket', () => true);

  test('one report bucket: S3-managed encryption, all public access blocked, owner-enforced, not versioned', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: Match.absent(),
    });
    expect(resources[bucketId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('reports expire after reportRetentionDays of cdk.json (400)', () => {
    expect(cdkJsonConfig().reportRetentionDays).toBe(400);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Id: 'ExpireReports',
            Status: 'Enabled',
            ExpirationInDays: 400,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
  });

  test('the bucket policy refuses every request without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });

  test('the Digest task may only put objects under audit-digest/ in that bucket', () => {
    const s3 = roleStatements(template, DIGEST).filter((s) =>
      list(s.Action).some((a) => a.startsWith('s3:')),
    );
    expect(
      s3.map((s) => ({ effect: s.Effect, actions: list(s.Action), resources: list(s.Resource).map(render) })),
    ).toEqual([
      { effect: 'Allow', actions: ['s3:PutObject'], resources: [`\${${bucketId}.Arn}/audit-digest/*`] },
    ]);
    // No other function may touch the bucket.
    const others = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        ([, r]) => (r.Properties?.PolicyDocument as { Statement: Array<{ Resource?: unknown }> }).Statement,
      )
      .filter((s) => JSON.stringify(s.Resource ?? '').includes(bucketId));
    expect(others).toHaveLength(1);
  });

  test('the task knows the bucket, every job of the app, its time zone and the release job', () => {
    const fn = resources[functionIdOf(template, DIGEST)];
    const variables = (fn?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      [DIGEST_ENV.BUCKET]: { Ref: bucketId },
      [DIGEST_ENV.JOB_IDS]: JSON.stringify(jobs.map((j) => j.id)),
      [DIGEST_ENV.TIME_ZONE]: 'Europe/Berlin',
      [DIGEST_ENV.RELEASE_JOB_ID]: 'release-idle-resources',
    });
    expect(JSON.parse(String(variables[DIGEST_ENV.JOB_IDS]))).toContain(auditDigest.id);
    // The step whose output the digest reads is the release job's figures step.
    expect(releaseIdleResources.notify?.figures?.step).toBe(RELEASE_REPORT_STEP);
  });

  test('runs daily at 06:00 in Berlin, and is not destructive', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    expect(auditDigest.destructive ?? false).toBe(false);
  });

  test('the stack outputs the bucket name for stepjobs reports --aws', () => {
    template.hasOutput('ReportBucketName', { Value: { Ref: bucketId } });
  });
});

test('reportRetentionDays in the app config sets the expiry; without it, reports are kept 400 days', () => {
  const { reportRetentionDays: _omitted, ...withoutIt } = cdkJsonConfig();
  synth({
    nag: false,
    jobs: [heartbeat, auditDigest],
    context: { stepjobs: withoutIt },
  }).template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 400 })] },
  });
  const { template } = synth({
    nag: false,
    jobs: [heartbeat, auditDigest],
    context: { stepjobs: { ...cdkJsonConfig(), reportRetentionDays: 30 } },
  });
  template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
  });
  expect(() =>
    synth({
      nag: false,
      jobs: [heartbeat, auditDigest],
      context: { stepjobs: { ...cdkJsonConfig(), reportRetentionDays: 0 } },
    }),
  ).toThrow(/"stepjobs\.reportRetentionDays"/);
});

test('an app without a job that writes reports has no bucket and no output', () => {
  const { template } = synth({ nag: false, jobs: [heartbeat] });
  template.resourceCountIs('AWS::S3::Bucket', 0);
  expect(Object.keys(template.findOutputs('ReportBucketName'))).toEqual([]);
});

test('a second job with a report bucket stops synth, naming it', () => {
  const second = defineJob({ ...auditDigest, id: 'second-digest' });
  expect(() =>
    synth({
      nag: false,
      jobs: [auditDigest, second],
      jobInputs: { [auditDigest.id]: auditDigest.input, 'second-digest': auditDigest.input },
    }),
  ).toThrow(/Job "second-digest": steps asks for a report bucket, but job audit-digest has the app's one/);
});
