/**
 * The audit digest: once a day, every job's runs of the last day and the last 7 days, summed up from the
 * ledger (runs by status and trigger, missed runs, p50/p95 durations, failures by error, the release job's
 * actions and estimated savings), written as a JSON and a CSV report to the job's report bucket, and sent to
 * people through the notifier with its key figures. See docs/jobs/audit-digest.md.
 *
 *   Digest (read the ledger by index → write the two reports → return a small summary)
 *
 * It only reads the ledger and writes reports: not destructive, and a run that overlaps another is skipped.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { OverlapPolicy } from '../shared/constants';
import { DIGEST_ENV } from '../tasks/audit-digest/config';
import { AuditDigestInput } from '../tasks/audit-digest/input';
import { defineJob } from './job-definition';
import { releaseIdleResources } from './release-idle-resources';

/** The job's id: the first segment of every report key it writes. */
const AUDIT_DIGEST_ID = 'audit-digest';
/** The windows and the report keys' dates follow the schedule's time zone. */
const TIME_ZONE = 'Europe/Berlin';

export const auditDigest = defineJob({
  id: AUDIT_DIGEST_ID,
  description:
    "Writes a daily digest of every job's runs (last day and last 7 days: statuses, triggers, missed runs, p50/p95 durations, failures by error, release actions and savings) as JSON and CSV reports to the report bucket.",
  schedule: { expression: 'cron(0 6 * * ? *)', timeZone: TIME_ZONE, flexibleWindowMinutes: 15 },
  overlap: OverlapPolicy.SKIP,
  timeout: Duration.minutes(20),
  retentionDays: 400,
  input: AuditDigestInput,
  // Failures reach people as for every job; a digest that wrote its reports is CHANGED, so it goes out too.
  notify: {
    on: ['FAILED', 'TIMED_OUT', 'ABORTED', 'MISSED', 'CHANGED'],
    figures: {
      step: 'Digest',
      fields: {
        'runs (last day)': 'lastDay.runs',
        'failures (last day)': 'lastDay.failures',
        'missed (last day)': 'lastDay.missed',
        'runs (7 days)': 'lastWeek.runs',
        'failures (7 days)': 'lastWeek.failures',
        'missed (7 days)': 'lastWeek.missed',
        'released (7 days)': 'release.released',
        'estimated saving (USD/month, 7 days)': 'release.estimatedMonthlySavingUsd',
        report: 'keys.json',
      },
      changed: 'reportsWritten',
    },
  },
  steps: (b) => {
    const reports = b.reportBucket();
    return b.task('Digest', {
      entry: 'tasks/audit-digest/digest.ts',
      // A year of a job every minute is about 10,000 runs a week: about 100 pages of the index per job.
      timeout: Duration.minutes(10),
      memorySize: 512,
      environment: {
        [DIGEST_ENV.BUCKET]: reports.bucketName,
        [DIGEST_ENV.JOB_IDS]: JSON.stringify(b.allJobIds),
        [DIGEST_ENV.TIME_ZONE]: TIME_ZONE,
        ...(b.allJobIds.includes(releaseIdleResources.id)
          ? { [DIGEST_ENV.RELEASE_JOB_ID]: releaseIdleResources.id }
          : {}),
      },
      // Writing its two reports is all it does with the bucket: no read, list, delete or tagging.
      policies: [
        {
          statement: new iam.PolicyStatement({
            sid: 'WriteDigestReports',
            actions: ['s3:PutObject'],
            resources: [reports.arnForObjects(`${AUDIT_DIGEST_ID}/*`)],
          }),
          wildcardReason:
            'Report keys hold the run date and run id (audit-digest/YYYY/MM/DD/<runId>.json), unknown until run time; the wildcard is limited to the audit-digest/ prefix of this one bucket, and the only action is s3:PutObject.',
        },
      ],
    });
  },
});
