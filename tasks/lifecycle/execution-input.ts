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
  if (trigger.type === TriggerType.SCHEDULE) {
    const problem = !trigger.scheduledTime
      ? 'is required for schedule triggers'
      : Number.isNaN(Date.parse(trigger.scheduledTime))
        ? `is not an ISO date-time: ${trigger.scheduledTime}`
        : undefined;
    if (problem) {
      return {
        raw,
        trigger: MANUAL,
        jobInput,
        issues: [{ path: 'trigger.scheduledTime', message: problem }],
      };
    }
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

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
