/**
 * AWS client factory. Clients are created once per configuration and instrumented for X-Ray so every SDK call
 * shows up in X-Ray. Endpoints and credentials come from the standard SDK chain (`AWS_ENDPOINT_URL_DYNAMODB`
 * points DynamoDB at the embedded one in local mode).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Ledger } from './ledger/ledger';
import { tracing } from './powertools';

const ledgers = new Map<string, Ledger>();

/**
 * The ledger for a table, with one traced DynamoDB client per table and endpoint in this process. The
 * endpoint is part of the key because the SDK reads `AWS_ENDPOINT_URL_DYNAMODB` when a client is created: a
 * second embedded DynamoDB in the same process (tests, local mode) needs its own client.
 */
export function ledgerFor(tableName: string): Ledger {
  const key = `${tableName}@${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}`;
  let ledger = ledgers.get(key);
  if (!ledger) {
    ledger = Ledger.fromClient(
      tracing.instrument(new DynamoDBClient({ maxAttempts: 5 }), 'DynamoDB'),
      tableName,
    );
    ledgers.set(key, ledger);
  }
  return ledger;
}

let sfn: SFNClient | undefined;

/**
 * The traced Step Functions client, created on first use: the reconciler needs it only for executions whose
 * input an event left out, so a cold start that never calls it never loads it.
 */
export function stepFunctions(): SFNClient {
  sfn ??= tracing.instrument(new SFNClient({ maxAttempts: 5 }), 'SFN');
  return sfn;
}

let schedulerClient: SchedulerClient | undefined;

/** The traced EventBridge Scheduler client, created on first use (only the sweep reads schedules). */
export function scheduler(): SchedulerClient {
  schedulerClient ??= tracing.instrument(new SchedulerClient({ maxAttempts: 5 }), 'Scheduler');
  return schedulerClient;
}
