/**
 * The input schema of every job, by job id. StartRun validates each run's input against its job's schema;
 * `cdk synth` fails when a job in workflows/ is missing here.
 */
import type * as z from '../../shared/zod';
import { AuditDigestInput } from '../audit-digest/input';
import { HeartbeatInput } from '../heartbeat/input';
import { ReleaseInput } from '../release/input';

export const jobInputs: Readonly<Record<string, z.ZodMiniObject>> = {
  heartbeat: HeartbeatInput,
  'release-idle-resources': ReleaseInput,
  'audit-digest': AuditDigestInput,
};
