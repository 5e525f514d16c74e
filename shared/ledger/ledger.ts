import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RunAlreadyFinal } from '../errors';
import { ledgerDoc, type TableRef } from './dynamo';
import type { RunRecord } from './items';
import { JobsRepository } from './jobs-repository';
import { RunsRepository, type FinalizedRunRef, type RunFinal } from './runs-repository';

/** What {@link Ledger.closeRun} did. */
export interface CloseRunResult {
  /** The run record as it is now. */
  run: RunRecord;
  /** False when the run was final already (a retried or racing finalizer): then only its lock was released. */
  finalized: boolean;
  /** Whether a lock held by the run was released (always, when `finalized`, if it held one). */
  lockReleased: boolean;
}

/**
 * The data layer: one object owns the ledger table and hands out one repository per aggregate. Actions are
 * the release job's alone, so their repository is not built here (`actionsOf(ledger)`, actions-repository.ts):
 * the lifecycle functions' bundles do not carry it.
 */
export class Ledger {
  readonly jobs: JobsRepository;
  readonly runs: RunsRepository;
  /** The table as repositories take it (actions-repository.ts builds its repository from it, on demand). */
  readonly table: TableRef;

  /** `doc` is used through {@link ledgerDoc}: transient DynamoDB failures surface as LedgerUnavailable. */
  constructor(
    doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {
    const table = { doc: ledgerDoc(doc), tableName };
    this.table = table;
    this.jobs = new JobsRepository(table);
    this.runs = new RunsRepository(table);
  }

  /** Build a ledger over a DynamoDB client (instrument the client for tracing first where tracing matters). */
  static fromClient(client: DynamoDBClient, tableName: string): Ledger {
    const doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    return new Ledger(doc, tableName);
  }

  /**
   * End a RUNNING run: finalize its record, then record the end on the job (last run, counters, and the lock
   * released if the run holds it). FinishRun, FailRun, the reconciler and the sweep all end runs this way, and
   * may race or be retried: whoever comes second finds the run final and only makes sure its lock is gone,
   * so a run is counted once.
   */
  async closeRun(run: FinalizedRunRef, final: RunFinal, nowIso: string): Promise<CloseRunResult> {
    let record: RunRecord;
    try {
      record = await this.runs.finalize(run, final);
    } catch (error) {
      if (!(error instanceof RunAlreadyFinal)) throw error;
      const lockReleased = await this.jobs.releaseLock(run.jobId, run.runId, nowIso);
      return { run: await this.runs.get(run.runId), finalized: false, lockReleased };
    }
    const lockReleased = await this.jobs.recordRunEnd(
      run.jobId,
      { runId: run.runId, status: final.status, startedAt: run.startedAt, endedAt: final.endedAt },
      nowIso,
    );
    return { run: record, finalized: true, lockReleased };
  }
}
