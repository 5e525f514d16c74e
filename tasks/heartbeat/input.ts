import * as z from 'zod';

/** Input of the heartbeat job. Everything has a default, so `{}` from the console is a valid run. */
export const HeartbeatInput = z
  .object({
    /** Free text logged with the heartbeat, e.g. who is testing. */
    message: z.string().max(200).default('heartbeat'),
  })
  .strict();
export type HeartbeatInput = z.infer<typeof HeartbeatInput>;
