import * as z from '../../shared/zod';

/**
 * Input of the audit digest. Everything has a default, so `{}` from the console (and the schedule) is a valid
 * run: the windows then end at the scheduled time of the run's slot, or at the run's start for a manual run.
 */
export const AuditDigestInput = z.strictObject({
  /**
   * End of the windows (exclusive), as an ISO time with its offset: digest a past day again, e.g.
   * `{"until":"2027-01-10T05:00:00Z"}`. @default the slot's scheduled time, else the run's start
   */
  until: z.optional(z.iso.datetime({ offset: true })),
});
export type AuditDigestInput = z.infer<typeof AuditDigestInput>;
