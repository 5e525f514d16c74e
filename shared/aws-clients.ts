/**
 * AWS client factory. Clients are created once per configuration and instrumented for X-Ray so every SDK call
 * shows up in X-Ray. Endpoints and credentials come from the standard SDK chain (`AWS_ENDPOINT_URL_DYNAMODB`
 * points DynamoDB at the embedded one in local mode).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Ledger } from './ledger/ledger';
import { tracing } from './powertools';

const ledgers = new Map<string, Ledger>();

type RequestHandler = NonNullable<DynamoDBClientConfig['requestHandler']>;
const transports = new Map<string, { requestHandler: RequestHandler; id: number }>();
let transportIds = 0;

/**
 * Local mode only (the local runtime calls it; nothing in Lambda does): DynamoDB clients created for
 * `endpoint` send their requests through `requestHandler`, which answers them in this process or forwards them
 * (local/dynamodb-transport.ts); `undefined` withdraws it.
 */
export function provideDynamoDbTransport(endpoint: string, requestHandler: RequestHandler | undefined): void {
  if (requestHandler) transports.set(endpoint, { requestHandler, id: ++transportIds });
  else transports.delete(endpoint);
}

/**
 * What a DynamoDB client for the current endpoint is created with, and the key to cache it by. The SDK reads
 * `AWS_ENDPOINT_URL_DYNAMODB` when a client is created, so the endpoint (and local mode's transport for it) is
 * part of the key: a second embedded DynamoDB in the same process (tests, local mode) needs its own client.
 */
export function dynamoDbClientSetup(): { key: string; config: DynamoDBClientConfig } {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '';
  const transport = transports.get(endpoint);
  return transport
    ? { key: `${endpoint}#${transport.id}`, config: { requestHandler: transport.requestHandler } }
    : { key: endpoint, config: {} };
}

/** The ledger for a table, with one traced DynamoDB client per table and endpoint in this process. */
export function ledgerFor(tableName: string): Ledger {
  const setup = dynamoDbClientSetup();
  const key = `${tableName}@${setup.key}`;
  let ledger = ledgers.get(key);
  if (!ledger) {
    ledger = Ledger.fromClient(
      tracing.instrument(new DynamoDBClient({ maxAttempts: 5, ...setup.config }), 'DynamoDB'),
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
