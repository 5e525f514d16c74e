/**
 * Input of the release-idle-resources job: whether to act, and the declarative policy. The whole policy is
 * part of the input, so every run record in the ledger keeps the exact policy it ran with. Every field has a
 * safe default; scheduled runs get theirs from the schedule input in workflows/release-idle-resources.ts.
 */
import * as z from 'zod';
import { TAGS } from './tags';

/** Retention values CloudWatch Logs accepts for PutRetentionPolicy. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const enabled = z.boolean().default(true);

export const ReleasePolicy = z
  .object({
    /** Only resources carrying this tag with this value are candidates. */
    optIn: z
      .object({
        tagKey: z.string().min(1).default(TAGS.OPT_IN),
        tagValue: z.string().default(TAGS.OPT_IN_VALUE),
      })
      .strict()
      .prefault({}),
    /** A resource with this tag (any value) is never touched; it wins over the opt-in. */
    protectTagKey: z.string().min(1).default(TAGS.PROTECT),
    /** Days between marking a candidate and releasing it. Fractions allowed (0.5 = 12 hours); 0 releases at once. */
    graceDays: z.number().min(0).max(365).default(7),
    caps: z
      .object({
        /** At most this many releases per resource type per run; above it the run fails before acting. */
        maxReleasesPerType: z.number().int().min(0).default(25),
        /** At most this percentage of the discovered resources of a type per run. */
        maxPercentPerType: z.number().min(0).max(100).default(50),
      })
      .strict()
      .prefault({}),
    /** The run fails when more than this percentage of its actions fail. */
    toleratedFailurePercentage: z.number().min(0).max(100).default(10),
    /** Actions per apply batch (one Map item). */
    batchSize: z.number().int().min(1).max(500).default(100),
    types: z
      .object({
        'ec2-instance': z
          .object({ enabled, action: z.enum(['stop', 'terminate']).default('stop') })
          .strict()
          .prefault({}),
        'ebs-volume': z
          .object({
            enabled,
            /** Unattached (state `available`) for at least this many days. */
            unattachedDays: z.number().int().min(1).default(14),
            /** Snapshot the volume before deleting it. */
            snapshotFirst: z.boolean().default(true),
          })
          .strict()
          .prefault({}),
        'ebs-snapshot': z
          .object({ enabled, retentionDays: z.number().int().min(1).default(90) })
          .strict()
          .prefault({}),
        'elastic-ip': z.object({ enabled }).strict().prefault({}),
        'log-group': z
          .object({
            enabled,
            retentionDays: z
              .number()
              .int()
              .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
                message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
              })
              .default(30),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((policy, ctx) => {
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
  });
export type ReleasePolicy = z.infer<typeof ReleasePolicy>;

export const ReleaseInput = z
  .object({
    /** Plan and record everything, touch nothing. Manual runs default to true; see the job definition. */
    dryRun: z.boolean().default(true),
    policy: ReleasePolicy.prefault({}),
  })
  .strict();
export type ReleaseInput = z.infer<typeof ReleaseInput>;
