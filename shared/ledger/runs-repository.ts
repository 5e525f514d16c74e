import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  INLINE_INPUT_BYTES,
  RunStatus,
  STORED_RAW_INPUT_BYTES,
  STORED_VALIDATED_INPUT_BYTES,
  StepStatus,
} from '../constants';
import { RunAlreadyExists, RunAlreadyFinal, RunNotFound } from '../errors';
import { cutStoredJson } from '../json';
import { decodeCursor, encodeCursor, isConditionFailed, stripKeys, type TableRef } from './dynamo';
import type { ActionRecord, ErrorInfo, Page, RunInputs, RunRecord, StepRecord } from './items';
import { keys, TABLE_KEYS } from './keys';

export interface ListRunsOptions {
  /** Page size; default 20. */
  limit?: number;
  cursor?: string;
  /** Only runs started at or after this ISO time. */
  since?: string;
  /** Only runs started before this ISO time. */
  until?: string;
  status?: RunStatus;
}

export interface RunFinal {
  status: RunStatus;
  endedAt: string;
  output?: string;
  outputTruncated?: boolean;
  error?: ErrorInfo;
  finalizedBy?: string;
}

/** Everything the ledger holds about one run, from one query of its partition. */
export interface RunDetail {
  run: RunRecord;
  steps: StepRecord[];
  actions: ActionRecord[];
}

/** Runs and their steps. */
export class RunsRepository {
  constructor(private readonly table: TableRef) {}

