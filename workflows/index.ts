/** Every job of the app. A job is deployed when it is listed here (and its input registered in job-inputs.ts). */
import { auditDigest } from './audit-digest';
import { heartbeat } from './heartbeat';
import { releaseIdleResources } from './release-idle-resources';
import type { JobDefinition } from './job-definition';

export const jobs: JobDefinition[] = [heartbeat, releaseIdleResources, auditDigest];

/** The job `npm start` (`stepjobs run --main`) runs locally to show the whole path working. */
export const MAIN_JOB_ID: string = releaseIdleResources.id;
