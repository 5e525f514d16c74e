/**
 * The release job's state machine, read from the synthesized definition: the run lifecycle around
 * Plan → Apply (a Distributed Map over stored plan batches) → Report, with every failure caught to FailRun and
 * nothing the local engine would silently ignore. The job runs end to end in test/e2e/release-idle-resources.
 */
import { Decision, ErrorName, LifecycleState } from '../../shared/constants';
import { ApplyBatchData } from '../../tasks/release/apply-batch';
import { ReleaseInput } from '../../tasks/release/input';
import { releaseIdleResources } from '../../workflows/release-idle-resources';
import {
  definitionOf,
  definitionStringOf,
  stateMachineIdOf,
  synth,
  type StateJson,
  happyPath,
  expectRedrivableCatch,
} from '../stacks/synth';

const JOB_ID = releaseIdleResources.id;
const { template } = synth({ nag: false });
const definition = definitionOf(template, JOB_ID);

/** What a Distributed Map state carries beyond the fields of {@link StateJson}. */
interface MapStateJson extends StateJson {
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  MaxConcurrency?: number;
  ToleratedFailurePercentagePath?: string;
  ItemProcessor?: StateJson['ItemProcessor'] & {
    ProcessorConfig?: { Mode?: string; ExecutionType?: string };
  };
}

function stateIn(states: Record<string, StateJson>, name: string): MapStateJson {
  const found = states[name];
  if (!found) throw new Error(`No state ${name}`);
  return found;
}
const state = (name: string) => stateIn(definition.States, name);
const applyBatch = () => stateIn(state('Apply').ItemProcessor?.States ?? {}, 'ApplyBatch');

/** Every Task state, the ones inside Map item processors included, by name. */
function taskStates(states: Record<string, StateJson>): Array<[string, StateJson]> {
  return Object.entries(states).flatMap(([name, s]): Array<[string, StateJson]> => [
    ...(s.Type === 'Task' ? [[name, s] as [string, StateJson]] : []),
    ...(s.ItemProcessor ? taskStates(s.ItemProcessor.States) : []),
  ]);
}

