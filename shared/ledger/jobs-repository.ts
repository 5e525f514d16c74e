import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { RunStatus } from '../constants';
import { DuplicateSlot, JobPaused, LockHeld } from '../errors';
import { epochSeconds, isConditionFailed, stripKeys, type TableRef } from './dynamo';
import type { JobState, OperatorAction, PauseInfo, RunSummary } from './items';
import { expiredPause, isPausedAt, pauseInfo } from './pause';
import { keys } from './keys';

/** Counters are top-level attributes (`count_SUCCEEDED`, ...) so `ADD` works without creating a map first. */
const COUNTER_PREFIX = 'count_';
/** The job-state attribute that counts runs ended `status`. */
export const counterAttribute = (status: RunStatus) => `${COUNTER_PREFIX}${status}`;

export interface LockGrant {
  /** The run whose expired lease this acquisition replaced, if any. */
  tookOverFrom?: string;
  /** A pause past its end that this lock write went through (the caller ends it: {@link expirePause}). */
  expiredPause?: PauseInfo;
}

/** Who claimed a scheduled slot. `pk=JOB#<jobId>`, `sk=SLOT#<scheduledTime>`. */
export interface SlotClaim {
  scheduledTime: string;
  runId: string;
  /** Set while the slot's run left its work undone (SKIPPED): why. A catch-up or backfill may take it over. */
  openReason?: string;
  /** The run that had the slot before a catch-up or backfill took it over. */
  replacedRunId?: string;
}

function slotClaim(item: Record<string, unknown>): SlotClaim {
  return {
    scheduledTime: String(item.scheduledTime),
    runId: String(item.runId),
    ...(typeof item.openReason === 'string' ? { openReason: item.openReason } : {}),
    ...(typeof item.replacedRunId === 'string' ? { replacedRunId: item.replacedRunId } : {}),
  };
}

/** Job state (lock, pause, last run, counters) and scheduled-slot claims. */
export class JobsRepository {
  constructor(private readonly table: TableRef) {}

