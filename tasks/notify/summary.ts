/**
 * The run summary: what a person (or another system) needs to know about a run that ended, built from its run
 * record and, for the job's key figures, one step's output. It is the detail of the "stepjobs Run Finished"
 * event and the source of every message format (formats.ts).
 */
import type { NotifiedJob, NotifyOutcome } from './config';
import { RunStatus, type TriggerType } from '../../shared/constants';
import type { RunRecord, StepRecord } from '../../shared/ledger/items';
import { executionConsoleUrl, principalText, statusText, triggerText } from '../../shared/run-text';

/** The version of the summary's shape; a consumer checks it before reading the rest. */
export const SUMMARY_VERSION = '1';
/** At most this many figures: a summary stays one screen, and far under any channel's size limit. */
export const MAX_FIGURES = 24;
/** An error cause is cut to this many characters in a summary (the ledger keeps it whole). */
export const MAX_CAUSE_CHARS = 600;

export type FigureValue = string | number | boolean;

export interface RunFinishedSummary {
  version: typeof SUMMARY_VERSION;
  runId: string;
  jobId: string;
  status: RunRecord['status'];
  /** The status, or `CHANGED` for a SUCCEEDED run whose figures say it changed something. */
  outcome: NotifyOutcome | RunRecord['status'];
  /** `SKIPPED (paused: …)`, `DUPLICATE of <run>`: the status with what explains it. */
  statusText: string;
  trigger: {
    type: TriggerType;
    /** Who or what started it, in words (`schedule 2027-01-01T00:10:00Z`, `cli (arn:aws:iam::…)`). */
    text: string;
    /** The caller's identity, or `unknown` when Step Functions was not told (a console run). */
    principal: string;
    scheduledTime?: string;
  };
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  error?: { name: string; cause?: string };
  /** The job's key figures, from its `notify.figures` step output. */
  figures?: Record<string, FigureValue>;
  /** Why figures are missing although the job declares them (the step did not run, its output was cut). */
  figuresUnavailable?: string;
  /** What the run changed, by the job's `notify.figures.changed` path; CHANGED when above 0. */
  changed?: number;
  relatedRunId?: string;
  /** How many times the execution was redriven before this end. */
  redriveCount?: number;
  /** What an operator can do about this outcome (a DUPLICATE's way to run the slot again). */
  hint?: string;
  finalizedBy?: string;
  executionArn?: string;
  /** The execution in the Step Functions console. */
  consoleUrl?: string;
  /** The CLI command that shows the whole run. */
  cliCommand: string;
}

/** The CLI command that shows a run recorded on AWS. */
export function showCommand(runId: string): string {
  return `npx stepjobs --aws show ${runId}`;
}

export interface SummaryContext {
  /** The job's notify settings (figures), when it has any. */
  job?: Pick<NotifiedJob, 'figures'>;
  /** The step whose output holds the figures, when the job declares figures and the step ran. */
  figuresStep?: StepRecord;
  /** Where the console links point (the function's own region). */
  region: string;
}

export function buildSummary(run: RunRecord, context: SummaryContext): RunFinishedSummary {
  const figures = run.status === RunStatus.SUCCEEDED ? figuresOf(context) : undefined;
  const changed = figures?.changed;
  const cause = run.error?.cause;
  return {
    version: SUMMARY_VERSION,
    runId: run.runId,
    jobId: run.jobId,
    status: run.status,
    outcome:
      run.status === RunStatus.SUCCEEDED && changed !== undefined && changed > 0 ? 'CHANGED' : run.status,
    statusText: statusText(run),
    trigger: {
      type: run.trigger.type,
      text: triggerText(run),
      principal: principalText(run),
      ...(run.trigger.scheduledTime ? { scheduledTime: run.trigger.scheduledTime } : {}),
    },
    startedAt: run.startedAt,
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    ...(run.durationMs === undefined ? {} : { durationMs: run.durationMs }),
    ...(run.error
      ? {
          error: {
            name: run.error.name,
            ...(cause === undefined
              ? {}
              : {
                  cause: cause.length > MAX_CAUSE_CHARS ? `${cause.slice(0, MAX_CAUSE_CHARS - 1)}…` : cause,
                }),
          },
        }
      : {}),
    ...(figures?.values ? { figures: figures.values } : {}),
    ...(figures?.unavailable ? { figuresUnavailable: figures.unavailable } : {}),
    ...(changed === undefined ? {} : { changed }),
    ...(run.relatedRunId ? { relatedRunId: run.relatedRunId } : {}),
    ...(run.redriveCount ? { redriveCount: run.redriveCount } : {}),
    ...(run.hint ? { hint: run.hint } : {}),
    ...(run.finalizedBy ? { finalizedBy: run.finalizedBy } : {}),
    ...(run.executionArn
      ? { executionArn: run.executionArn, consoleUrl: executionConsoleUrl(run.executionArn, context.region) }
      : {}),
    cliCommand: showCommand(run.runId),
  };
}

interface Figures {
  values?: Record<string, FigureValue>;
  unavailable?: string;
  changed?: number;
}

/** The job's figures from its step's output: each field by its dot path; an object's leaves each become one. */
function figuresOf(context: SummaryContext): Figures | undefined {
  const spec = context.job?.figures;
  if (!spec) return undefined;
  const step = context.figuresStep;
  if (!step?.output) return { unavailable: `step ${spec.step} recorded no output` };
  if (step.output.truncated)
    return { unavailable: `the output of step ${spec.step} was too large to keep whole in the ledger` };
  let output: unknown;
  try {
    output = JSON.parse(step.output.text);
  } catch {
    return { unavailable: `the output of step ${spec.step} is not JSON` };
  }
  const values: Record<string, FigureValue> = {};
  for (const [label, path] of Object.entries(spec.fields)) flatten(values, label, valueAt(output, path));
  const changedValue = spec.changed === undefined ? undefined : valueAt(output, spec.changed);
  const changed = typeof changedValue === 'number' ? changedValue : undefined;
  const entries = Object.entries(values);
  return {
    values: Object.fromEntries(entries.slice(0, MAX_FIGURES)),
    ...(entries.length > MAX_FIGURES
      ? { unavailable: `${entries.length - MAX_FIGURES} more figures left out` }
      : {}),
    ...(changed === undefined ? {} : { changed }),
  };
}

/** The value at a dot path (`totals.released`), or undefined. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function flatten(into: Record<string, FigureValue>, label: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    into[label] = value;
    return;
  }
  if (typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) flatten(into, `${label} ${key}`, child);
}
