/** The simulated STS: who the caller is, which is all the adapters ask. */
import type { Handler } from './requests';

/** The STS commands of account `account`. */
export function stsHandlers(account: string): Record<string, Handler> {
  return {
    GetCallerIdentity: async () => ({
      Account: account,
      Arn: `arn:aws:sts::${account}:assumed-role/stepjobs-local/simulated`,
      UserId: 'AROASIMULATEDACCOUNT:simulated',
    }),
  };
}
