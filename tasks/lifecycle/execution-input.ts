/**
 * Reading an execution input, whatever it holds. StartRun reads the input it is given; the reconciler and the
 * sweep read the input Step Functions reports for an execution StartRun never recorded. Both keep the raw
 * text (I4: nothing the caller sent is lost) and split off the trigger the same way.
 */
import { MAX_JOB_INPUT_DEPTH, STORED_RAW_INPUT_BYTES, TriggerType } from '../../shared/constants';
import { Trigger } from '../../shared/contracts';
import type { FieldIssue } from '../../shared/errors';
import { fieldPath, pathDeeperThan, storedJson, type StoredJson } from '../../shared/json';
import { fieldIssues } from '../../shared/validation';

export type JsonObject = Record<string, unknown>;

export interface ExecutionInput {
  /** The input text exactly as received (the repository cuts it for the run item). */
  raw: StoredJson;
  /** The trigger, or `manual` when there is none or it is unusable (then it stays in the raw input). */
  trigger: Trigger;
  /** The input without its trigger; `{}` when the input is not a usable object. */
  jobInput: JsonObject;
  /** What is wrong with the input or its trigger; empty when both are usable. */
  issues: FieldIssue[];
}

const MANUAL: Trigger = { type: TriggerType.MANUAL };

/**
 * Split an execution input (JSON text) into its trigger and the job input. Never throws: input that is not
 * JSON, not an object, nested too deep or with an unusable trigger comes back with `issues`, and its raw text.
 */
export function readExecutionInput(text: string): ExecutionInput {
  const raw = storedJson(text, STORED_RAW_INPUT_BYTES);
  const invalid = (issue: FieldIssue): ExecutionInput => ({
    raw,
    trigger: MANUAL,
    jobInput: {},
    issues: [issue],
  });
  let value: unknown;
  try {
    // JSON.parse does not recurse, so no nesting is too deep for it; everything after the depth check may.
    value = JSON.parse(text);
  } catch {
    return invalid({ path: '(root)', message: 'is not JSON' });
  }
  if (!isJsonObject(value)) {
    return invalid({ path: '(root)', message: `must be a JSON object, got ${jsonType(value)}` });
  }
  // Rest properties copy own keys as data properties, so a `__proto__` key stays a key (validation names it).
  const { trigger: rawTrigger, ...jobInput } = value;
  // The trigger's fields are flat: its schema rejects a nested value without descending into it.
  const parsed = rawTrigger === undefined ? undefined : Trigger.safeParse(rawTrigger);
  const trigger = parsed?.success ? parsed.data : MANUAL;
  const issues: FieldIssue[] = parsed && !parsed.success ? fieldIssues(parsed.error, ['trigger']) : [];
  const problem = slotProblem(trigger);
  if (problem) {
    return { raw, trigger: MANUAL, jobInput, issues: [{ path: 'trigger.scheduledTime', message: problem }] };
  }
  if (trigger.type === TriggerType.RERUN && !trigger.relatedRunId) {
    return {
      raw,
      trigger: MANUAL,
      jobInput,
      issues: [
        { path: 'trigger.relatedRunId', message: 'is required for rerun triggers (the run it reruns)' },
      ],
    };
  }
  const deep = pathDeeperThan(jobInput, MAX_JOB_INPUT_DEPTH);
  if (deep) {
    issues.push({
      path: fieldPath(deep),
      message: `nests objects or arrays deeper than ${MAX_JOB_INPUT_DEPTH} levels`,
    });
  }
  return { raw, trigger, jobInput: deep ? {} : jobInput, issues };
}

/** The triggers that run a scheduled slot, and so claim it: each must name its slot. */
export const SLOT_TRIGGERS: readonly TriggerType[] = [
  TriggerType.SCHEDULE,
  TriggerType.CATCHUP,
  TriggerType.BACKFILL,
];

/** A slot as the Scheduler writes `<aws.scheduler.scheduled-time>`: UTC, whole seconds. */
const SLOT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * What is wrong with a slot trigger's scheduledTime. The Scheduler's own is taken as it comes; catch-up and
 * backfill runs must write the slot exactly as the Scheduler does, or their claim would name another slot.
 */
function slotProblem(trigger: Trigger): string | undefined {
  if (!SLOT_TRIGGERS.includes(trigger.type)) return undefined;
  const time = trigger.scheduledTime;
  if (!time) return `is required for ${trigger.type} triggers`;
  if (Number.isNaN(Date.parse(time))) return `is not an ISO date-time: ${time}`;
  if (trigger.type !== TriggerType.SCHEDULE && !SLOT_TIME.test(time))
    return `must be a UTC time in whole seconds like 2027-01-01T03:00:00Z for ${trigger.type} triggers (got ${time})`;
  return undefined;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
