/**
 * The sweep's slot check: which scheduled slots of a job never got a delivery, and making them up.
 *
 * 1. The expected slots come from the deployed schedule (`scheduler:GetSchedule`: its state, expression, zone,
 *    start and flexible window), the job's calendar and its pause. A slot is expected once its flexible window
 *    and the job's grace period have passed.
 * 2. The claimed slots are the job's slot items (every delivery claims its slot in StartRun, whatever it then
 *    decides). An expected slot with no claim becomes a MISSED run record, with a deterministic id so a second
 *    sweep does not record it again. The MISSED record does not claim the slot: a late delivery may still run
 *    it, and so may a catch-up.
 * 3. Catch-up (the job's `catchup`): the newest (`latest`) or every (`all`) slot in the catch-up window that is
 *    expected and has no claim, or whose run was SKIPPED because the job was paused, is started as an
 *    execution with `trigger.type = "catchup"` and the slot's time. It goes through StartRun's slot claim, so a
 *    slot never runs twice; unless the job allows overlap, one catch-up is started per job per pass.
 */
import { GetScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { calendarExclusion } from '../../shared/calendar';
import type { JobMachine } from '../../shared/config';
import { RunStatus, TriggerType } from '../../shared/constants';
import type { TaskDeps } from '../../shared/handler';
import { storedJson } from '../../shared/json';
import { epochSeconds } from '../../shared/ledger/dynamo';
import type { JobState, RunRecord } from '../../shared/ledger/items';
import { fires, slotTime } from '../../shared/schedule-expression';
import { logger } from '../../shared/powertools';

/** What the sweep needs to check slots: the Scheduler to read, and Step Functions to start catch-ups. */
export interface SlotCheckDeps extends TaskDeps {
  sfn: SFNClient;
  scheduler: SchedulerClient;
  /** 0 in local mode, where a delivery is never late. */
  graceMs?: number;
}

/** An explicit window of slots to check (local mode, `stepjobs sweep --from --to`), both ends included. */
export interface SlotWindow {
  from: Date;
  to: Date;
}

export interface SlotCheckResult {
  /** Expected slots that were looked at. */
  expected: number;
  /** MISSED runs recorded in this pass. */
  missed: Array<{ jobId: string; scheduledTime: string; runId: string; reason: string }>;
  /** Catch-up executions started in this pass. */
  caughtUp: Array<{ jobId: string; scheduledTime: string; executionName: string }>;
}

/** The deployed schedule, as GetSchedule reports it. */
export interface DeployedSchedule {
  state: 'ENABLED' | 'DISABLED' | 'MISSING';
  expression: string;
  timeZone: string;
  start?: Date;
  created?: Date;
  flexibleWindowMinutes: number;
  /** The target input template, `<aws.scheduler.*>` placeholders still in it. */
  inputTemplate?: string;
}

type MachineSchedule = NonNullable<JobMachine['schedule']>;

/** A first check, with no mark yet, looks back at most this far (and never before the schedule was created). */
const FIRST_LOOKBACK_MS = 86_400_000;
/** At most this many slots per job per pass; the mark moves on from the last one looked at. */
const MAX_SLOTS_PER_PASS = 2000;
export const MISSED_ERROR = 'MissedRun';

export function emptySlotCheck(): SlotCheckResult {
  return { expected: 0, missed: [], caughtUp: [] };
}

/** `missed-<job>-20270101T030000Z`: one id per slot, so recording a slot twice is a no-op. */
export function missedRunId(jobId: string, scheduledTime: string): string {
  return `missed-${jobId}-${scheduledTime.replace(/[-:]/g, '')}`;
}

export async function deployedSchedule(
  scheduler: SchedulerClient,
  schedule: MachineSchedule,
): Promise<DeployedSchedule> {
  const synthesized: DeployedSchedule = {
    state: 'MISSING',
    expression: schedule.expression,
    timeZone: schedule.timeZone,
    flexibleWindowMinutes: schedule.flexibleWindowMinutes,
    ...(schedule.startDate ? { start: new Date(schedule.startDate) } : {}),
  };
  try {
    const got = await scheduler.send(new GetScheduleCommand({ Name: schedule.name }));
    const window = got.FlexibleTimeWindow;
    return {
      state: got.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      expression: got.ScheduleExpression ?? schedule.expression,
      timeZone: got.ScheduleExpressionTimezone ?? 'UTC',
      flexibleWindowMinutes: window?.Mode === 'FLEXIBLE' ? (window.MaximumWindowInMinutes ?? 0) : 0,
      ...(got.StartDate ? { start: got.StartDate } : {}),
      ...(got.CreationDate ? { created: got.CreationDate } : {}),
      ...(got.Target?.Input ? { inputTemplate: got.Target.Input } : {}),
    };
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    return synthesized;
  }
}

/** Whether the job was paused at `at`: by its pause in force, or by the last pause a resume ended. */
export function pausedAt(state: JobState, at: string): boolean {
  if (
    state.paused &&
    (!state.pausedAt || at >= state.pausedAt) &&
    (!state.pausedUntil || at < state.pausedUntil)
  )
    return true;
  const last = state.lastResume;
  const end = last?.pause?.until && last.pause.until < last.at ? last.pause.until : last?.at;
  return Boolean(last?.pause?.at && end && at >= last.pause.at && at < end);
}

/** Check one job's slots; records MISSED runs and starts catch-ups into `result`. */
export async function checkSlots(
  deps: SlotCheckDeps,
  machine: JobMachine,
  state: JobState,
  result: SlotCheckResult,
  window?: SlotWindow,
): Promise<void> {
  const schedule = machine.schedule;
  if (!schedule?.enabled) return;
  const deployed = await deployedSchedule(deps.scheduler, schedule);
  const now = deps.now().getTime();
  const lateMs =
    deps.graceMs === 0 ? 0 : schedule.graceSeconds * 1000 + deployed.flexibleWindowMinutes * 60_000;
  const to = window?.to.getTime() ?? now - lateMs;
  const from =
    window?.from.getTime() ??
    (state.slotsCheckedUntil
      ? Date.parse(state.slotsCheckedUntil) + 1000
      : Math.max(deployed.created?.getTime() ?? 0, now - FIRST_LOOKBACK_MS));
  const catchup = schedule.catchup && schedule.catchup.mode !== 'none' ? schedule.catchup : undefined;
  // Catch-up also looks back over its window (slots a pause skipped, missed slots not yet made up).
  // An explicit window is looked at alone; the periodic pass never looks before the schedule existed.
  const lookFrom =
    catchup && !window
      ? Math.max(Math.min(from, now - catchup.windowSeconds * 1000), deployed.created?.getTime() ?? 0)
      : from;
  if (lookFrom > to) return;

  const all = fires(deployed.expression, deployed.timeZone, {
    from: new Date(lookFrom),
    until: new Date(to),
    limit: MAX_SLOTS_PER_PASS,
    ...(deployed.start ? { start: deployed.start } : {}),
  }).filter((fire) => !fire.skipped && !calendarExclusion(schedule.calendar, fire.time));
  const claims = new Map(
    (
      await deps.ledger.jobs.claimedSlots(machine.jobId, slotTime(new Date(lookFrom)), slotTime(new Date(to)))
    ).map((claim) => [claim.scheduledTime, claim]),
  );
  const reason =
    deployed.state === 'MISSING'
      ? `the schedule ${schedule.name} does not exist (deleted?)`
      : deployed.state === 'DISABLED'
        ? `the schedule ${schedule.name} is disabled while the job is not paused`
        : lateMs === 0
          ? 'no delivery arrived'
          : `no delivery arrived by ${Math.round(lateMs / 60_000)} min after the slot` +
            (deployed.flexibleWindowMinutes
              ? ` (flexible window ${deployed.flexibleWindowMinutes} min included)`
              : '');

  const nowIso = deps.now().toISOString();
  /** Slots that did not run and may be made up: unclaimed, or skipped by a pause that is over. */
  const open = new Set<string>();
  for (const fire of all) {
    const time = slotTime(fire.time);
    const claim = claims.get(time);
    const checkedNow = fire.time.getTime() >= from;
    // Its delivery found the job paused: the claim says so, whenever the pause was. Made up after it.
    if (claim?.openReason === 'paused') open.add(time);
    if (claim?.openReason === 'paused' || pausedAt(state, fire.time.toISOString())) continue;
    if (checkedNow) result.expected += 1;
    if (claim) continue;
    open.add(time);
    if (checkedNow) await recordMissed(deps, machine, time, reason, nowIso, result);
  }
  const checkedTo = all.length >= MAX_SLOTS_PER_PASS ? (all.at(-1)?.time.getTime() ?? to) : to;
  if (!window) await deps.ledger.jobs.setSlotsCheckedUntil(machine.jobId, new Date(checkedTo).toISOString());

  if (!catchup || pausedAt(state, nowIso) || deployed.state !== 'ENABLED') return;
  const windowStart = now - catchup.windowSeconds * 1000;
  const recent = all.filter((fire) => fire.time.getTime() >= windowStart).map((fire) => slotTime(fire.time));
  // `latest`: only the newest slot counts; if it ran, nothing older is made up. `all`: every open slot.
  const chosen =
    catchup.mode === 'latest'
      ? recent.slice(-1).filter((time) => open.has(time))
      : recent.filter((time) => open.has(time));
  // Unless runs may overlap, one at a time: the next pass starts the next.
  const started = machine.overlap === 'allow' ? chosen : chosen.slice(0, 1);
  for (const time of started) await startCatchup(deps, machine, deployed, time, result);
}

async function recordMissed(
  deps: SlotCheckDeps,
  machine: JobMachine,
  scheduledTime: string,
  reason: string,
  nowIso: string,
  result: SlotCheckResult,
): Promise<void> {
  const runId = missedRunId(machine.jobId, scheduledTime);
  const retention = machine.retentionDays ?? 400;
  const record: RunRecord = {
    runId,
    jobId: machine.jobId,
    status: RunStatus.MISSED,
    trigger: { type: TriggerType.SCHEDULE, scheduledTime },
    rawInput: storedJson('', 0),
    inputUnavailable: 'no execution: no delivery of this slot arrived',
    startedAt: new Date(scheduledTime).toISOString(),
    endedAt: nowIso,
    durationMs: 0,
    error: { name: MISSED_ERROR, cause: `Slot ${scheduledTime} did not run: ${reason}` },
    expiresAt: epochSeconds(scheduledTime) + Math.round(retention * 86_400),
    finalizedBy: 'sweep',
  };
  if (!(await deps.ledger.runs.createIfAbsent(record))) return;
  await deps.ledger.jobs.countOutcome(machine.jobId, RunStatus.MISSED, nowIso);
  result.missed.push({ jobId: machine.jobId, scheduledTime, runId, reason });
  logger.warn('A scheduled slot did not run', { jobId: machine.jobId, scheduledTime, reason });
}

/** Start the slot's catch-up execution with the schedule's own input; a name per slot makes it start once. */
async function startCatchup(
  deps: SlotCheckDeps,
  machine: JobMachine,
  deployed: DeployedSchedule,
  scheduledTime: string,
  result: SlotCheckResult,
): Promise<void> {
  const template = deployed.inputTemplate ?? '{}';
  let input: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(
      template
        .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime)
        .replace(/<aws\.scheduler\.[a-z-]+>/g, ''),
    );
    input =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {};
  } catch {
    input = {};
  }
  const executionName = `catchup-${scheduledTime.replace(/[-:]/g, '')}`;
  try {
    await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine.stateMachineArn,
        name: executionName,
        input: JSON.stringify({
          ...input,
          trigger: { type: TriggerType.CATCHUP, scheduledTime, principal: 'stepjobs sweep' },
        }),
      }),
    );
  } catch (error) {
    // Started by an earlier pass: its slot claim decides.
    if ((error as Error).name === 'ExecutionAlreadyExists') return;
    throw error;
  }
  result.caughtUp.push({ jobId: machine.jobId, scheduledTime, executionName });
  logger.info('Started a catch-up run', { jobId: machine.jobId, scheduledTime, executionName });
}
