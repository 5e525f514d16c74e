/** `stepjobs simulated-account [--reset]`: what the local release job sees. Local only, and it says so. */
import { SIMULATED_ACCOUNT_TABLE_NAME } from '../../local/simulated-account';
import { readSimulatedAccount } from '../../local/simulated-account';
import type { Output } from './commands';
import { ExitCode } from './errors';
import { table, truncate } from './format';
import type { LocalTarget } from './local-target';

export async function simulatedAccountCommand(
  target: LocalTarget,
  io: Output,
  options: { json?: boolean; reset?: boolean },
): Promise<number> {
  const inventory = await readSimulatedAccount(target.runtime.dynamoClient, SIMULATED_ACCOUNT_TABLE_NAME);
  if (options.json) {
    io.out(JSON.stringify(inventory, null, 2));
    return ExitCode.OK;
  }
  io.out(
    `SIMULATED account (local mode only; nothing here exists in AWS)${options.reset ? ', seeded again' : ''}: ${inventory.length} resources`,
  );
  io.out(
    table(
      ['type', 'id', 'state', 'tags'],
      inventory.map((r) => {
        const record = r as unknown as {
          type: string;
          id: string;
          state?: string;
          tags?: Record<string, string>;
        };
        return [
          record.type,
          record.id,
          record.state ?? '',
          truncate(
            Object.entries(record.tags ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
            80,
          ),
        ];
      }),
    ),
  );
  return ExitCode.OK;
}