  /** The state of a job; a job that never ran has an empty state. */
  async getState(jobId: string): Promise<JobState> {
    const res = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.jobState(jobId), ConsistentRead: true }),
    );
    if (!res.Item) return { jobId, paused: false, counters: {} };
    const counters: JobState['counters'] = {};
    const rest: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(res.Item)) {
      if (name.startsWith(COUNTER_PREFIX))
        counters[name.slice(COUNTER_PREFIX.length) as RunStatus] = Number(value);
      else rest[name] = value;
    }
    const state = stripKeys<JobState>(rest);
    return { ...state, paused: state.paused ?? false, counters };
  }

  /**
   * Claim a scheduled slot for a run. Claiming again for the same run is a no-op (Lambda retries);
   * a slot owned by another run throws {@link DuplicateSlot}, unless `takeOverOpen` and that run left the slot
   * open (it was SKIPPED: paused, overlapping): then this run takes the slot over, and the claim keeps whose
   * it was. Catch-up and backfill runs take over open slots; a second scheduled delivery never does.
   */
  async claimSlot(
    jobId: string,
    scheduledTime: string,
    runId: string,
    expiresAtIso: string,
    options: { takeOverOpen?: boolean } = {},
  ): Promise<{ tookOverFrom?: string }> {
    const key = keys.slot(jobId, scheduledTime);
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...key, type: 'slot', jobId, scheduledTime, runId, expiresAt: epochSeconds(expiresAtIso) },
          // Never over our own claim: a put would drop what it holds since (openReason, replacedRunId).
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return {};
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    const owner = await this.slot(jobId, scheduledTime);
    if (owner?.runId === runId) return owner.replacedRunId ? { tookOverFrom: owner.replacedRunId } : {};
    const ownerRunId = owner?.runId ?? 'unknown';
    if (options.takeOverOpen && owner?.openReason) {
      try {
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: key,
            UpdateExpression: 'SET runId = :runId, replacedRunId = :old REMOVE openReason',
            ConditionExpression: 'runId = :old AND attribute_exists(openReason)',
            ExpressionAttributeValues: { ':runId': runId, ':old': ownerRunId },
          }),
        );
        return { tookOverFrom: ownerRunId };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        // Another run took it over first (or this one did, on an earlier attempt).
        const now = await this.slot(jobId, scheduledTime);
        if (now?.runId === runId) return now.replacedRunId ? { tookOverFrom: now.replacedRunId } : {};
        throw new DuplicateSlot(jobId, scheduledTime, now?.runId ?? 'unknown');
      }
    }
    throw new DuplicateSlot(jobId, scheduledTime, ownerRunId);
  }

  /** A slot's claim, read consistently (undefined when no run claimed it, or its claim expired). */
  async slot(jobId: string, scheduledTime: string): Promise<SlotClaim | undefined> {
    const res = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.slot(jobId, scheduledTime),
        ConsistentRead: true,
      }),
    );
    return res.Item ? slotClaim(res.Item) : undefined;
  }

  /**
   * Leave a slot open: its run did not do the slot's work (it was SKIPPED), so a catch-up or backfill run may
   * take it over. Only the slot's own run can open it.
   */
  async openSlot(jobId: string, scheduledTime: string, runId: string, reason: string): Promise<void> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.slot(jobId, scheduledTime),
          UpdateExpression: 'SET openReason = :reason',
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':runId': runId, ':reason': reason },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** The claimed slots of a job from `fromIso` to `toIso` (both included), oldest first, every page. */
  async claimedSlots(jobId: string, fromIso: string, toIso: string): Promise<SlotClaim[]> {
    const out: SlotClaim[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': keys.jobPartition(jobId),
            ':from': keys.slot(jobId, fromIso).sk,
            ':to': keys.slot(jobId, toIso).sk,
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of res.Items ?? []) out.push(slotClaim(item));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /**
   * Take the job lock for `runId` until `leaseExpiresAt`. Succeeds when the lock is free, already ours, or its
   * lease has expired (then the grant says whose). Throws {@link LockHeld} otherwise.
   */
  async acquireLock(
    jobId: string,
    runId: string,
    nowIso: string,
    leaseExpiresAt: string,
    options: { unlessPaused?: boolean; retried?: boolean } = {},
  ): Promise<LockGrant> {
    const free = '(attribute_not_exists(lockRunId) OR lockRunId = :runId OR lockExpiresAt < :now)';
    try {
      const res = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.jobState(jobId),
          UpdateExpression:
            'SET jobId = :jobId, lockRunId = :runId, lockExpiresAt = :lease, updatedAt = :now, #type = :type',
          // With unlessPaused, the pause check rides on the lock write: no read before it.
          // A pause past its end (pausedUntil) counts as resumed.
          ConditionExpression: options.unlessPaused
            ? `${free} AND (attribute_not_exists(paused) OR paused = :false OR pausedUntil <= :now)`
            : free,
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: {
            ':jobId': jobId,
            ':runId': runId,
            ':lease': leaseExpiresAt,
            ':now': nowIso,
            ':type': 'job',
            ...(options.unlessPaused ? { ':false': false } : {}),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = res.Attributes?.lockRunId as string | undefined;
      const old = res.Attributes as Partial<JobState> | undefined;
      const expired = old ? expiredPause({ paused: false, counters: {}, jobId, ...old }, nowIso) : undefined;
      return {
        ...(previous && previous !== runId ? { tookOverFrom: previous } : {}),
        ...(expired ? { expiredPause: expired } : {}),
      };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const state = await this.getState(jobId);
      if (options.unlessPaused && isPausedAt(state, nowIso)) throw new JobPaused(jobId, pauseInfo(state));
      const held = state.lockRunId && state.lockRunId !== runId && (state.lockExpiresAt ?? '') >= nowIso;
      // The state changed between the write and the read (resumed, or the lock released): try once more.
      if (!held && !options.retried)
        return this.acquireLock(jobId, runId, nowIso, leaseExpiresAt, { ...options, retried: true });
      throw new LockHeld(jobId, state.lockRunId ?? 'unknown', state.lockExpiresAt ?? 'unknown');
    }
  }

  /**
   * Record the end of a run on the job: last run, last success, counters, and release the lock if this run
   * holds it. One write when the lock is ours or absent; a lock held by another run is left alone.
   * Returns whether it released this run's lock.
   */
  async recordRunEnd(jobId: string, summary: RunSummary, nowIso: string): Promise<boolean> {
    const succeeded = summary.status === RunStatus.SUCCEEDED;
    const set = `SET jobId = :jobId, lastRun = :run, updatedAt = :now, #type = :type${succeeded ? ', lastSuccess = :run' : ''}`;
    const values = { ':jobId': jobId, ':run': summary, ':now': nowIso, ':one': 1, ':type': 'job' };
    const base = {
      TableName: this.table.tableName,
      Key: keys.jobState(jobId),
      ExpressionAttributeNames: { '#type': 'type', '#counter': counterAttribute(summary.status) },
    };
    try {
      const res = await this.table.doc.send(
        new UpdateCommand({
          ...base,
          ExpressionAttributeValues: { ...values, ':runId': summary.runId },
          UpdateExpression: `${set} REMOVE lockRunId, lockExpiresAt ADD #counter :one`,
          ConditionExpression: 'attribute_not_exists(lockRunId) OR lockRunId = :runId',
          ReturnValues: 'ALL_OLD',
        }),
      );
      return res.Attributes?.lockRunId === summary.runId;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Another run holds the lock (allow policy, or this run's lease was taken over): keep it.
      await this.table.doc.send(
        new UpdateCommand({
          ...base,
          ExpressionAttributeValues: values,
          UpdateExpression: `${set} ADD #counter :one`,
        }),
      );
      return false;
    }
  }

  /**
   * Count a run that ended before it began (DUPLICATE, SKIPPED): one `ADD` of its status counter. It does not
   * touch `lastRun` (a skipped trigger is not the job's latest run) nor the lock (it never held it).
   */
  async countOutcome(jobId: string, status: RunStatus, nowIso: string): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.jobState(jobId),
        UpdateExpression: 'SET jobId = :jobId, updatedAt = :now, #type = :type ADD #counter :one',
        ExpressionAttributeNames: { '#type': 'type', '#counter': counterAttribute(status) },
        ExpressionAttributeValues: { ':jobId': jobId, ':now': nowIso, ':type': 'job', ':one': 1 },
      }),
    );
  }

  /** Release the lock only if `runId` holds it. Returns whether it did. */
  async releaseLock(jobId: string, runId: string, nowIso: string): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.jobState(jobId),
          UpdateExpression: 'SET updatedAt = :now REMOVE lockRunId, lockExpiresAt',
          ConditionExpression: 'lockRunId = :runId',
          ExpressionAttributeValues: { ':runId': runId, ':now': nowIso },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Release the job lock whoever holds it, for an operator who knows better than the lease. Returns the run
   * that held it, or `undefined` when the job was not locked. The caller records the operation.
   */
  async forceUnlock(
    jobId: string,
    nowIso: string,
  ): Promise<{ runId: string; expiresAt?: string } | undefined> {
    try {
      const res = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.jobState(jobId),
          UpdateExpression: 'SET updatedAt = :now REMOVE lockRunId, lockExpiresAt',
          ConditionExpression: 'attribute_exists(lockRunId)',
          ExpressionAttributeValues: { ':now': nowIso },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = res.Attributes ?? {};
      return {
        runId: String(old.lockRunId),
        ...(old.lockExpiresAt ? { expiresAt: String(old.lockExpiresAt) } : {}),
      };
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Keep an operator's action on a job for audit. */
  async recordOperation(action: OperatorAction): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...keys.jobOperation(action.jobId, action.at, randomUUID().slice(0, 8)),
          type: 'operation',
          ...action,
        },
      }),
    );
  }

  /** Operators' actions on a job, newest first. */
  async operations(jobId: string, limit = 20): Promise<OperatorAction[]> {
    const res = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :op)',
        ExpressionAttributeValues: { ':pk': keys.jobPartition(jobId), ':op': keys.jobOperationPrefix },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (res.Items ?? []).map((item) => stripKeys<OperatorAction>(item));
  }

  /** Move the sweep's mark (see tasks/lifecycle/sweep.ts). */
  async setSweptUntil(jobId: string, sweptUntil: string): Promise<void> {
    await this.setMark(jobId, 'sweptUntil', sweptUntil);
  }

  /** The sweep has compared the job's expected slots with its claimed ones up to this time. */
  async setSlotsCheckedUntil(jobId: string, until: string): Promise<void> {
    await this.setMark(jobId, 'slotsCheckedUntil', until);
  }

  private async setMark(
    jobId: string,
    attribute: 'sweptUntil' | 'slotsCheckedUntil',
    at: string,
  ): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.jobState(jobId),
        UpdateExpression: 'SET jobId = :jobId, #mark = :mark, #type = :type',
        ExpressionAttributeNames: { '#type': 'type', '#mark': attribute },
        ExpressionAttributeValues: { ':jobId': jobId, ':mark': at, ':type': 'job' },
      }),
    );
  }

  /**
   * Pause or resume a job. Scheduled triggers of a paused job are recorded as SKIPPED (paused) until it is
   * resumed, or until `until` when given. A resume keeps who resumed it, why, and the pause it ended.
   */
  async setPaused(
    jobId: string,
    paused: boolean,
    by: string,
    nowIso: string,
    reason?: string,
    until?: string,
  ): Promise<PauseInfo | undefined> {
    const res = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.jobState(jobId),
        UpdateExpression: paused
          ? `SET jobId = :jobId, paused = :p, pausedBy = :by, pausedAt = :now, pauseReason = :reason, updatedAt = :now, #type = :type${until ? ', pausedUntil = :until' : ' REMOVE pausedUntil'}`
          : 'SET jobId = :jobId, paused = :p, updatedAt = :now, #type = :type, lastResume = :resume REMOVE pausedBy, pausedAt, pauseReason, pausedUntil',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: {
          ':jobId': jobId,
          ':p': paused,
          ':now': nowIso,
          ':type': 'job',
          ...(paused
            ? { ':by': by, ':reason': reason ?? '', ...(until ? { ':until': until } : {}) }
            : { ':resume': { by, at: nowIso, ...(reason ? { reason } : {}) } }),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = res.Attributes as JobState | undefined;
    const ended = old ? pauseInfo({ ...old, paused: old.paused ?? false }) : undefined;
    if (!paused && ended) {
      // The resume keeps the pause it ended (known only from the write's old image, so a second write,
      // conditional on this resume): the sweep reads it to tell paused slots from missed ones.
      try {
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: keys.jobState(jobId),
            UpdateExpression: 'SET lastResume.pause = :pause',
            ConditionExpression: 'lastResume.#at = :now AND lastResume.#by = :by',
            ExpressionAttributeNames: { '#at': 'at', '#by': 'by' },
            ExpressionAttributeValues: { ':pause': ended, ':now': nowIso, ':by': by },
          }),
        );
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    }
    return ended;
  }

  /**
   * End a pause whose `until` has passed, as the first scheduled run after it does: the state says who paused
   * and why, and that the pause expired. Returns false when someone else ended or changed it first.
   */
  async expirePause(jobId: string, pause: PauseInfo, nowIso: string): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.jobState(jobId),
          UpdateExpression:
            'SET paused = :false, updatedAt = :now, lastResume = :resume REMOVE pausedBy, pausedAt, pauseReason, pausedUntil',
          ConditionExpression: 'paused = :true AND pausedUntil = :until',
          ExpressionAttributeValues: {
            ':false': false,
            ':true': true,
            ':until': pause.until,
            ':now': nowIso,
            ':resume': { by: PAUSE_EXPIRY, at: pause.until, pause, expired: true },
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}

/** Who resumed a job whose pause ended on its own. */
export const PAUSE_EXPIRY = 'pause expiry';
