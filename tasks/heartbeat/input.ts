import * as z from '../../shared/zod';

/** Input of the heartbeat job. Everything has a default, so `{}` from the console is a valid run. */
export const HeartbeatInput = z.strictObject({
  /** Free text logged with the heartbeat, e.g. who is testing. */
  message: z._default(z.string().check(z.maxLength(200)), 'heartbeat'),
});
export type HeartbeatInput = z.infer<typeof HeartbeatInput>;
