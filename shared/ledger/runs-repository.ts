import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  FINAL_RUN_STATUSES,
  INLINE_INPUT_BYTES,
  MAX_STEP_OUTPUT_BYTES,
  RunStatus,
  STORED_RAW_INPUT_BYTES,
  STORED_VALIDATED_INPUT_BYTES,
  StepStatus,
  TriggerType,
} from '../constants';
import { RunAlreadyExists, RunAlreadyFinal, RunNotFound } from '../errors';
import { cutStoredJson, type StoredJson } from '../json';
import { isConditionFailed, stripKeys, type TableRef } from './dynamo';
import {
  batchGetInOrder,
  mergedKeyPage,
  queryPartition,
  type KeySource,
  type SortRange,
} from './index-pages';
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
  trigger?: TriggerType;
  /**
   * How far back a RUNNING run can have started (the job's lock lease: a run cannot outlive it), for filters
   * that include RUNNING runs. Required then: RUNNING runs are found in that window of the job's runs, since
   * a run enters the status indexes only when it becomes final.
   */
  runningSince?: string;
}

/** A job and how far back its RUNNING runs can have started, for {@link RunsRepository.listAll}. */
export interface RunningWindow {
  jobId: string;
  since: string;
}

const TRIGGERS = Object.values(TriggerType);
const DEFAULT_PAGE = 20;

