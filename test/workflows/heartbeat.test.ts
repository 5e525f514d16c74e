import { Decision, ErrorName, LifecycleState } from '../../shared/constants';
import {
  LAMBDA_TRANSIENT_ERRORS,
  LAMBDA_TRANSIENT_RETRY,
  LEDGER_RETRY,
  retryPausesSeconds,
} from '../../stacks/constructs/retries';
import {
  definitionOf,
  definitionStringOf,
  expectRedrivableCatch,
  synth,
  type StateJson,
  happyPath,
} from '../stacks/synth';

const { template } = synth({ nag: false });
const definition = definitionOf(template, 'heartbeat');
const state = (name: string): StateJson => {
  const found = definition.States[name];
  if (!found) throw new Error(`No state ${name}`);
  return found;
};

test('StartRun is first and hands its decision to Decide', () => {
  expect(definition.StartAt).toBe(LifecycleState.START_RUN);
  expect(state('StartRun')).toMatchObject({ Type: 'Task', Next: 'Decide' });
  // No ResultPath means the result replaces the state. An explicit "$" means the same on AWS, but the local
  // engine would store the result under a "$" key, so the definition must not carry one.
  expect(state('StartRun')).not.toHaveProperty('ResultPath');
  expect(state('StartRun').Parameters).toEqual({
    'executionText.$': 'States.JsonToString($$.Execution)',
    execution: {
      'id.$': '$$.Execution.Id',
      'name.$': '$$.Execution.Name',
      'startTime.$': '$$.Execution.StartTime',
    },
    job: {
      id: 'heartbeat',
      overlap: 'skip',
      // 5 minute timeout + 15 minutes: an expired lease always belongs to a finished execution.
      leaseSeconds: 1200,
      retentionDays: 400,
      destructive: false,
      queueMaxWaitSeconds: 0,
    },
  });
});

const LAMBDA_RETRY_JSON = {
  ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS],
  IntervalSeconds: 2,
  MaxAttempts: 5,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};
const LEDGER_RETRY_JSON = {
  ErrorEquals: [ErrorName.LEDGER_UNAVAILABLE],
  IntervalSeconds: 1,
  MaxAttempts: 7,
  BackoffRate: 2,
  MaxDelaySeconds: 16,
  JitterStrategy: 'FULL',
};

test('StartRun has no Catch and retries Lambda service errors and an unavailable ledger (not LockHeld: the job skips overlaps)', () => {
  expect(state('StartRun').Catch).toBeUndefined();
  expect(state('StartRun').Retry).toEqual([LAMBDA_RETRY_JSON, LEDGER_RETRY_JSON]);
  expect(JSON.stringify(state('StartRun').Retry)).not.toContain(ErrorName.LOCK_HELD);
});

test('the retry pauses are what the comments and docs say: at most 62 s for Lambda, 63 s for the ledger', () => {
  const total = (pauses: number[]) => pauses.reduce((a, b) => a + b, 0);
  expect(retryPausesSeconds(LAMBDA_TRANSIENT_RETRY)).toEqual([2, 4, 8, 16, 32]);
  expect(total(retryPausesSeconds(LAMBDA_TRANSIENT_RETRY))).toBe(62);
  expect(retryPausesSeconds(LEDGER_RETRY)).toEqual([1, 2, 4, 8, 16, 16, 16]);
  expect(total(retryPausesSeconds(LEDGER_RETRY))).toBe(63);
});

test('FinishRun and FailRun retry an unavailable ledger, then still end the execution the way the run went', () => {
  expect(state('FinishRun').Retry).toEqual([LAMBDA_RETRY_JSON, LEDGER_RETRY_JSON]);
  // The steps succeeded: the execution succeeds (the sweep records the run from its output).
  expect(state('FinishRun').Catch).toEqual([
    { ErrorEquals: ['States.ALL'], ResultPath: '$.finishRunError', Next: 'SucceededUnrecorded' },
  ]);
  expect(state('FailRun').Retry).toEqual([LAMBDA_RETRY_JSON, LEDGER_RETRY_JSON]);
  // A step failed and FailRun could not record it: the execution fails with the step's error at $.error (the
  // reconciler records it). FailRun's own failure of the execution after recording is not caught: see below.
  expect(state('FailRun').Catch).toEqual([
    {
      ErrorEquals: ['LedgerUnavailable', ...LAMBDA_TRANSIENT_ERRORS, 'Lambda.Unknown', 'States.Timeout'],
      ResultPath: '$.failRunError',
      Next: 'Failed',
    },
  ]);
});

