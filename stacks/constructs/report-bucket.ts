import { Duration, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** How long reports are kept when the app config does not say (cdk.json `reportRetentionDays`). */
export const DEFAULT_REPORT_RETENTION_DAYS = 400;

export interface ReportBucketProps {
  /** An S3 lifecycle rule deletes each report this many days after it was written. */
  readonly retentionDays: number;
}

/**
 * The bucket a job writes its reports to: S3-managed encryption, TLS only (AWS endpoints accept TLS 1.2 or
 * later anyway), every kind of public access blocked, the bucket owner owning every object, and reports
 * expired after a retention. Not versioned: a report key holds its run id, so nothing overwrites a report but a
 * retry of the same run. Retained when the stack is deleted, like the ledger: reports are audit evidence.
 */
export class ReportBucket extends Construct {
  readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ReportBucketProps) {
    super(scope, id);
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireReports',
          expiration: Duration.days(props.retentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the job task writes here (s3:PutObject on this bucket, nothing else) and operators read reports; server access logs would need a log bucket of their own that itself has none. Object-level access is audited with CloudTrail S3 data events where an account enables them.',
    });
    this.bucket = bucket;
  }
}