  /**
   * Create the run record. Throws {@link RunAlreadyExists} when the run id is taken.
   *
   * Inputs longer than INLINE_INPUT_BYTES are kept whole in the run's INPUT item, written first (an idempotent
   * put, so a retry converges), and cut on the run item, which every later lifecycle write rewrites.
   */
  async create(run: RunRecord): Promise<void> {
    const rawInput = cutStoredJson(run.rawInput, INLINE_INPUT_BYTES);
    const input = run.input && cutStoredJson(run.input, INLINE_INPUT_BYTES);
    if (rawInput !== run.rawInput || input !== run.input) {
      const whole: RunInputs = {
        runId: run.runId,
        rawInput: cutStoredJson(run.rawInput, STORED_RAW_INPUT_BYTES),
        ...(run.input ? { input: cutStoredJson(run.input, STORED_VALIDATED_INPUT_BYTES) } : {}),
        expiresAt: run.expiresAt,
      };
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.runInputs(run.runId), type: 'input', ...whole },
        }),
      );
    }
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: {
            ...keys.run(run.runId),
            ...keys.jobRuns(run.jobId, run.startedAt, run.runId),
            ...keys.runsByDay(run.startedAt, run.runId),
            type: 'run',
            ...run,
            rawInput,
            ...(input ? { input } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new RunAlreadyExists(run.runId);
      throw error;
    }
  }

  /** Create the run record unless one exists; returns whether this call created it. */
  async createIfAbsent(run: RunRecord): Promise<boolean> {
    try {
      await this.create(run);
      return true;
    } catch (error) {
      if (error instanceof RunAlreadyExists) return false;
      throw error;
    }
  }

  /** Which of `runIds` have a run record: batched reads of 100 keys, unprocessed keys read again. */
  async existing(runIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(runIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let pending: Record<string, unknown>[] = unique.slice(i, i + 100).map((id) => keys.run(id));
      for (let round = 0; pending.length > 0; round += 1) {
        if (round >= 8) throw new Error(`DynamoDB left ${pending.length} run reads unprocessed`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const res = await this.table.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table.tableName]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'runId' },
            },
          }),
        );
        for (const item of res.Responses?.[this.table.tableName] ?? []) found.add(String(item.runId));
        pending = (res.UnprocessedKeys?.[this.table.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /** One run; throws {@link RunNotFound}. */
  async get(runId: string): Promise<RunRecord> {
    const found = await this.find(runId);
    if (!found) throw new RunNotFound(runId);
    return found;
  }

  /** One run, or `undefined` when the ledger has none by that id (a normal answer, not a failure). */
  async find(runId: string): Promise<RunRecord | undefined> {
    const res = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.run(runId), ConsistentRead: true }),
    );
    return res.Item ? stripKeys<RunRecord>(res.Item) : undefined;
  }

  /**
   * Move a RUNNING run to a final status. Throws {@link RunAlreadyFinal} when it is final already (so a
   * retried or racing finalizer never counts a run twice) and {@link RunNotFound} when there is no run.
   */
  async finalize(run: { runId: string; startedAt: string }, final: RunFinal): Promise<RunRecord> {
    const { runId } = run;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':status': final.status,
      ':endedAt': final.endedAt,
      ':running': RunStatus.RUNNING,
      ':d': Math.max(0, Date.parse(final.endedAt) - Date.parse(run.startedAt)),
    };
    const sets = ['#status = :status', 'endedAt = :endedAt', 'durationMs = :d'];
    for (const field of ['output', 'outputTruncated', 'error', 'finalizedBy'] as const) {
      if (final[field] !== undefined) {
        // Names go through placeholders: `output` is a DynamoDB reserved word.
        sets.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = final[field];
      }
    }
    try {
      const res = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.run(runId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk) AND #status = :running',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stripKeys<RunRecord>(res.Attributes ?? {});
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const existing = await this.get(runId);
      throw new RunAlreadyFinal(runId, existing.status);
    }
  }

  /** A job's runs, newest first, one page at a time. Cost is one query per page, whatever the history length. */
  async listByJob(jobId: string, options: ListRunsOptions = {}): Promise<Page<RunRecord>> {
    return this.queryRuns(
      TABLE_KEYS.gsi1.name,
      TABLE_KEYS.gsi1.pk,
      TABLE_KEYS.gsi1.sk,
      keys.jobRunsPartition(jobId),
      options,
    );
  }

  /**
   * Runs of every job started in [since, until), newest first, optionally by status, for audit. Walks the
   * UTC day buckets of GSI2 from `until` back to `since`; the cursor remembers the day and the position.
   */
  async listInWindow(options: ListRunsOptions & { since: string; until: string }): Promise<Page<RunRecord>> {
    const limit = options.limit ?? 20;
    const state = options.cursor
      ? (JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8')) as {
          day: string;
          key?: string;
        })
      : { day: options.until.slice(0, 10) };
    const firstDay = options.since.slice(0, 10);
    const items: RunRecord[] = [];
    let day = state.day;
    let key = state.key;
    while (day >= firstDay) {
      const page = await this.queryRuns(
        TABLE_KEYS.gsi2.name,
        TABLE_KEYS.gsi2.pk,
        TABLE_KEYS.gsi2.sk,
        keys.dayPartition(day),
        { ...options, limit: limit - items.length, cursor: key },
      );
      items.push(...page.items);
      if (items.length >= limit) {
        const next = page.cursor ? { day, key: page.cursor } : { day: previousDay(day) };
        return {
          items,
          cursor: next.day >= firstDay ? Buffer.from(JSON.stringify(next)).toString('base64url') : undefined,
        };
      }
      if (page.cursor) {
        key = page.cursor;
        continue;
      }
      day = previousDay(day);
      key = undefined;
    }
    return { items };
  }

  private async queryRuns(
    indexName: string,
    pkName: string,
    skName: string,
    partition: string,
    options: ListRunsOptions,
  ): Promise<Page<RunRecord>> {
    const limit = options.limit ?? 20;
    const names: Record<string, string> = { '#pk': pkName };
    const values: Record<string, unknown> = { ':pk': partition };
    let condition = '#pk = :pk';
    // DynamoDB rejects placeholders an expression does not use, so `#sk` is added only with a range.
    if (options.since || options.until) names['#sk'] = skName;
    if (options.since && options.until) {
      condition += ' AND #sk BETWEEN :since AND :until';
      values[':since'] = options.since;
      values[':until'] = options.until;
    } else if (options.since) {
      condition += ' AND #sk >= :since';
      values[':since'] = options.since;
    } else if (options.until) {
      condition += ' AND #sk < :until';
      values[':until'] = options.until;
    }
    let filter: string | undefined;
    if (options.status) {
      filter = '#status = :status';
      names['#status'] = 'status';
      values[':status'] = options.status;
    }
    // With a status filter a page may come back short; keep reading until it is full or the partition ends.
    const items: RunRecord[] = [];
    let startKey = decodeCursor(options.cursor);
    do {
      const res = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          IndexName: indexName,
          KeyConditionExpression: condition,
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(res.Items ?? []).map((item) => stripKeys<RunRecord>(item)));
      startKey = res.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return { items, cursor: encodeCursor(startKey) };
  }

  /** Record the start of an attempt of a step; returns the attempt number (1 for the first). */
  async startStep(
    runId: string,
    name: string,
    itemIndex: number | undefined,
    nowIso: string,
    expiresAt: number,
  ): Promise<number> {
    const res = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.step(runId, name, itemIndex),
        UpdateExpression:
          'SET runId = :runId, #name = :name, #status = :running, startedAt = if_not_exists(startedAt, :now), ' +
          'lastStartedAt = :now, expiresAt = :exp, #type = :type' +
          (itemIndex === undefined ? '' : ', itemIndex = :idx') +
          ' REMOVE endedAt, durationMs, #error ADD attempts :one',
        ExpressionAttributeNames: {
          '#name': 'name',
          '#status': 'status',
          '#type': 'type',
          '#error': 'error',
        },
        ExpressionAttributeValues: {
          ':runId': runId,
          ':name': name,
          ':running': StepStatus.RUNNING,
          ':now': nowIso,
          ':exp': expiresAt,
          ':type': 'step',
          ':one': 1,
          ...(itemIndex === undefined ? {} : { ':idx': itemIndex }),
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(res.Attributes?.attempts ?? 1);
  }

  /** Record the end of the current attempt of a step. */
  async endStep(
    runId: string,
    name: string,
    itemIndex: number | undefined,
    end: { status: StepStatus; endedAt: string; durationMs: number; attempt: number; error?: ErrorInfo },
  ): Promise<void> {
    const failed = end.error !== undefined;
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.step(runId, name, itemIndex),
        UpdateExpression:
          'SET #status = :status, endedAt = :endedAt, durationMs = :d' +
          (failed
            ? ', #error = :error, failures = list_append(if_not_exists(failures, :none), :failure)'
            : ''),
        ExpressionAttributeNames: { '#status': 'status', ...(failed ? { '#error': 'error' } : {}) },
        ExpressionAttributeValues: {
          ':status': end.status,
          ':endedAt': end.endedAt,
          ':d': end.durationMs,
          ...(failed
            ? {
                ':error': end.error,
                ':none': [],
                ':failure': [{ attempt: end.attempt, at: end.endedAt, error: end.error }],
              }
            : {}),
        },
      }),
    );
  }

  /**
   * The run with its steps (in start order) and its actions: one query of the run's partition. Its inputs are
   * whole (from the INPUT item when the run item holds them cut).
   */
  async detail(runId: string): Promise<RunDetail> {
    const all: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.runPartition(runId) },
          ExclusiveStartKey: startKey,
        }),
      );
      all.push(...(res.Items ?? []));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    const runItem = all.find((item) => item.sk === 'RUN');
    if (!runItem) throw new RunNotFound(runId);
    const steps = all
      .filter((item) => String(item.sk).startsWith(keys.stepPrefix))
      .map((item) => stripKeys<StepRecord>(item))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || (a.itemIndex ?? 0) - (b.itemIndex ?? 0));
    const actions = all
      .filter((item) => String(item.sk).startsWith(keys.actionPrefix))
      .map((item) => stripKeys<ActionRecord>(item));
    const whole = all.find((item) => item.sk === keys.runInputs(runId).sk);
    const run = stripKeys<RunRecord>(runItem);
    if (whole) {
      const inputs = stripKeys<RunInputs>(whole);
      run.rawInput = inputs.rawInput;
      if (inputs.input) run.input = inputs.input;
    }
    return { run, steps, actions };
  }
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);
}