/** What finalizing a run needs to know about it: its index keys depend on its job and trigger. */
export interface FinalizedRunRef {
  runId: string;
  jobId: string;
  startedAt: string;
  trigger: { type: TriggerType };
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
    const item = runItem(run);
    // runItem cuts an input longer than the run item holds: keep the whole texts beside it first.
    if (item.rawInput !== run.rawInput || item.input !== run.input) {
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
          Item: item,
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

  /** Which of `runIds` have a run record. */
  async existing(runIds: readonly string[]): Promise<Set<string>> {
    const items = await batchGetInOrder(
      this.table,
      [...new Set(runIds)].map((id) => keys.run(id)),
      ['runId'],
    );
    return new Set(items.map((item) => String(item.runId)));
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
  async finalize(run: FinalizedRunRef, final: RunFinal): Promise<RunRecord> {
    const { runId } = run;
    const indexKeys = keys.finalRun(run.jobId, final.status, run.trigger.type);
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':status': final.status,
      ':endedAt': final.endedAt,
      ':running': RunStatus.RUNNING,
      ':d': Math.max(0, Date.parse(final.endedAt) - Date.parse(run.startedAt)),
      ':gsi2pk': indexKeys.gsi2pk,
      ':gsi3pk': indexKeys.gsi3pk,
    };
    const sets = [
      '#status = :status',
      'endedAt = :endedAt',
      'durationMs = :d',
      `${TABLE_KEYS.gsi2.pk} = :gsi2pk`,
      `${TABLE_KEYS.gsi3.pk} = :gsi3pk`,
    ];
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

  /**
   * A job's runs, newest first, one page at a time, filtered by status, trigger and start time. A page costs
   * one query of a page of keys per index partition it merges (at most 7) plus one batch read, whatever the
   * length of the history.
   */
  async listByJob(jobId: string, options: ListRunsOptions = {}): Promise<Page<RunRecord>> {
    const { status, trigger } = options;
    const statuses = status ? [status] : FINAL_RUN_STATUSES;
    const sources: KeySource[] =
      status === undefined && trigger === undefined
        ? [{ index: TABLE_KEYS.gsi1, partition: keys.jobRunsPartition(jobId) }]
        : statuses
            .filter((s) => s !== RunStatus.RUNNING)
            .flatMap((s) =>
              (trigger ? [trigger] : TRIGGERS).map((t) => ({
                index: TABLE_KEYS.gsi2,
                partition: keys.runFacetPartition(jobId, s, t),
              })),
            );
    if (status === RunStatus.RUNNING || (status === undefined && trigger !== undefined)) {
      sources.push(this.runningSource([{ jobId, since: required(options.runningSince) }], trigger));
    }
    return this.page(sources, options);
  }

  /**
   * Every run of a job started in [since, until), newest first, following the cursor page by page: for a
   * reader that needs a whole window (the audit digest), however many runs it holds. Each page is one
   * unfiltered {@link listByJob} page: one query of GSI1 (the window is its key condition) plus one batch
   * read, never a Scan, whatever the length of the history. @default pageSize 100
   */
  async *allByJob(
    jobId: string,
    window: { since: string; until: string; pageSize?: number },
  ): AsyncGenerator<RunRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.listByJob(jobId, {
        since: window.since,
        until: window.until,
        limit: window.pageSize ?? 100,
        ...(cursor ? { cursor } : {}),
      });
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  /**
   * Runs of every job, newest first, for audit: by status over GSI3, or over all final statuses merged with
   * the RUNNING runs of `running` (each job's window, as for {@link listByJob}).
   */
  async listAll(options: ListRunsOptions & { running: readonly RunningWindow[] }): Promise<Page<RunRecord>> {
    const { status } = options;
    const sources: KeySource[] = (status ? [status] : FINAL_RUN_STATUSES)
      .filter((s) => s !== RunStatus.RUNNING)
      .map((s) => ({ index: TABLE_KEYS.gsi3, partition: keys.runStatusPartition(s) }));
    if (status === undefined || status === RunStatus.RUNNING)
      sources.push(this.runningSource(options.running));
    return this.page(sources, options);
  }

  private async page(sources: readonly KeySource[], options: ListRunsOptions): Promise<Page<RunRecord>> {
    const page = await mergedKeyPage(this.table, sources, {
      limit: options.limit ?? DEFAULT_PAGE,
      since: options.since,
      until: options.until,
      cursor: options.cursor,
    });
    // Eventually consistent, like the index the keys came from: half the read units of a consistent read.
    const items = await batchGetInOrder(
      this.table,
      page.keys.map((k) => k.key),
      undefined,
      false,
    );
    return {
      items: items.map((item) => stripKeys<RunRecord>(item)),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    };
  }

  /**
   * The RUNNING runs of some jobs: every run each started within its window (bounded by the lease, not by the
   * history), read and kept when still RUNNING.
   */
  private runningSource(windows: readonly RunningWindow[], trigger?: TriggerType): KeySource {
    return async (range: SortRange) => {
      const keysFound: Array<{ key: Record<string, unknown>; order: string }> = [];
      for (const window of windows) {
        const since = range.since !== undefined && range.since > window.since ? range.since : window.since;
        if (range.before !== undefined && since >= range.before) continue;
        const source = { index: TABLE_KEYS.gsi1, partition: keys.jobRunsPartition(window.jobId) };
        let before = range.before;
        for (;;) {
          const found = await queryPartition(this.table, source, { since, before }, 100);
          keysFound.push(...found.keys);
          const last = found.keys.at(-1);
          if (!found.more || !last) break;
          before = last.order;
        }
      }
      const items = await batchGetInOrder(
        this.table,
        keysFound.map((k) => k.key),
      );
      const running = new Set(
        items
          .filter((item) => item.status === RunStatus.RUNNING)
          .filter(
            (item) =>
              trigger === undefined || (item.trigger as { type?: string } | undefined)?.type === trigger,
          )
          .map((item) => `${String(item.pk)}\u0000${String(item.sk)}`),
      );
      return {
        keys: keysFound.filter((k) => running.has(`${String(k.key.pk)}\u0000${String(k.key.sk)}`)),
        more: false,
      };
    };
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
    end: {
      status: StepStatus;
      endedAt: string;
      durationMs: number;
      attempt: number;
      error?: ErrorInfo;
      /** What the step returned, as JSON text (cut like an input); the run's results live on its steps. */
      output?: StoredJson;
    },
  ): Promise<void> {
    const failed = end.error !== undefined;
    const output = end.output === undefined ? undefined : cutStoredJson(end.output, MAX_STEP_OUTPUT_BYTES);
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.step(runId, name, itemIndex),
        UpdateExpression:
          'SET #status = :status, endedAt = :endedAt, durationMs = :d' +
          (output ? ', #output = :output' : '') +
          (failed
            ? ', #error = :error, failures = list_append(if_not_exists(failures, :none), :failure)'
            : ''),
        ExpressionAttributeNames: {
          '#status': 'status',
          ...(failed ? { '#error': 'error' } : {}),
          ...(output ? { '#output': 'output' } : {}),
        },
        ExpressionAttributeValues: {
          ':status': end.status,
          ':endedAt': end.endedAt,
          ':d': end.durationMs,
          ...(output ? { ':output': output } : {}),
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

/**
 * The run item as {@link RunsRepository.create} writes it: its index keys (GSI2 and GSI3 too when the run is
 * final at creation) and its inputs cut to INLINE_INPUT_BYTES.
 */
export function runItem(run: RunRecord): Record<string, unknown> {
  const input = run.input && cutStoredJson(run.input, INLINE_INPUT_BYTES);
  return {
    ...keys.run(run.runId),
    ...keys.jobRuns(run.jobId, run.startedAt, run.runId),
    // Final at creation (SKIPPED, DUPLICATE, an invalid input): in the status indexes at once.
    ...(run.status === RunStatus.RUNNING ? {} : keys.finalRun(run.jobId, run.status, run.trigger.type)),
    type: 'run',
    ...run,
    rawInput: cutStoredJson(run.rawInput, INLINE_INPUT_BYTES),
    ...(input ? { input } : {}),
  };
}

function required(runningSince: string | undefined): string {
  if (runningSince === undefined) throw new Error('A filter that includes RUNNING runs needs runningSince');
  return runningSince;
}
