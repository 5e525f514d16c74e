/**
 * The failure model's invariants (docs/architecture.md, "Failure model"), checked over everything a local
 * runtime holds: its record of executions (what Step Functions knows) and the ledger. Returns what is wrong,
 * one line per violation, so a test can `expect(await violations(runtime)).toEqual([])` after every case.
 *
 * I1  every execution that ended has exactly one run record, and it is final;
 * I2  no lock outlives its run: a held lock's run is RUNNING and its execution alive;
 * I3  every claimed slot's run has a record (so a DUPLICATE always points at a run that `show` finds).
 * I4 is checked by the tests themselves: they know what each caller sent.
 */
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../../local/runtime';
import { FINAL_RUN_STATUSES, RunStatus } from '../../shared/constants';
import { keys } from '../../shared/ledger/keys';

export interface InvariantCounts {
  executions: number;
  /** Ended executions with no run record, or whose run is not final. */
  recordsLost: number;
  /** Runs still RUNNING whose execution has ended. */
  runsLeftRunning: number;
  locksLeaked: number;
  /** Claimed slots whose run has no record. */
  orphanSlots: number;
}

export async function invariantReport(
  runtime: LocalRuntime,
): Promise<{ violations: string[]; counts: InvariantCounts }> {
  const violations: string[] = [];
  const counts: InvariantCounts = {
    executions: 0,
    recordsLost: 0,
    runsLeftRunning: 0,
    locksLeaked: 0,
    orphanSlots: 0,
  };
  const doc = DynamoDBDocumentClient.from(runtime.dynamoClient);
  const final = new Set<string>(FINAL_RUN_STATUSES);
  for (const job of runtime.jobs.values()) {
    // I1: every execution that ended has exactly one final record (the run id is the execution name).
    let nextToken: string | undefined;
    do {
      const page = await runtime.executions.list(job.stateMachineArn, { nextToken });
      const statuses = await runStatuses(
        doc,
        runtime.tableName,
        page.executions.map((e) => e.name ?? ''),
      );
      for (const execution of page.executions) {
        counts.executions += 1;
        if (execution.status === 'RUNNING') continue;
        const status = statuses.get(execution.name ?? '');
        const run = status === undefined ? undefined : { status };
        if (!run) {
          counts.recordsLost += 1;
          violations.push(
            `I1 ${job.jobId}: execution ${execution.name} ended ${execution.status} with no run record`,
          );
        } else if (!final.has(run.status)) {
          counts.runsLeftRunning += 1;
          violations.push(
            `I1 ${job.jobId}: execution ${execution.name} ended ${execution.status}, its run is ${run.status}`,
          );
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);

    // I2: a held lock belongs to a RUNNING run whose execution still runs.
    const state = await runtime.ledger.jobs.getState(job.jobId);
    if (state.lockRunId) {
      const holder = await runtime.ledger.runs.find(state.lockRunId);
      const execution = await runtime.executions.describe(
        `${job.stateMachineArn.replace(':stateMachine:', ':execution:')}:${state.lockRunId}`,
      );
      if (holder?.status !== RunStatus.RUNNING || execution?.status !== 'RUNNING') {
        counts.locksLeaked += 1;
        violations.push(
          `I2 ${job.jobId}: locked by ${state.lockRunId} (run ${holder?.status ?? 'unrecorded'}, execution ${execution?.status ?? 'unknown'})`,
        );
      }
    }

    // I3: every slot's run has a record.
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await doc.send(
        new QueryCommand({
          TableName: runtime.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :slot)',
          ExpressionAttributeValues: { ':pk': keys.jobPartition(job.jobId), ':slot': 'SLOT#' },
          ExclusiveStartKey: startKey,
        }),
      );
      const owners = (res.Items ?? []).map((item) => String(item.runId));
      const recorded = await runtime.ledger.runs.existing(owners);
      for (const owner of owners) {
        if (recorded.has(owner)) continue;
        counts.orphanSlots += 1;
        violations.push(`I3 ${job.jobId}: a slot belongs to ${owner}, which has no run record`);
      }
      startKey = res.LastEvaluatedKey;
    } while (startKey);
  }
  return { violations, counts };
}

export async function violations(runtime: LocalRuntime): Promise<string[]> {
  return (await invariantReport(runtime)).violations;
}

/** The status of each run of `runIds` that has a record (batched reads). */
async function runStatuses(
  doc: DynamoDBDocumentClient,
  tableName: string,
  runIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < runIds.length; i += 100) {
    let pending: Record<string, unknown>[] = runIds.slice(i, i + 100).map((id) => keys.run(id));
    while (pending.length > 0) {
      const res = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ProjectionExpression: 'runId, #s',
              ExpressionAttributeNames: { '#s': 'status' },
            },
          },
        }),
      );
      for (const item of res.Responses?.[tableName] ?? []) out.set(String(item.runId), String(item.status));
      pending = (res.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return out;
}
