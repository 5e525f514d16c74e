/**
 * Slot claims against the embedded ledger: a slot runs once, a SKIPPED run may leave its slot open, and a
 * catch-up or backfill takes an open slot over exactly once.
 */
import '../../helpers/quiet';
import { DuplicateSlot } from '../../../shared/errors';
import type { Ledger } from '../../../shared/ledger/ledger';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const JOB = 'heartbeat';
const SLOT = '2027-01-01T03:00:00Z';
const EXPIRES = '2028-01-01T00:00:00.000Z';

/** The DuplicateSlot a claim rejects with, or a failure when it resolves. */
async function duplicateOf(claim: Promise<unknown>): Promise<DuplicateSlot> {
  const error: unknown = await claim.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DuplicateSlot)) throw new Error(`Expected DuplicateSlot, got ${String(error)}`);
  return error;
}

async function skippedSlot(ledger: Ledger, runId = 'run-skipped'): Promise<void> {
  await ledger.jobs.claimSlot(JOB, SLOT, runId, EXPIRES);
  await ledger.jobs.openSlot(JOB, SLOT, runId, 'paused');
}

describe('claimSlot', () => {
  it('gives a free slot to the first run, and a second scheduled claim is a DuplicateSlot naming it', async () => {
    const ledger = await db.fresh();
    await expect(ledger.jobs.claimSlot(JOB, SLOT, 'run-a', EXPIRES)).resolves.toEqual({});
    const duplicate = await duplicateOf(ledger.jobs.claimSlot(JOB, SLOT, 'run-b', EXPIRES));
    expect(duplicate).toMatchObject({ jobId: JOB, scheduledTime: SLOT, ownerRunId: 'run-a' });
    expect(await ledger.jobs.slot(JOB, SLOT)).toEqual({ scheduledTime: SLOT, runId: 'run-a' });
  });

  it('does not let a takeover take a slot that is not open', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.claimSlot(JOB, SLOT, 'run-a', EXPIRES);
    const duplicate = await duplicateOf(
      ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true }),
    );
    expect(duplicate.ownerRunId).toBe('run-a');
    expect((await ledger.jobs.slot(JOB, SLOT))?.runId).toBe('run-a');
  });

  it('gives an unclaimed slot to a takeover claim as a plain claim', async () => {
    const ledger = await db.fresh();
    await expect(
      ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true }),
    ).resolves.toEqual({});
    expect(await ledger.jobs.slot(JOB, SLOT)).toEqual({ scheduledTime: SLOT, runId: 'catchup-1' });
  });
});

describe('openSlot', () => {
  it('opens a slot for its owner, keeping why', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    expect(await ledger.jobs.slot(JOB, SLOT)).toEqual({
      scheduledTime: SLOT,
      runId: 'run-skipped',
      openReason: 'paused',
    });
  });

  it('leaves a slot closed when another run asks to open it, and creates none for an unclaimed slot', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.claimSlot(JOB, SLOT, 'run-a', EXPIRES);
    await ledger.jobs.openSlot(JOB, SLOT, 'run-other', 'paused');
    expect(await ledger.jobs.slot(JOB, SLOT)).toEqual({ scheduledTime: SLOT, runId: 'run-a' });
    // So a takeover still cannot have it.
    await duplicateOf(ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true }));

    await ledger.jobs.openSlot(JOB, '2027-01-02T03:00:00Z', 'run-a', 'paused');
    expect(await ledger.jobs.slot(JOB, '2027-01-02T03:00:00Z')).toBeUndefined();
  });
});

