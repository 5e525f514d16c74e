/**
 * `stepjobs rerun` and `stepjobs redrive`: running a run's work again.
 * - rerun starts a NEW run of the same job with the same input (unless `--input` says otherwise):
 *   `trigger.type = "rerun"`, `relatedRunId` naming the run it reruns. Locally and with `--aws`.
 * - redrive asks Step Functions to restart the SAME execution from the state that failed (RedriveExecution),
 *   which reopens the same run. AWS only: the local engine has no redrive.
 */
import { FINAL_RUN_STATUSES, RunStatus, TriggerType } from '../../shared/constants';
import { RunNotFound } from '../../shared/errors';
import type { RunRecord } from '../../shared/ledger/items';
import type { JobDefinition } from '../../workflows/job-definition';
import { jobDefinition, reportRun, runCommand } from './commands';
import { CliError } from './errors';
import type { Output } from './output';
import { parseJsonLossless } from './parse';
import { progressLine } from './progress';
import type { Target } from './target';

/** Step Functions redrives executions that ended in the last 14 days. */
const REDRIVE_WINDOW_MS = 14 * 86_400_000;
/** The run statuses whose execution Step Functions can redrive. */
const REDRIVABLE: readonly RunStatus[] = [RunStatus.FAILED, RunStatus.ABORTED, RunStatus.TIMED_OUT];

async function runOf(target: Target, runId: string): Promise<RunRecord> {
  try {
    return (await target.ledger.runs.detail(runId)).run;
  } catch (error) {
    if (error instanceof RunNotFound)
      throw new CliError(
        `No run "${runId}" in the ${target.kind} ledger (stepjobs history <job> lists runs)`,
      );
    throw error;
  }
}

/**
 * The input a run was started with, as the caller sent it, without its trigger (the rerun has its own). Read
 * from the ledger's whole copy, keeping every number's digits.
 */
function originalInput(run: RunRecord): Record<string, unknown> {
  if (run.rawInput.truncated) {
    throw new CliError(
      `Run ${run.runId}'s input was ${run.rawInput.bytes} bytes and the ledger kept only part of it; give the input with --input`,
    );
  }
  const value = parseJsonLossless(run.rawInput.text, `the input of run ${run.runId}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(
      `Run ${run.runId} was started with an input that is not a JSON object; give one with --input`,
    );
  }
  const { trigger: _trigger, ...input } = value as Record<string, unknown>;
  return input;
}

export async function rerunCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: {
    runId: string;
    /** `--input`/`--input-file`, already parsed; replaces the original input. */
    input?: Record<string, unknown>;
    wait: boolean;
    json?: boolean;
    showRecord?: boolean;
  },
): Promise<number> {
  const run = await runOf(target, options.runId);
  if (run.status === RunStatus.RUNNING)
    throw new CliError(`Run ${run.runId} is still RUNNING; rerun it once it has ended`);
  const input = options.input ?? originalInput(run);
  if (!options.json) io.out(`Rerunning ${run.runId} (${run.status}) of ${run.jobId} as a new run…`);
  return runCommand(target, jobs, io, {
    jobId: run.jobId,
    input,
    wait: options.wait,
    json: options.json,
    showRecord: options.showRecord,
    trigger: { type: TriggerType.RERUN, relatedRunId: run.runId },
  });
}

/** Refused before anything opens (bin/stepjobs.ts) and, for other callers, by {@link redriveCommand}. */
export function noRedriveLocally(runId: string): string {
  return `Local mode cannot redrive: its engine has no redrive. Run the work again as a new run: stepjobs rerun ${runId}`;
}

export async function redriveCommand(
  target: Target,
  jobs: readonly JobDefinition[],
  io: Output,
  options: { runId: string; wait: boolean; json?: boolean; showRecord?: boolean; now?: Date },
): Promise<number> {
  if (!target.redrive) throw new CliError(noRedriveLocally(options.runId));
  const run = await runOf(target, options.runId);
  if (!run.executionArn) {
    throw new CliError(
      `Run ${run.runId} is ${run.status} and has no execution to redrive; stepjobs backfill or rerun runs its slot`,
    );
  }
  if (!REDRIVABLE.includes(run.status)) {
    const why = FINAL_RUN_STATUSES.includes(run.status)
      ? `${run.status}: only a FAILED, ABORTED or TIMED_OUT run's execution can be redriven`
      : 'still RUNNING';
    throw new CliError(`Run ${run.runId} is ${why}`);
  }
  const ended = Date.parse(run.endedAt ?? run.startedAt);
  if ((options.now ?? new Date()).getTime() - ended > REDRIVE_WINDOW_MS) {
    throw new CliError(
      `Run ${run.runId} ended more than 14 days ago, beyond Step Functions' redrive window; stepjobs rerun ${run.runId} starts it again as a new run`,
    );
  }
  const job = jobDefinition(jobs, run.jobId);
  if (!options.json)
    io.out(`Redriving ${run.runId} (${run.status}): Step Functions restarts it from the state that failed…`);
  const started = await target.redrive(run.executionArn, {
    wait: options.wait,
    onStarted: options.json
      ? undefined
      : (r) => io.out(`Redriven ${r.runId}; following it (Ctrl-C stops following, not the run)`),
    onProgress: options.json ? undefined : (event) => io.out(progressLine(event)),
  });
  return reportRun(target, job, io, started, options);
}