/** Every object key anywhere in a parsed definition. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [key, ...keysOf(child)]);
}

test('a run goes StartRun → Decide → PlanStart → Plan (looping through Planned) → Apply → Report → FinishRun', () => {
  expect(definition.StartAt).toBe(LifecycleState.START_RUN);
  expect(happyPath(definition, Decision.RUN)).toEqual([
    'StartRun',
    'Decide',
    'PlanStart',
    'Plan',
    'Planned',
    'Apply',
    'Report',
    'FinishRun',
  ]);
  expect(state('Decide').Choices).toContainEqual({
    Variable: '$.decision',
    StringEquals: Decision.RUN,
    Next: 'PlanStart',
  });
  // Plan is invoked again until it says it is done; each invocation is its own step item.
  expect(state('PlanStart')).toMatchObject({
    Type: 'Pass',
    Result: { done: false, invocations: 0 },
    ResultPath: '$.results.Plan',
    Next: 'Plan',
  });
  expect(state('Planned')).toMatchObject({
    Type: 'Choice',
    Choices: [{ Variable: '$.results.Plan.done', BooleanEquals: false, Next: 'Plan' }],
    Default: 'Apply',
  });
  expect(happyPath(definition, Decision.REJECT)).toEqual(['StartRun', 'Decide', 'Rejected']);
  expect(happyPath(definition, Decision.SKIP)).toEqual(['StartRun', 'Decide', 'Skipped']);
});

test.each(['Plan', 'Apply', 'Report'])(
  '%s is caught to FailRun, which fails the execution, and a redrive resumes it',
  (name) => {
    expectRedrivableCatch(definition, name);
    expect(state('Failed')).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  },
);

test('Plan gets the validated input, retries TransientError, and leaves its output at $.results.Plan', () => {
  expect(state('Plan')).toMatchObject({
    Type: 'Task',
    Next: 'Planned',
    ResultPath: '$.results.Plan',
    TimeoutSeconds: 600,
    Parameters: {
      'run.$': '$.run',
      step: { name: 'Plan', 'itemIndex.$': '$.results.Plan.invocations' },
      data: { 'input.$': '$.input', 'results.$': '$.results' },
    },
  });
  expect(state('Plan').Retry).toContainEqual(
    expect.objectContaining({ ErrorEquals: [ErrorName.TRANSIENT], MaxAttempts: 4, BackoffRate: 2 }),
  );
});

describe('Apply', () => {
  test('is a Distributed Map of Express child workflows over the stored plan batches', () => {
    const apply = state('Apply');
    expect(apply.Type).toBe('Map');
    expect(apply.ItemProcessor?.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(apply.ItemProcessor?.StartAt).toBe('ApplyBatch');
    expect(Object.keys(apply.ItemProcessor?.States ?? {})).toEqual(['ApplyBatch']);
    expect(apply.ItemsPath).toBe('$.results.Plan.batches');
    expect(apply.MaxConcurrency).toBe(4);
    expect(apply.Next).toBe('Report');
  });

  test("reads its tolerated failure percentage from the run's policy, a field the input schema always fills", () => {
    const path = state('Apply').ToleratedFailurePercentagePath;
    expect(path).toBe('$.input.policy.toleratedFailurePercentage');
    // The path must resolve on every run: the schema's default puts a number there for `{}`.
    expect(ReleaseInput.parse({}).policy.toleratedFailurePercentage).toEqual(expect.any(Number));
  });

  test('passes each item only the run, its index, its batch number and the policy, and discards the results', () => {
    const apply = state('Apply');
    expect(apply.ItemSelector).toEqual({
      'run.$': '$.run',
      'itemIndex.$': '$$.Map.Item.Index',
      'batch.$': '$$.Map.Item.Value',
      'policy.$': '$.input.policy',
    });
    // ResultPath null: the Map's output is its input, so no batch result grows the payload.
    expect(apply).toHaveProperty('ResultPath', null);
  });

  test('ApplyBatch with its TransientError retries fits in an Express child workflow (5 minutes)', () => {
    const inner = applyBatch();
    const own = (inner.Retry ?? []).find((r) => r.ErrorEquals.includes(ErrorName.TRANSIENT));
    const attempts = 1 + (own?.MaxAttempts ?? 0);
    let pauses = 0;
    for (
      let i = 0, interval = own?.IntervalSeconds ?? 1;
      i < attempts - 1;
      i += 1, interval *= own?.BackoffRate ?? 2
    ) {
      pauses += interval;
    }
    expect((inner.TimeoutSeconds ?? 0) * attempts + pauses).toBeLessThanOrEqual(300);
  });

  test('ApplyBatch records its item index, sends what ApplyBatchData accepts, retries TransientError and has no Catch', () => {
    const inner = applyBatch();
    expect(inner).toMatchObject({
      Type: 'Task',
      End: true,
      TimeoutSeconds: 90,
      Parameters: {
        'run.$': '$.run',
        step: { name: 'ApplyBatch', 'itemIndex.$': '$.itemIndex' },
        data: { 'batch.$': '$.batch', 'policy.$': '$.policy' },
      },
    });
    expect(inner.Retry).toContainEqual(
      expect.objectContaining({ ErrorEquals: [ErrorName.TRANSIENT], MaxAttempts: 2, BackoffRate: 2 }),
    );
    // A batch that fails for good fails its item; the Map's tolerance and its own Catch decide the run.
    expect(inner.Catch).toBeUndefined();
    // What the item selector delivers is what the handler validates.
    const item = { batch: 0, policy: ReleaseInput.parse({}).policy };
    expect(ApplyBatchData.safeParse(item).success).toBe(true);
  });
});

test('Report sums up the run before FinishRun', () => {
  expect(state('Report')).toMatchObject({
    Type: 'Task',
    Next: 'FinishRun',
    ResultPath: '$.results.Report',
    Parameters: { step: { name: 'Report' }, data: { 'input.$': '$.input', 'results.$': '$.results' } },
  });
  expect(state('FinishRun')).toMatchObject({ Type: 'Task', End: true, ResultPath: '$.summary' });
});

test('every Task, the one inside the Map included, has a timeout', () => {
  const tasks = taskStates(definition.States);
  expect(tasks.map(([name]) => name).sort()).toEqual([
    'ApplyBatch',
    'FailRun',
    'FinishRun',
    'Plan',
    'Report',
    'StartRun',
  ]);
  for (const [name, task] of tasks) {
    expect({ name, timeout: task.TimeoutSeconds }).toEqual({ name, timeout: expect.any(Number) });
    expect(task.TimeoutSeconds).toBeGreaterThan(0);
  }
});

test('the definition is JSONPath only: no JSONata, no QueryLanguage, no Assign', () => {
  const keys = new Set(keysOf(definition));
  for (const jsonataOnly of ['QueryLanguage', 'Assign', 'Arguments', 'Output']) {
    expect(keys).not.toContain(jsonataOnly);
  }
  const raw = definitionStringOf(template, JOB_ID);
  expect(raw).not.toMatch(/JSONata/i);
  expect(raw).not.toContain('{%');
});

test('StartRun tells the lifecycle the job is destructive, so manual runs default to a dry run', () => {
  expect(state('StartRun').Parameters?.job).toMatchObject({
    id: JOB_ID,
    overlap: 'skip',
    destructive: true,
    retentionDays: 730,
  });
});

test('scheduled runs are dry runs: the schedule target input says dryRun true', () => {
  const machineId = stateMachineIdOf(template, JOB_ID);
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter(
    (s) => (s.Properties.Target.Arn as { Ref?: string }).Ref === machineId,
  );
  expect(schedules).toHaveLength(1);
  const input = JSON.parse(schedules[0]?.Properties.Target.Input as string) as Record<string, unknown>;
  expect(input).toMatchObject({ dryRun: true, trigger: { type: 'schedule' } });
  expect(ReleaseInput.parse({ dryRun: input.dryRun }).dryRun).toBe(true);
});
