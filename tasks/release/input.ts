/**
 * Input of the release-idle-resources job: whether to act, and the declarative policy. The whole policy is
 * part of the input, so every run record in the ledger keeps the exact policy it ran with. Every field has a
 * safe default; scheduled runs get theirs from the schedule input in workflows/release-idle-resources.ts.
 */
import * as z from '../../shared/zod';
import { TAGS } from './tags';

/** Retention values CloudWatch Logs accepts for PutRetentionPolicy. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const enabled = z._default(z.boolean(), true);

export const ReleasePolicy = z
  .strictObject({
    /** Only resources carrying this tag with this value are candidates. */
    optIn: z.prefault(
      z.strictObject({
        tagKey: z._default(z.string().check(z.minLength(1)), TAGS.OPT_IN),
        tagValue: z._default(z.string(), TAGS.OPT_IN_VALUE),
      }),
      {},
    ),
    /** A resource with this tag (any value) is never touched; it wins over the opt-in. */
    protectTagKey: z._default(z.string().check(z.minLength(1)), TAGS.PROTECT),
    /** Days between marking a candidate and releasing it. Fractions allowed (0.5 = 12 hours); 0 releases at once. */
    graceDays: z._default(z.number().check(z.minimum(0), z.maximum(365)), 7),
    caps: z.prefault(
      z.strictObject({
        /** At most this many releases per resource type per run; above it the run fails before acting. */
        maxReleasesPerType: z._default(z.int().check(z.minimum(0)), 25),
        /** At most this percentage of the discovered resources of a type per run. */
        maxPercentPerType: z._default(z.number().check(z.minimum(0), z.maximum(100)), 50),
      }),
      {},
    ),
    /** The run fails when more than this percentage of its actions fail. */
    toleratedFailurePercentage: z._default(z.number().check(z.minimum(0), z.maximum(100)), 10),
    /** Actions per apply batch (one Map item). */
    batchSize: z._default(z.int().check(z.minimum(1), z.maximum(500)), 100),
    types: z.prefault(
      z.strictObject({
        'ec2-instance': z.prefault(
          z.strictObject({ enabled, action: z._default(z.enum(['stop', 'terminate']), 'stop') }),
          {},
        ),
        'ebs-volume': z.prefault(
          z.strictObject({
            enabled,
            /** Unattached (state `available`) for at least this many days. */
            unattachedDays: z._default(z.int().check(z.minimum(1)), 14),
            /** Snapshot the volume before deleting it. */
            snapshotFirst: z._default(z.boolean(), true),
          }),
          {},
        ),
        'ebs-snapshot': z.prefault(
          z.strictObject({ enabled, retentionDays: z._default(z.int().check(z.minimum(1)), 90) }),
          {},
        ),
        'elastic-ip': z.prefault(z.strictObject({ enabled }), {}),
        'log-group': z.prefault(
          z.strictObject({
            enabled,
            retentionDays: z._default(
              z.int().check(
                z.refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
                  message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
                }),
              ),
              30,
            ),
          }),
          {},
        ),
      }),
      {},
    ),
  })
  .check(
    z.superRefine((policy, ctx) => {
      // The job writes and removes the release-after tag itself; using it as the opt-in or protect key would
      // make every run undo the previous one.
      for (const [path, key] of [
        [['optIn', 'tagKey'], policy.optIn.tagKey],
        [['protectTagKey'], policy.protectTagKey],
      ] as const) {
        if (key === TAGS.RELEASE_AFTER) {
          ctx.addIssue({
            code: 'custom',
            path: [...path],
            message: `must not be ${TAGS.RELEASE_AFTER}, the job's own mark tag`,
          });
        }
      }
      if (policy.optIn.tagKey === policy.protectTagKey) {
        ctx.addIssue({ code: 'custom', path: ['protectTagKey'], message: 'must differ from optIn.tagKey' });
      }
    }),
  );
export type ReleasePolicy = z.infer<typeof ReleasePolicy>;

export const ReleaseInput = z.strictObject({
  /** Plan and record everything, touch nothing. Manual runs default to true; see the job definition. */
  dryRun: z._default(z.boolean(), true),
  policy: z.prefault(ReleasePolicy, {}),
});
export type ReleaseInput = z.infer<typeof ReleaseInput>;
