/** `stepjobs actions <runId>` and `stepjobs resource <id>`: what jobs did (or planned) to which resources. */
import type { ActionRecord } from '../../shared/ledger/items';
import type { Output } from './output';
import { CliError, ExitCode } from './errors';
import { shortTime, table, truncate } from './format';
import type { Target } from './target';
import { actionsOf } from '../../shared/ledger/actions-repository';

function money(usd: number | undefined): string {
  return usd === undefined ? '-' : `$${usd.toFixed(2)}`;
}

export function actionsTable(actions: readonly ActionRecord[], withRun = false): string {
  return table(
    [...(withRun ? ['run', 'at (UTC)'] : []), 'type', 'resource', 'action', 'outcome', 'saving/mo', 'reason'],
    actions.map((a) => [
      ...(withRun ? [a.runId, shortTime(a.at)] : []),
      a.resourceType,
      a.resourceId,
      `${a.action}${a.operation && a.operation !== a.action ? ` (${a.operation})` : ''}`,
      `${a.outcome}${a.error ? `: ${truncate(a.error.name, 30)}` : ''}`,
      a.action === 'release' ? money(a.estimatedMonthlySavingUsd) : '',
      a.reason,
    ]),
    // Wrap the reason rather than cut it: it is the answer to "why".
    [...(withRun ? [null, null] : []), null, null, null, null, null, 56],
  );
}

/** Every action of a run. */
export async function actionsCommand(
  target: Target,
  io: Output,
  options: { runId: string; json?: boolean; outcome?: string },
): Promise<number> {
  const run = await target.ledger.runs.find(options.runId);
  if (!run) throw new CliError(`No run "${options.runId}" in the ${target.kind} ledger`);
  const actions: ActionRecord[] = [];
  for await (const action of actionsOf(target.ledger).allByRun(options.runId)) {
    if (!options.outcome || action.outcome === options.outcome.toUpperCase()) actions.push(action);
  }
  if (options.json) {
    io.out(JSON.stringify(actions, null, 2));
    return ExitCode.OK;
  }
  if (actions.length === 0) {
    io.out(
      `Run ${options.runId} (${run.jobId}) recorded no actions${options.outcome ? ` with outcome ${options.outcome}` : ''}.`,
    );
    return ExitCode.OK;
  }
  io.out(`Actions of run ${options.runId} (${run.jobId}, ${run.status}):`);
  io.out(actionsTable(actions));
  return ExitCode.OK;
}

/**
 * Every action carried out on one resource across runs, newest first: "who released vol-123, and when". Dry
 * runs change nothing and are kept per run (`stepjobs actions <runId>`), not per resource.
 */
export async function resourceCommand(
  target: Target,
  io: Output,
  options: { resourceId: string; json?: boolean; limit: number },
): Promise<number> {
  const page = await actionsOf(target.ledger).listByResource(options.resourceId, { limit: options.limit });
  if (options.json) {
    io.out(JSON.stringify(page, null, 2));
    return ExitCode.OK;
  }
  if (page.items.length === 0) {
    io.out(
      `No job has carried out an action on ${options.resourceId}. Dry runs plan without acting and are listed per run: stepjobs actions <runId>.`,
    );
    return ExitCode.OK;
  }
  io.out(
    `Actions carried out on ${options.resourceId}, newest first (dry runs are listed per run: stepjobs actions <runId>):`,
  );
  io.out(actionsTable(page.items, true));
  return ExitCode.OK;
}
