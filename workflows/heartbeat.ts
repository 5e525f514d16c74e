/**
 * The heartbeat job: one trivial step every 10 minutes. It proves, end to end and cheaply, that the schedule
 * fires, the lifecycle records runs and the ledger answers; a missing heartbeat run means the platform is
 * broken, not a job.
 */
import { Duration } from 'aws-cdk-lib';
import { OverlapPolicy } from '../shared/constants';
import { HeartbeatInput } from '../tasks/heartbeat/input';
import { defineJob } from './job-definition';

export const heartbeat = defineJob({
  id: 'heartbeat',
  description:
    'Records a heartbeat run every 10 minutes, to show that scheduling, the run lifecycle and the ledger work.',
  schedule: { expression: 'rate(10 minutes)', timeZone: 'UTC' },
  // A heartbeat that overlaps another is not news; the next one comes in 10 minutes.
  overlap: OverlapPolicy.SKIP,
  timeout: Duration.minutes(5),
  retentionDays: 400,
  input: HeartbeatInput,
  steps: (builder) => builder.task('Heartbeat', { entry: 'tasks/heartbeat/heartbeat.ts' }),
});
