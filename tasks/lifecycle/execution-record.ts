/**
 * What the reconciler and the sweep know about an execution from Step Functions (a status-change event, or
 * DescribeExecution), and the run record they write for an execution that StartRun never recorded.
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { DEFAULT_RETENTION_DAYS, MAX_OUTPUT_SUMMARY_BYTES, RunStatus } from '../../shared/constants';
import type { JobMachine } from '../../shared/config';
import { errorFromStates } from '../../shared/errors';
import { storedJson } from '../../shared/json';
import { epochSeconds } from '../../shared/ledger/dynamo';
import type { ErrorInfo, RunRecord } from '../../shared/ledger/items';
import { readExecutionInput } from './execution-input';

/** An execution as Step Functions reports it. */
export interface ExecutionFacts {
  executionArn: string;
  name: string;
  /** Step Functions' status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  status: string;
  startDate?: Date;
  stopDate?: Date;
  /** The execution input as the caller sent it; `undefined` when Step Functions did not say. */
  input?: string;
  /** The final state's output (SUCCEEDED executions). */
  output?: string;
  error?: string;
  cause?: string;
}

/** The final run status for an execution status; `undefined` while the execution is not final. */
export function runStatusOf(executionStatus: string): RunStatus | undefined {
  switch (executionStatus) {
    case 'SUCCEEDED':
      return RunStatus.SUCCEEDED;
    case 'FAILED':
      return RunStatus.FAILED;
    case 'TIMED_OUT':
      return RunStatus.TIMED_OUT;
    case 'ABORTED':
      return RunStatus.ABORTED;
    default:
      // RUNNING, and PENDING_REDRIVE (a redrive is starting; its own end will be reported).
      return undefined;
  }
}

/** The error the ledger keeps for an ended execution; none for a success. */
export function executionError(facts: ExecutionFacts, status: RunStatus): ErrorInfo | undefined {
  if (status === RunStatus.SUCCEEDED) return undefined;
  return errorFromStates(facts.error ?? status, facts.cause);
}

/** DescribeExecution as {@link ExecutionFacts}; `undefined` when Step Functions has no such execution. */
export async function describeExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<ExecutionFacts | undefined> {
  let described: DescribeExecutionCommandOutput;
  try {
    described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist')
      return undefined;
    throw error;
  }
  return {
    executionArn,
    name: described.name ?? executionArn.split(':').pop() ?? '',
    status: described.status ?? 'RUNNING',
    startDate: described.startDate,
    stopDate: described.stopDate,
    // Step Functions leaves out an input or output too large to return (`inputDetails.included: false`).
    input: described.inputDetails?.included === false ? undefined : (described.input ?? undefined),
    output: described.outputDetails?.included === false ? undefined : (described.output ?? undefined),
    error: described.error ?? undefined,
    cause: described.cause ?? undefined,
  };
}

/** The execution ARN of run `runId` of a job's state machine (the run id is the execution name). */
export function executionArnOf(machine: JobMachine, runId: string): string {
  return `${machine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}

/**
 * A final run record for an ended execution that StartRun never recorded (it failed, was aborted or the
 * process died before it wrote one), built from what Step Functions reports. Nothing in the input can make
 * this fail: the input is kept as text, and an unusable trigger stays part of it.
 */
export function recordForExecution(
  facts: ExecutionFacts,
  machine: JobMachine,
  status: RunStatus,
  finalizedBy: string,
  nowIso: string,
): RunRecord {
  const endedAt = facts.stopDate ? facts.stopDate.toISOString() : nowIso;
  const startedAt = facts.startDate ? facts.startDate.toISOString() : endedAt;
  const read = facts.input === undefined ? undefined : readExecutionInput(facts.input);
  const retentionDays = machine.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const error = executionError(facts, status);
  return {
    runId: facts.name,
    executionArn: facts.executionArn,
    jobId: machine.jobId,
    status,
    trigger: read?.trigger ?? { type: 'manual' },
    rawInput: read?.raw ?? storedJson('', 0),
    ...(read ? {} : { inputUnavailable: 'Step Functions did not return the execution input' }),
    startedAt,
    endedAt,
    durationMs: Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)),
    expiresAt: epochSeconds(startedAt) + Math.round(retentionDays * 86_400),
    finalizedBy,
    ...(error ? { error } : {}),
  };
}

/**
 * An execution's output as JSON, cut to {@link MAX_OUTPUT_SUMMARY_BYTES} so a chatty job cannot push its run record
 * past DynamoDB's 400 KB item limit. A cut summary is no longer valid JSON; `truncated` says so.
 */
export function outputSummary(
  results: unknown,
  maxBytes = MAX_OUTPUT_SUMMARY_BYTES,
): { text: string; truncated: boolean } {
  const text = JSON.stringify(results);
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, truncated: false };
  // Cutting at a byte offset can split a multi-byte character; drop the partial one.
  const cut = Buffer.from(text, 'utf8')
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return { text: cut, truncated: true };
}
