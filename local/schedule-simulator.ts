/**
 * The schedule simulator: fires each job's schedule locally, with the exact input EventBridge Scheduler would
 * send (the synthesized target input with its `<aws.scheduler.*>` context attributes substituted).
 *
 * Fire times come from shared/schedule-expression.ts (croner in the schedule's time zone, DST as Scheduler
 * handles it). Two clocks: a simulated one that runs every slot in [from, to] (both ends included) in order as fast as the runs
 * complete, and real time, which sleeps until each next slot.
 */
import { fireTimes, slotTime } from '../shared/schedule-expression';
import type { ExecutionResult, LocalJob, LocalRuntime, StartOptions } from './runtime';
import { newExecutionName } from './runtime';

export interface Slot {
  jobId: string;
  /** The slot time, as Scheduler formats `<aws.scheduler.scheduled-time>` (UTC, no milliseconds). */
  scheduledTime: string;
}

export interface Delivery {
  slot: Slot;
  attempt: number;
  result: ExecutionResult;
}

/** The input Scheduler sends for a slot: the target input template with its context attributes filled in. */
export function schedulerInput(job: LocalJob, scheduledTime: string, attempt: number): unknown {
  if (!job.schedule) throw new Error(`Job ${job.jobId} has no schedule`);
  const filled = job.schedule.inputTemplate
    .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime)
    .replaceAll('<aws.scheduler.schedule-arn>', job.schedule.arn)
    .replaceAll('<aws.scheduler.attempt-number>', String(attempt))
    .replaceAll('<aws.scheduler.execution-id>', newExecutionName('exec'));
  return JSON.parse(filled);
}

/** The slot as the Scheduler writes it (shared/schedule-expression.ts `slotTime`). */
export const formatScheduledTime = slotTime;

/** Every slot of the selected jobs' enabled schedules in [from, to], in time order. */
export function slotsBetween(jobs: readonly LocalJob[], from: Date, to: Date, max = 10_000): Slot[] {
  const slots: Slot[] = [];
  for (const job of jobs) {
    if (!job.schedule?.enabled) continue;
    const start = job.schedule.startDate === undefined ? undefined : new Date(job.schedule.startDate);
    for (const at of fireTimes(job.schedule.expression, job.schedule.timeZone, from, max, to, start)) {
      slots.push({ jobId: job.jobId, scheduledTime: formatScheduledTime(at) });
    }
  }
  return slots.sort(
    (a, b) => a.scheduledTime.localeCompare(b.scheduledTime) || a.jobId.localeCompare(b.jobId),
  );
}

export interface SimulateOptions {
  jobs: readonly LocalJob[];
  /** Deliver every slot twice, concurrently, as an at-least-once delivery may. */
  deliverTwice?: boolean;
  startOptions?: (slot: Slot, attempt: number) => StartOptions;
  onDelivery?: (delivery: Delivery) => void;
  /** Slots ({@link slotKey}) whose delivery never comes, as when the Scheduler is disabled or loses one. */
  drop?: ReadonlySet<string>;
  onDrop?: (slot: Slot) => void;
}

export function slotKey(slot: Slot): string {
  return `${slot.jobId}@${slot.scheduledTime}`;
}

/**
 * `count` of `slots` picked at random, reproducibly from `seed` (mulberry32, so a seed names the same slots
 * on every machine), for `schedule --local --drop N --seed S`.
 */
export function pickDropped(slots: readonly Slot[], count: number, seed: number): Set<string> {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const keys = slots.map(slotKey);
  // Partial Fisher-Yates: the first `count` places hold the pick.
  for (let i = 0; i < Math.min(count, keys.length); i++) {
    const j = i + Math.floor(random() * (keys.length - i));
    [keys[i], keys[j]] = [keys[j] ?? '', keys[i] ?? ''];
  }
  return new Set(keys.slice(0, count));
}

async function deliver(runtime: LocalRuntime, slot: Slot, options: SimulateOptions): Promise<Delivery[]> {
  const job = runtime.job(slot.jobId);
  const attempts = options.deliverTwice ? [1, 2] : [1];
  const deliveries = await Promise.all(
    attempts.map(async (attempt) => {
      const result = await runtime.run(slot.jobId, schedulerInput(job, slot.scheduledTime, attempt), {
        name: newExecutionName(`sched-${attempt}`),
        ...options.startOptions?.(slot, attempt),
      });
      return { slot, attempt, result };
    }),
  );
  for (const delivery of deliveries) options.onDelivery?.(delivery);
  return deliveries;
}

/** Simulated clock: run every slot in [from, to] in order, each as soon as the previous one completes. */
export async function simulateWindow(
  runtime: LocalRuntime,
  from: Date,
  to: Date,
  options: SimulateOptions,
): Promise<Delivery[]> {
  const out: Delivery[] = [];
  for (const slot of slotsBetween(options.jobs, from, to)) {
    if (options.drop?.has(slotKey(slot))) {
      options.onDrop?.(slot);
      continue;
    }
    out.push(...(await deliver(runtime, slot, options)));
  }
  return out;
}

/** Real time: sleep until each next slot and deliver it, until `signal` aborts. */
export async function simulateRealTime(
  runtime: LocalRuntime,
  options: SimulateOptions & { signal: AbortSignal; onWait?: (next: Slot) => void },
): Promise<void> {
  while (!options.signal.aborted) {
    const now = new Date();
    const next = slotsBetween(options.jobs, now, new Date(now.getTime() + 366 * 86_400_000), 1)[0];
    if (!next) return;
    options.onWait?.(next);
    const wait = Date.parse(next.scheduledTime) - Date.now();
    const slept = await sleep(Math.max(0, wait), options.signal);
    if (!slept) return;
    await deliver(runtime, next, options);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
