import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import type { RunRef } from '../../../shared/contracts';
import type { StepContext } from '../../../shared/handler';
import type { Ledger } from '../../../shared/ledger/ledger';
import { logger, metrics } from '../../../shared/powertools';
import { heartbeat } from '../../../tasks/heartbeat/heartbeat';
import { runningRecord, runRef } from '../../helpers/builders';
import { clockAt } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const T0 = '2026-11-30T10:00:02.500Z';

afterEach(() => {
  jest.restoreAllMocks();
});

function context(ledger: Ledger, run: RunRef, at = T0): StepContext {
  return {
    ledger,
    env: {},
    now: clockAt(at).now,
    run,
    step: { name: 'Heartbeat' },
    attempt: 1,
    remainingMs: () => 60_000,
  };
}

/** Record the run as StartRun would, then run the heartbeat step in it. */
async function beat(ledger: Ledger, run: RunRef, message = 'heartbeat') {
  await ledger.runs.create(runningRecord(run));
  return heartbeat({ input: { message }, results: {} }, context(ledger, run));
}

describe('heartbeat', () => {
  it('reports no previous run the first time, and no lag for a manual run', async () => {
    const ledger = await db.fresh();
    const output = await beat(ledger, runRef({ runId: 'run-1', startedAt: T0 }), 'hello');
    expect(output).toEqual({
      message: 'hello',
      triggerType: 'manual',
      lagMs: null,
      previousRun: null,
      at: T0,
    });
  });

  it('reports the run before this one', async () => {
    const ledger = await db.fresh();
    const first = runRef({ runId: 'run-1', startedAt: '2026-11-30T09:00:00.000Z' });
    await beat(ledger, first);
    await ledger.closeRun(first, { status: RunStatus.SUCCEEDED, endedAt: '2026-11-30T09:00:01.000Z' }, T0);

    const output = await beat(ledger, runRef({ runId: 'run-2', startedAt: T0 }));

    expect(output.previousRun).toEqual({
      runId: 'run-1',
      status: RunStatus.SUCCEEDED,
      startedAt: '2026-11-30T09:00:00.000Z',
      endedAt: '2026-11-30T09:00:01.000Z',
    });
  });

  it('measures the Scheduler’s lag for scheduled runs, logs one heartbeat line and emits its metrics', async () => {
    const ledger = await db.fresh();
    const info = jest.spyOn(logger, 'info');
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const run = runRef({
      runId: 'run-1',
      startedAt: T0,
      trigger: { type: 'schedule', scheduledTime: '2026-11-30T10:00:00Z', attempt: 1 },
    });

    const output = await beat(ledger, run);

    expect(output).toMatchObject({ triggerType: 'schedule', lagMs: 2_500 });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith(
      'heartbeat',
      expect.objectContaining({ lagMs: 2_500, triggerType: 'schedule' }),
    );
    expect(addMetric.mock.calls.map(([name, unit, value]) => [name, unit, value])).toEqual([
      ['Heartbeat', 'Count', 1],
      ['HeartbeatLagMs', 'Milliseconds', 2_500],
    ]);
  });

  it('emits no lag metric when the lag is unknown', async () => {
    const ledger = await db.fresh();
    const addMetric = jest.spyOn(metrics, 'addMetric');
    await beat(ledger, runRef({ runId: 'run-1', startedAt: T0, trigger: { type: 'cli' } }));
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(['Heartbeat']);
  });
});
