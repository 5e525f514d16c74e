/**
 * AWS client factory. Clients are created once per configuration and wrapped by the tracer so every SDK call
 * shows up in X-Ray. Endpoints and credentials come from the standard SDK chain (`AWS_ENDPOINT_URL_DYNAMODB`
 * points DynamoDB at the embedded one in local mode).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Ledger } from './ledger/ledger';
import { tracer } from './powertools';

const ledgers = new Map<string, Ledger>();

/** The ledger for a table, with one traced DynamoDB client shared by every caller in this process. */
export function ledgerFor(tableName: string): Ledger {
  let ledger = ledgers.get(tableName);
  if (!ledger) {
    ledger = Ledger.fromClient(tracer.captureAWSv3Client(new DynamoDBClient({ maxAttempts: 5 })), tableName);
    ledgers.set(tableName, ledger);
  }
  return ledger;
}
