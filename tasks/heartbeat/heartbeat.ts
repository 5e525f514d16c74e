/**
 * The heartbeat job's only step. It proves the whole path works (schedule, lifecycle, ledger, logs, metrics)
 * and measures how late the Scheduler delivered: the lag from the scheduled time to the execution start.
 */
import * as z from '../../shared/zod';
import { TriggerType, type RunStatus } from '../../shared/constants';
import { jobStep, type StepContext } from '../../shared/handler';
import { logger, metrics, MetricUnit } from '../../shared/powertools';
import { HeartbeatInput } from './input';

/** The step's `data`: the run's validated input and the results so far (the workflow's default data). */
export const HeartbeatStepData = z.object({
  input: HeartbeatInput,
  results: z.record(z.string(), z.unknown()),
});
export type HeartbeatStepData = z.infer<typeof HeartbeatStepData>;

export interface HeartbeatOutput {
  message: string;
  triggerType: TriggerType;
  /** Milliseconds from the scheduled time to the execution start; null for runs that were not scheduled. */
  lagMs: number | null;
  /** The job's last run to end before this one, of any status (its job state's last run); null for the first. */
  previousRun: { runId: string; status: RunStatus; startedAt: string; endedAt: string | null } | null;
  at: string;
}

export async function heartbeat(data: HeartbeatStepData, ctx: StepContext): Promise<HeartbeatOutput> {
  const { run } = ctx;
  // One read of the job state (its last run), not a page of the history.
  const state = await ctx.ledger.jobs.getState(run.jobId);
  const previous = state.lastRun && state.lastRun.runId !== run.runId ? state.lastRun : undefined;
  const scheduledTime = run.trigger.type === TriggerType.SCHEDULE ? run.trigger.scheduledTime : undefined;
  const lagMs = scheduledTime ? Date.parse(run.startedAt) - Date.parse(scheduledTime) : null;
  const output: HeartbeatOutput = {
    message: data.input.message,
    triggerType: run.trigger.type,
    lagMs,
    previousRun: previous
      ? {
          runId: previous.runId,
          status: previous.status,
          startedAt: previous.startedAt,
          endedAt: previous.endedAt ?? null,
        }
      : null,
    at: ctx.now().toISOString(),
  };
  // `message` is a key Powertools reserves for the log line itself, so the heartbeat's text goes under its own.
  const { message, ...fields } = output;
  logger.info('heartbeat', { ...fields, heartbeatMessage: message });
  metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
  if (lagMs !== null) metrics.addMetric('HeartbeatLagMs', MetricUnit.Milliseconds, lagMs);
  return output;
}

export const handler = jobStep(HeartbeatStepData, heartbeat);
