/** `stepjobs schedule --local`: fire the schedules locally with the Scheduler's exact input. */
import {
  pickDropped,
  simulateRealTime,
  simulateWindow,
  slotsBetween,
  type Delivery,
  type Slot,
} from '../../local/schedule-simulator';
import type { LocalSweepResult } from '../../local/runtime';
import { ExitCode } from './errors';
import type { Output } from './commands';
import { table } from './format';
import type { LocalTarget } from './local-target';

export async function scheduleCommand(
  target: LocalTarget,
  io: Output,
  options: {
    window?: { from: Date; to: Date };
    jobIds?: string[];
    deliverTwice?: boolean;
    /** Drop this many of the window's deliveries, picked from `seed`. */
    drop?: number;
    seed?: number;
    signal?: AbortSignal;
  },
): Promise<number> {
  const runtime = target.runtime;
  const selected = [...runtime.jobs.values()].filter(
    (j) => !options.jobIds || options.jobIds.includes(j.jobId),
  );
  const summary = new Map<string, number>();
  const onDelivery = async (delivery: Delivery) => {
    const run = await runtime.ledger.runs.find(delivery.result.runId);
    const status = run?.status ?? delivery.result.status;
    const label = run?.status === 'SKIPPED' && run.skipReason ? `SKIPPED (${run.skipReason})` : status;
    summary.set(label, (summary.get(label) ?? 0) + 1);
    io.out(
      `${delivery.slot.scheduledTime}  ${delivery.slot.jobId.padEnd(24)} delivery ${delivery.attempt}  ${label.padEnd(20)} ${delivery.result.runId}`,
    );
  };
  const pending: Promise<void>[] = [];
  // Lines come out in slot order: each waits for the one before (a delivery's line reads the ledger first).
  let last: Promise<void> = Promise.resolve();
  const inOrder = (line: () => Promise<void> | void) => {
    last = last.then(line);
    pending.push(last);
  };
  const common = {
    jobs: selected,
    deliverTwice: options.deliverTwice,
    onDelivery: (d: Delivery) => {
      inOrder(() => onDelivery(d));
    },
  };
  if (options.window) {
    const { from, to } = options.window;
    const seed = options.seed ?? 1;
    const drop = options.drop ? pickDropped(slotsBetween(selected, from, to), options.drop, seed) : undefined;
    io.out(
      `Simulated clock ${from.toISOString()} → ${to.toISOString()}` +
        `${options.deliverTwice ? ', every slot delivered twice' : ''}` +
        `${drop ? `, ${drop.size} deliveries dropped (seed ${seed})` : ''}`,
    );
    await simulateWindow(runtime, from, to, {
      ...common,
      ...(drop ? { drop } : {}),
      onDrop: (slot) => {
        inOrder(() => io.out(`${slot.scheduledTime}  ${slot.jobId.padEnd(24)} dropped     (no delivery)`));
      },
    });
    await Promise.all(pending);
    // The sweep at the end of the window: slots no delivery claimed are MISSED, and catch-up makes them up.
    const swept = await runtime.sweep({ from, to, jobIds: selected.map((j) => j.jobId) });
    io.out('');
    io.out(sweepText(swept));
    if (swept.missed.length > 0) summary.set('MISSED', swept.missed.length);
    if (swept.caughtUp.length > 0) summary.set('caught up (catchup runs)', swept.caughtUp.length);
  } else {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    io.out('Real-time schedule simulation; Ctrl-C to stop.');
    try {
      await simulateRealTime(runtime, {
        ...common,
        signal: options.signal ?? controller.signal,
        onWait: (next: Slot) => io.out(`next: ${next.jobId} at ${next.scheduledTime}`),
      });
    } finally {
      process.off('SIGINT', stop);
    }
  }
  await Promise.all(pending);
  io.out('');
  io.out(
    table(
      ['outcome', 'runs'],
      [...summary.entries()].sort().map(([k, v]) => [k, v]),
    ),
  );
  return ExitCode.OK;
}

/** What a slot check found: each MISSED slot and each catch-up started, or that nothing was missed. */
export function sweepText(
  result: Pick<LocalSweepResult, 'missed' | 'caughtUp' | 'expected' | 'notifyError'>,
): string {
  const lines = [`Sweep: ${result.expected} expected slots checked, ${result.missed.length} missed.`];
  for (const missed of result.missed)
    lines.push(`  MISSED     ${missed.scheduledTime}  ${missed.jobId}: ${missed.reason} (${missed.runId})`);
  for (const caught of result.caughtUp)
    lines.push(`  caught up  ${caught.scheduledTime}  ${caught.jobId}: execution ${caught.executionName}`);
  if (result.notifyError) lines.push(`  The run notifier was not told of every run: ${result.notifyError}`);
  return lines.join('\n');
}