describe('takeOverOpen', () => {
  async function expectTakenOverBy(ledger: Ledger, runId: string): Promise<void> {
    expect(await ledger.jobs.slot(JOB, SLOT)).toEqual({
      scheduledTime: SLOT,
      runId,
      replacedRunId: 'run-skipped',
    });
  }

  it('takes an open slot over once, keeping whose it was and closing it', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    await expect(
      ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true }),
    ).resolves.toEqual({ tookOverFrom: 'run-skipped' });
    await expectTakenOverBy(ledger, 'catchup-1');
  });

  it('refuses a second taker, naming the new owner', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    await ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true });
    const second = await duplicateOf(
      ledger.jobs.claimSlot(JOB, SLOT, 'backfill-1', EXPIRES, { takeOverOpen: true }),
    );
    expect(second).toMatchObject({ scheduledTime: SLOT, ownerRunId: 'catchup-1' });
    // Nor does a late scheduled delivery get it.
    const late = await duplicateOf(ledger.jobs.claimSlot(JOB, SLOT, 'run-late', EXPIRES));
    expect(late.ownerRunId).toBe('catchup-1');
  });

  it('is a no-op for the taker claiming again (a Lambda retry), which still hears whose it was', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    await ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true });
    await expect(
      ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true }),
    ).resolves.toEqual({ tookOverFrom: 'run-skipped' });
    await expectTakenOverBy(ledger, 'catchup-1');
  });

  it('keeps an open slot open when its SKIPPED owner claims it again (a StartRun retry)', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    await expect(ledger.jobs.claimSlot(JOB, SLOT, 'run-skipped', EXPIRES)).resolves.toEqual({});
    expect((await ledger.jobs.slot(JOB, SLOT))?.openReason).toBe('paused');
    await expect(
      ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true }),
    ).resolves.toEqual({ tookOverFrom: 'run-skipped' });
  });

  it('lets only one of two concurrent takers have the slot', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    const claims = await Promise.allSettled(
      ['catchup-1', 'backfill-1'].map((runId) =>
        ledger.jobs.claimSlot(JOB, SLOT, runId, EXPIRES, { takeOverOpen: true }),
      ),
    );
    const won = claims.filter((c) => c.status === 'fulfilled');
    const lost = claims.filter((c): c is PromiseRejectedResult => c.status === 'rejected');
    expect(won).toEqual([{ status: 'fulfilled', value: { tookOverFrom: 'run-skipped' } }]);
    expect(lost).toHaveLength(1);
    const owner = (await ledger.jobs.slot(JOB, SLOT))?.runId;
    expect(lost[0]?.reason).toBeInstanceOf(DuplicateSlot);
    expect((lost[0]?.reason as DuplicateSlot).ownerRunId).toBe(owner);
  });

  it('lets the run it replaced open the slot no more', async () => {
    const ledger = await db.fresh();
    await skippedSlot(ledger);
    await ledger.jobs.claimSlot(JOB, SLOT, 'catchup-1', EXPIRES, { takeOverOpen: true });
    await ledger.jobs.openSlot(JOB, SLOT, 'run-skipped', 'paused');
    expect((await ledger.jobs.slot(JOB, SLOT))?.openReason).toBeUndefined();
  });
});

describe('claimedSlots', () => {
  it('lists a job’s claims between two times, both ends included, oldest first', async () => {
    const ledger = await db.fresh();
    const times = [
      '2027-01-01T01:00:00Z',
      '2027-01-01T02:00:00Z',
      '2027-01-01T03:00:00Z',
      '2027-01-01T04:00:00Z',
    ];
    for (const [i, time] of times.entries()) await ledger.jobs.claimSlot(JOB, time, `run-${i}`, EXPIRES);
    await ledger.jobs.claimSlot('other', '2027-01-01T02:00:00Z', 'run-other', EXPIRES);
    await ledger.jobs.openSlot(JOB, '2027-01-01T03:00:00Z', 'run-2', 'paused');

    const claims = await ledger.jobs.claimedSlots(JOB, '2027-01-01T02:00:00Z', '2027-01-01T03:00:00Z');
    expect(claims).toEqual([
      { scheduledTime: '2027-01-01T02:00:00Z', runId: 'run-1' },
      { scheduledTime: '2027-01-01T03:00:00Z', runId: 'run-2', openReason: 'paused' },
    ]);
    expect(await ledger.jobs.claimedSlots(JOB, '2027-01-01T04:00:01Z', '2027-01-02T00:00:00Z')).toEqual([]);
  });

  it('does not list the job’s other items (state, operations)', async () => {
    const ledger = await db.fresh();
    await ledger.jobs.claimSlot(JOB, SLOT, 'run-a', EXPIRES);
    await ledger.jobs.setSlotsCheckedUntil(JOB, '2027-01-01T05:00:00.000Z');
    await ledger.jobs.setPaused(JOB, true, 'ops', '2027-01-01T00:00:00.000Z', 'maintenance');
    expect(await ledger.jobs.claimedSlots(JOB, '2000-01-01T00:00:00Z', '2099-01-01T00:00:00Z')).toEqual([
      { scheduledTime: SLOT, runId: 'run-a' },
    ]);
    expect((await ledger.jobs.getState(JOB)).slotsCheckedUntil).toBe('2027-01-01T05:00:00.000Z');
  });
});