test('a job step retries a start the ledger could not record (its logic did not run)', () => {
  expect(state('Heartbeat').Retry).toEqual([
    LAMBDA_RETRY_JSON,
    { ...LEDGER_RETRY_JSON, ErrorEquals: [ErrorName.STEP_NOT_STARTED] },
  ]);
});

test('Decide runs the steps on RUN, fails on REJECT and otherwise skips', () => {
  expect(state('Decide')).toEqual({
    Type: 'Choice',
    Choices: [
      { Variable: '$.decision', StringEquals: Decision.RUN, Next: 'Heartbeat' },
      { Variable: '$.decision', StringEquals: Decision.REJECT, Next: 'Rejected' },
    ],
    Default: 'Skipped',
  });
  expect(state('Rejected')).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  expect(state('Skipped')).toEqual({ Type: 'Succeed' });
});

test('Heartbeat gets the step envelope and leads to FinishRun, which ends the execution', () => {
  expect(state('Heartbeat')).toMatchObject({
    Type: 'Task',
    Next: 'FinishRun',
    ResultPath: '$.results.Heartbeat',
    TimeoutSeconds: 60,
    Parameters: {
      'run.$': '$.run',
      step: { name: 'Heartbeat' },
      data: { 'input.$': '$.input', 'results.$': '$.results' },
    },
  });
  expect(state('FinishRun')).toMatchObject({
    Type: 'Task',
    End: true,
    ResultPath: '$.summary',
    Parameters: { 'run.$': '$.run', 'results.$': '$.results' },
  });
  expect(state('FinishRun')).not.toHaveProperty('Next');
  expect(state('SucceededUnrecorded')).toEqual({ Type: 'Succeed' });
});

test('a Heartbeat failure goes to FailRun with the error and the state that failed, where a redrive resumes it', () => {
  expectRedrivableCatch(definition, 'Heartbeat');
  expect(state('FailRun')).toMatchObject({
    Parameters: {
      'run.$': '$.run',
      'error.$': '$.error',
      'failedState.$': '$.failedState',
      redrive: { 'count.$': '$$.Execution.RedriveCount', overlap: 'skip' },
    },
  });
  expect(state('Resume')?.Choices?.map((c) => c.Next)).toEqual(['Heartbeat']);
  // Only when FailRun cannot record (see above) does the execution end in Failed, with the step's error.
  expect(state('Failed')).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  // A redriven step reopens its run: it gets the redrive count and the lock settings.
  expect(state('Heartbeat').Parameters).toMatchObject({
    redrive: { 'count.$': '$$.Execution.RedriveCount', overlap: 'skip', leaseSeconds: expect.any(Number) },
  });
});

test('every Task has a timeout and retries Lambda service errors, throttling included', () => {
  const taskStates = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
  expect(taskStates.map(([name]) => name).sort()).toEqual(['FailRun', 'FinishRun', 'Heartbeat', 'StartRun']);
  for (const [, task] of taskStates) {
    expect(task.TimeoutSeconds).toBeGreaterThan(0);
    expect(task.Retry?.[0]?.ErrorEquals).toEqual([...LAMBDA_TRANSIENT_ERRORS]);
    // payloadResponseOnly: the Resource is the function itself, not the lambda:invoke integration.
    expect(task.Resource).toMatch(/^arn:aws:lambda:.*:function:/);
  }
});

/** Every object key anywhere in a parsed definition. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [key, ...keysOf(child)]);
}

test('the definition is JSONPath only: no JSONata, no QueryLanguage, no Assign', () => {
  const keys = new Set(keysOf(definition));
  for (const jsonataOnly of ['QueryLanguage', 'Assign', 'Arguments', 'Output'])
    expect(keys).not.toContain(jsonataOnly);
  const raw = definitionStringOf(template, 'heartbeat');
  expect(raw).not.toMatch(/JSONata/i);
  expect(raw).not.toContain('{%');
});

test('a successful run passes through at most 3 lifecycle states', () => {
  const lifecycle = new Set<string>(Object.values(LifecycleState));
  const path = happyPath(definition, Decision.RUN);
  expect(path).toEqual(['StartRun', 'Decide', 'Heartbeat', 'FinishRun']);
  const overhead = path.filter((name) => lifecycle.has(name));
  expect(overhead).toEqual(['StartRun', 'Decide', 'FinishRun']);
  expect(overhead.length).toBeLessThanOrEqual(3);
  expect(happyPath(definition, Decision.SKIP)).toEqual(['StartRun', 'Decide', 'Skipped']);
});
