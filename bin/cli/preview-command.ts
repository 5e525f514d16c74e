/**
 * `stepjobs preview <expression> | --job <id>`: when a schedule fires, in UTC and in local time, with every
 * slot that will not run listed with its reason (a nonexistent local time at spring-forward, a pause).
 */
import { InvalidScheduleExpression, parseScheduleExpression } from '../../shared/schedule-expression';
import { slots, type SlotPause } from '../../shared/schedule-slots';
import type { JobState } from '../../shared/ledger/items';
import { scheduleStart, type JobDefinition } from '../../workflows/job-definition';
import { CliError, ExitCode } from './errors';
import { table } from './format';
import type { Output } from './output';

export interface PreviewRequest {
  expression: string;
  timeZone: string;
  from: Date;
  count: number;
  start?: Date;
  pause?: SlotPause;
  /** The job previewed, for the heading. */
  jobId?: string;
  json?: boolean;
}

/** The pause a job's state puts on its slots, if it is paused. */
export function pauseOf(state: JobState): SlotPause | undefined {
  if (!state.paused) return undefined;
  return {
    ...(state.pausedAt ? { since: new Date(state.pausedAt) } : {}),
    ...(state.pauseReason ? { reason: state.pauseReason } : {}),
    ...(state.pausedBy ? { by: state.pausedBy } : {}),
    ...(state.pausedUntil ? { until: new Date(state.pausedUntil) } : {}),
  };
}

/** The request for a job: its expression, zone and start date, and its pause. */
export function jobPreview(
  job: JobDefinition,
  state: JobState,
  options: Pick<PreviewRequest, 'from' | 'count' | 'json'>,
): PreviewRequest {
  const start = scheduleStart(job.schedule);
  const pause = pauseOf(state);
  return {
    ...options,
    expression: job.schedule.expression,
    timeZone: job.schedule.timeZone ?? 'UTC',
    jobId: job.id,
    ...(start ? { start } : {}),
    ...(pause ? { pause } : {}),
  };
}

export function previewCommand(io: Output, request: PreviewRequest): number {
  try {
    parseScheduleExpression(request.expression, request.timeZone);
  } catch (error) {
    if (error instanceof InvalidScheduleExpression) throw new CliError(`Cannot preview: ${error.message}`);
    throw error;
  }
  const listed = slots(request, { from: request.from, count: request.count });
  const running = listed.filter((fire) => !fire.skipped).length;
  if (request.json) {
    io.out(
      JSON.stringify(
        {
          fires: listed.map((fire) => ({
            time: fire.time.toISOString(),
            local: fire.local,
            ...(fire.skipped ? { skipped: fire.skipped } : {}),
          })),
        },
        null,
        2,
      ),
    );
    return ExitCode.OK;
  }
  const what = request.jobId ? `${request.jobId}: ${request.expression}` : request.expression;
  io.out(`${what} in ${request.timeZone}, from ${request.from.toISOString()}`);
  io.out(
    table(
      ['UTC', `local (${request.timeZone})`, 'runs'],
      listed.map((fire) => [
        fire.time.toISOString().replace('.000Z', 'Z'),
        fire.local,
        fire.skipped ? `no: ${fire.skipped}` : 'yes',
      ]),
    ),
  );
  if (running < request.count) {
    io.note(
      listed.length === 0
        ? 'No fire from then on.'
        : `Only ${running} of ${request.count} fires run in what was searched (${listed.length - running} skipped).`,
    );
  }
  return ExitCode.OK;
}
