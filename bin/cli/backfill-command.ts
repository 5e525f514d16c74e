/**
 * `stepjobs backfill <job> --from T --to T [--dry-run] [--concurrency N] [--input JSON]`: run the job once
 * for each of its expected slots in a window (its schedule's fires, without DST skips and calendar
 * exclusions), locally or on AWS. Each run has `trigger.type = "backfill"` and the slot's time, and goes
 * through StartRun's slot claim: a slot whose run did its work is reported and not run again (so a second
 * backfill of the same window starts nothing), and a slot whose run was SKIPPED (paused, overlapping) is run.
 */
import { OverlapPolicy, RunStatus, TriggerType } from '../../shared/constants';
import { slotTime } from '../../shared/schedule-expression';
import { slots } from '../../shared/schedule-slots';
import { jobCalendar, scheduleStart, type JobDefinition } from '../../workflows/job-definition';
import { exitCodeFor } from './commands';
import { CliError, ExitCode } from './errors';
import { table, zoned } from './format';
import type { Output } from './output';
import type { Target } from './target';

export interface BackfillRequest {
  from: Date;
  to: Date;
  dryRun?: boolean;
  /** Runs at a time. @default 1 */
  concurrency?: number;
  /** Merged over the schedule's own input. */
  input?: Record<string, unknown>;
  json?: boolean;
}

/** One slot of the window and what the backfill does or did about it. */
interface SlotPlan {
  scheduledTime: string;
  local: string;
  /** `run` when a run is (to be) started; else why not. */
  plan: 'run' | 'done' | 'excluded';
  /** The run that already did the slot, or the skipped run a new one replaces. */
  existingRunId?: string;
  existingStatus?: string;
  reason?: string;
  runId?: string;
  status?: string;
}

/** Backfilling more slots than this at once is almost surely a mistake in --from/--to. */
const MAX_SLOTS = 1000;

export async function backfillCommand(
  target: Target,
  job: JobDefinition,
  io: Output,
  request: BackfillRequest,
): Promise<number> {
  if (request.to < request.from) throw new CliError('--to must not be before --from');
  const concurrency = request.concurrency ?? 1;
  const overlap = job.overlap ?? OverlapPolicy.SKIP;
  if (concurrency > 1 && overlap !== OverlapPolicy.ALLOW) {
    throw new CliError(
      `--concurrency ${concurrency}: ${job.id} does not allow overlapping runs (overlap: ${overlap}), so its backfill runs one slot at a time; drop --concurrency`,
    );
  }
  if (!target.jobIds.includes(job.id)) throw new CliError(`Job "${job.id}" is not deployed on this target`);
  const plans = await planSlots(target, job, request);
  const toRun = plans.filter((p) => p.plan === 'run');
  if (request.dryRun) {
    report(io, job, plans, request, true);
    return ExitCode.OK;
  }
  if (!request.json) {
    io.out(
      `Backfilling ${job.id}: ${toRun.length} of ${plans.length} slots to run, ${concurrency} at a time, on ${target.kind === 'local' ? 'the local runtime' : 'AWS'}`,
    );
  }
  const input = { ...(job.schedule.input ?? {}), ...(request.input ?? {}) };
  let next = 0;
  const worker = async () => {
    for (let plan = toRun[next++]; plan; plan = toRun[next++]) {
      const started = await target.startRun({
        jobId: job.id,
        input,
        trigger: { type: TriggerType.BACKFILL, scheduledTime: plan.scheduledTime },
        wait: true,
      });
      plan.runId = started.runId;
      const run = await target.ledger.runs.find(started.runId);
      plan.status = run?.status ?? started.status;
      if (!request.json) io.out(`${plan.scheduledTime}  ${(plan.status ?? '').padEnd(10)} ${plan.runId}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, toRun.length)) }, worker));
  report(io, job, plans, request, false);
  const failed = toRun.filter((p) => exitCodeFor(p.status ?? RunStatus.FAILED) === ExitCode.RUN_FAILED);
  return failed.length > 0 ? ExitCode.RUN_FAILED : ExitCode.OK;
}

/** Every slot of the window, with whether it runs, already ran, or is excluded. */
async function planSlots(target: Target, job: JobDefinition, request: BackfillRequest): Promise<SlotPlan[]> {
  const timeZone = job.schedule.timeZone ?? 'UTC';
  const calendar = jobCalendar(job, request.from);
  const start = scheduleStart(job.schedule);
  const listed = slots(
    {
      expression: job.schedule.expression,
      timeZone,
      ...(start ? { start } : {}),
      ...(calendar ? { calendar } : {}),
    },
    { from: request.from, until: request.to, count: MAX_SLOTS + 1, maxSkipped: MAX_SLOTS },
  );
  const running = listed.filter((fire) => !fire.skipped);
  if (running.length > MAX_SLOTS) {
    throw new CliError(
      `--from/--to: the window holds more than ${MAX_SLOTS} slots of ${job.id}; backfill a shorter window at a time`,
    );
  }
  const claims = new Map(
    (await target.ledger.jobs.claimedSlots(job.id, slotTime(request.from), slotTime(request.to))).map(
      (claim) => [claim.scheduledTime, claim],
    ),
  );
  const plans: SlotPlan[] = [];
  for (const fire of listed) {
    const scheduledTime = slotTime(fire.time);
    const local = zoned(fire.time, timeZone);
    if (fire.skipped) {
      plans.push({ scheduledTime, local, plan: 'excluded', reason: fire.skipped });
      continue;
    }
    const claim = claims.get(scheduledTime);
    const existing = claim && (await target.ledger.runs.find(claim.runId));
    const existingFields = claim
      ? { existingRunId: claim.runId, existingStatus: existing?.status ?? 'RUNNING' }
      : {};
    // A claim whose run skipped the slot is left open: the backfill takes it over.
    if (claim && !claim.openReason) plans.push({ scheduledTime, local, plan: 'done', ...existingFields });
    else plans.push({ scheduledTime, local, plan: 'run', ...existingFields });
  }
  return plans;
}

function report(
  io: Output,
  job: JobDefinition,
  plans: SlotPlan[],
  request: BackfillRequest,
  dryRun: boolean,
) {
  if (request.json) {
    io.out(JSON.stringify({ job: job.id, dryRun, slots: plans }, null, 2));
    return;
  }
  const what = (p: SlotPlan): string => {
    if (p.plan === 'excluded') return `not a slot: ${p.reason ?? ''}`;
    if (p.plan === 'done') return `already ran: ${p.existingRunId} ${p.existingStatus}`;
    const replaces = p.existingRunId ? ` (replaces ${p.existingRunId} ${p.existingStatus})` : '';
    return dryRun ? `would run${replaces}` : `${p.status ?? 'not started'} ${p.runId ?? ''}${replaces}`;
  };
  io.out('');
  io.out(
    table(
      ['slot (UTC)', `local (${job.schedule.timeZone ?? 'UTC'})`, dryRun ? 'backfill would' : 'backfill'],
      plans.map((p) => [p.scheduledTime, p.local, what(p)]),
    ),
  );
  const counts = new Map<string, number>();
  for (const p of plans) {
    const key =
      p.plan === 'run'
        ? dryRun
          ? 'to run'
          : (p.status ?? 'not started')
        : p.plan === 'done'
          ? 'already ran'
          : 'excluded';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  io.out(
    `${dryRun ? 'Dry run, nothing started' : 'Done'}: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ') || 'no slots in the window'}.`,
  );
}
