import '../../helpers/quiet';
import type { ActionRecord } from '../../../shared/ledger/items';
import { useEmbeddedLedger } from '../../helpers/ledger';
import { actionsOf } from '../../../shared/ledger/actions-repository';

const db = useEmbeddedLedger();

function action(overrides: Partial<ActionRecord> & { runId: string; resourceId: string }): ActionRecord {
  return {
    jobId: 'cleanup',
    resourceType: 'ebs-volume',
    action: 'delete',
    dryRun: false,
    outcome: 'DONE',
    reason: 'unattached for 30 days',
    at: '2026-11-30T10:00:00.000Z',
    expiresAt: 1_900_000_000,
    ...overrides,
  };
}

describe('ActionsRepository', () => {
  it('records more actions than one batch holds and lists them by run', async () => {
    const ledger = await db.fresh();
    const actions = Array.from({ length: 30 }, (_, i) =>
      action({ runId: 'run-1', resourceId: `vol-${String(i).padStart(2, '0')}` }),
    );
    await actionsOf(ledger).record(actions);
    await actionsOf(ledger).record([action({ runId: 'run-2', resourceId: 'vol-99' })]);
    const page = await actionsOf(ledger).listByRun('run-1');
    expect(page.items).toHaveLength(30);
    expect(page.items.map((item) => item.resourceId)).toEqual(actions.map((item) => item.resourceId));
    expect(page.items[0]).toEqual(actions[0]);
    expect(page.cursor).toBeUndefined();
  });

  it('pages listByRun', async () => {
    const ledger = await db.fresh();
    await actionsOf(ledger).record(
      Array.from({ length: 5 }, (_, i) => action({ runId: 'run-1', resourceId: `vol-${i}` })),
    );
    const first = await actionsOf(ledger).listByRun('run-1', { limit: 3 });
    const second = await actionsOf(ledger).listByRun('run-1', { limit: 3, cursor: first.cursor });
    expect(first.items.map((item) => item.resourceId)).toEqual(['vol-0', 'vol-1', 'vol-2']);
    expect(second.items.map((item) => item.resourceId)).toEqual(['vol-3', 'vol-4']);
  });

  it('is idempotent per run and resource: recording again overwrites', async () => {
    const ledger = await db.fresh();
    await actionsOf(ledger).record([action({ runId: 'run-1', resourceId: 'vol-1', outcome: 'FAILED' })]);
    await actionsOf(ledger).record([action({ runId: 'run-1', resourceId: 'vol-1', outcome: 'DONE' })]);
    const { items } = await actionsOf(ledger).listByRun('run-1');
    expect(items).toHaveLength(1);
    expect(items[0]?.outcome).toBe('DONE');
  });

  it('answers “who touched vol-123, and when” across runs, newest first', async () => {
    const ledger = await db.fresh();
    await actionsOf(ledger).record([
      action({
        runId: 'run-1',
        resourceId: 'vol-123',
        dryRun: true,
        outcome: 'PLANNED',
        at: '2026-11-28T10:00:00.000Z',
      }),
      action({ runId: 'run-1', resourceId: 'vol-456', at: '2026-11-28T10:00:00.000Z' }),
    ]);
    await actionsOf(ledger).record([
      action({ runId: 'run-2', resourceId: 'vol-123', outcome: 'DONE', at: '2026-11-29T10:00:00.000Z' }),
    ]);
    await actionsOf(ledger).record([
      action({
        runId: 'run-3',
        resourceId: 'vol-123',
        outcome: 'ALREADY_GONE',
        at: '2026-11-30T10:00:00.000Z',
      }),
    ]);
    const { items } = await actionsOf(ledger).listByResource('vol-123');
    expect(items.map((item) => [item.runId, item.outcome, item.dryRun])).toEqual([
      ['run-3', 'ALREADY_GONE', false],
      ['run-2', 'DONE', false],
      ['run-1', 'PLANNED', true],
    ]);
    const paged = await actionsOf(ledger).listByResource('vol-123', { limit: 2 });
    expect(paged.items).toHaveLength(2);
    const rest = await actionsOf(ledger).listByResource('vol-123', { limit: 2, cursor: paged.cursor });
    expect(rest.items.map((item) => item.runId)).toEqual(['run-1']);
  });
});
