/**
 * `stepjobs preview <expression> | --job <id>`: when a schedule fires, in UTC and in local time, with every
 * slot that will not run listed with its reason (a nonexistent local time at spring-forward, a pause).
 */
import { InvalidScheduleExpression, parseScheduleExpression } from '../../shared/schedule-expression';
import { slots } from '../../shared/schedule-slots';
import type { ResolvedCalendar } from '../../shared/calendar';
import type { JobState, PauseInfo } from '../../shared/ledger/items';
import { pauseInfo } from '../../shared/ledger/pause';
import { jobCalendar, scheduleStart, type JobDefinition } from '../../workflows/job-definition';
import { CliError, ExitCode } from './errors';
import { table } from './format';
import type { Output } from './output';

export interface PreviewRequest {
  expression: string;
  timeZone: string;
  from: Date;
  count: number;
  start?: Date;
  pause?: PauseInfo;
  calendar?: ResolvedCalendar;
  /** What the calendar is, for the heading (`DE-BY holidays`, `its calendar`). */
  calendarLabel?: string;
  /** The job previewed, for the heading. */
  jobId?: string;
  json?: boolean;
}

/** The request for a job: its expression, zone and start date, and its pause. */
export function jobPreview(
  job: JobDefinition,
  state: JobState,
  options: Pick<PreviewRequest, 'from' | 'count' | 'json'>,
): PreviewRequest {
  const start = scheduleStart(job.schedule);
  const pause = pauseInfo(state);
  const calendar = jobCalendar(job, options.from);
  return {
    ...options,
    expression: job.schedule.expression,
    timeZone: job.schedule.timeZone ?? 'UTC',
    jobId: job.id,
    ...(start ? { start } : {}),
    ...(pause ? { pause } : {}),
    ...(calendar ? { calendar, calendarLabel: 'its calendar' } : {}),
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
  const calendar = request.calendarLabel ? `, off on ${request.calendarLabel}` : '';
  io.out(`${what} in ${request.timeZone}${calendar}, from ${request.from.toISOString()}`);
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
