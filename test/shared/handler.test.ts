import '../helpers/quiet';
import * as z from '../../shared/zod';
import { Decision, StepStatus } from '../../shared/constants';
import { TransientError } from '../../shared/errors';
import { jobStep } from '../../shared/handler';
import { Ledger } from '../../shared/ledger/ledger';
import { handler as heartbeatHandler } from '../../tasks/heartbeat/heartbeat';
import { handler as startRunHandler } from '../../tasks/lifecycle/start-run';
import { runningRecord, startRunEvent } from '../helpers/builders';
import { useEmbeddedLedger } from '../helpers/ledger';

// The handlers build their own DynamoDB client through the SDK's default chain, as on AWS.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';

const db = useEmbeddedLedger();
beforeAll(() => {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint();
});

/** A table and the ledger the test reads it through; the handler gets only the table name in its env. */
async function setup(): Promise<{ tableName: string; ledger: Ledger; env: Record<string, string> }> {
  const tableName = await db.freshTable();
  return {
    tableName,
    ledger: Ledger.fromClient(db.client(), tableName),
    env: { LEDGER_TABLE_NAME: tableName },
  };
}

function envelope(runId: string, data: unknown, step = { name: 'Heartbeat' }) {
  const run = runningRecord({ runId });
  const { runId: id, jobId, executionArn, startedAt, trigger, expiresAt } = run;
  return { run: { runId: id, jobId, executionArn, startedAt, trigger, expiresAt }, step, data };
}

describe('jobStep (through the heartbeat handler)', () => {
  it('runs the logic and records the step SUCCEEDED after one attempt', async () => {
    const { ledger, env } = await setup();
    await ledger.runs.create(runningRecord({ runId: 'run-1' }));
    const output = await heartbeatHandler.forEnv(env)(
      envelope('run-1', { input: { message: 'hi' }, results: {} }),
    );
    expect(output).toMatchObject({ message: 'hi', triggerType: 'manual', previousRun: null });

    const { steps } = await ledger.runs.detail('run-1');
    expect(steps).toEqual([
      expect.objectContaining({
        name: 'Heartbeat',
        status: StepStatus.SUCCEEDED,
        attempts: 1,
        runId: 'run-1',
      }),
    ]);
    expect(steps[0]?.durationMs).toEqual(expect.any(Number));
    expect(steps[0]).not.toHaveProperty('failures');
  });

  it('records invalid step data as a FAILED step naming the field, and rethrows', async () => {
    const { ledger, env } = await setup();
    await ledger.runs.create(runningRecord({ runId: 'run-1' }));
    const invoke = heartbeatHandler.forEnv(env)(
      envelope('run-1', { input: { message: 'x'.repeat(201) }, results: {} }),
    );
    await expect(invoke).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining('data.input.message'),
    });

    const [step] = (await ledger.runs.detail('run-1')).steps;
    expect(step).toMatchObject({ status: StepStatus.FAILED, attempts: 1, error: { name: 'InvalidInput' } });
    expect(step?.failures).toEqual([
      {
        attempt: 1,
        at: expect.any(String),
        error: { name: 'InvalidInput', cause: expect.stringContaining('data.input.message') },
      },
    ]);
  });

  it('counts a retried attempt and keeps the failure of the first', async () => {
    const { ledger, env } = await setup();
    await ledger.runs.create(runningRecord({ runId: 'run-1' }));
    let calls = 0;
    const flaky = jobStep(z.object({}), async () => {
      calls += 1;
      if (calls === 1) throw new TransientError('throttled');
      return { ok: true };
    });
    const event = envelope('run-1', {}, { name: 'Flaky' });
    await expect(flaky.forEnv(env)(event)).rejects.toMatchObject({ name: 'TransientError' });
    await expect(flaky.forEnv(env)(event)).resolves.toEqual({ ok: true });

    const [step] = (await ledger.runs.detail('run-1')).steps;
    expect(step).toMatchObject({ name: 'Flaky', status: StepStatus.SUCCEEDED, attempts: 2 });
    expect(step).not.toHaveProperty('error');
    expect(step?.failures).toEqual([
      { attempt: 1, at: expect.any(String), error: { name: 'TransientError', cause: 'throttled' } },
    ]);
  });

  it('records a Map item step under its index', async () => {
    const { ledger, env } = await setup();
    await ledger.runs.create(runningRecord({ runId: 'run-1' }));
    const item = jobStep(z.object({ n: z.number() }), async (data) => data.n * 2);
    await expect(
      item.forEnv(env)(envelope('run-1', { n: 21 }, { name: 'Item', itemIndex: 3 } as never)),
    ).resolves.toBe(42);
    const [step] = (await ledger.runs.detail('run-1')).steps;
    expect(step).toMatchObject({ name: 'Item', itemIndex: 3, status: StepStatus.SUCCEEDED });
  });

  it('rejects a malformed envelope before recording anything', async () => {
    const { ledger, env } = await setup();
    await ledger.runs.create(runningRecord({ runId: 'run-1' }));
    await expect(
      heartbeatHandler.forEnv(env)({ step: { name: 'Heartbeat' }, data: {} }),
    ).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining('run'),
    });
    expect((await ledger.runs.detail('run-1')).steps).toEqual([]);
  });

  it('names the missing configuration variable', async () => {
    await expect(heartbeatHandler.forEnv({})(envelope('run-1', {}))).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('LEDGER_TABLE_NAME is not set'),
    });
  });
});

describe('lifecycleHandler (through the StartRun handler)', () => {
  it('validates the event, builds the ledger from env and returns the decision', async () => {
    const { ledger, env } = await setup();
    const event = startRunEvent({ name: 'run-1', startTime: new Date().toISOString() });
    const result = await startRunHandler.forEnv(env)(event);
    expect(result).toMatchObject({
      decision: Decision.RUN,
      run: { runId: 'run-1' },
      input: { message: 'heartbeat' },
    });
    expect((await ledger.runs.get('run-1')).status).toBe('RUNNING');
  });

  it('rejects an event that is not a StartRun event, naming the field', async () => {
    const { env } = await setup();
    await expect(startRunHandler.forEnv(env)({ executionInput: {}, job: {} })).rejects.toMatchObject({
      name: 'InvalidInput',
      message: expect.stringContaining('execution'),
    });
  });
});
