/** `stepjobs schedule --local`: fire the schedules locally with the Scheduler's exact input. */
import { simulateRealTime, simulateWindow, type Delivery, type Slot } from '../../local/schedule-simulator';
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
  const common = {
    jobs: selected,
    deliverTwice: options.deliverTwice,
    onDelivery: (d: Delivery) => {
      pending.push(onDelivery(d));
    },
  };
  if (options.window) {
    io.out(
      `Simulated clock ${options.window.from.toISOString()} → ${options.window.to.toISOString()}` +
        `${options.deliverTwice ? ', every slot delivered twice' : ''}`,
    );
    await simulateWindow(runtime, options.window.from, options.window.to, common);
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
