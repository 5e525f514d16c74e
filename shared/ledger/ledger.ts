import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ActionsRepository } from './actions-repository';
import { JobsRepository } from './jobs-repository';
import { RunsRepository } from './runs-repository';

/** The data layer: one object owns the ledger table and hands out one repository per aggregate. */
export class Ledger {
  readonly jobs: JobsRepository;
  readonly runs: RunsRepository;
  readonly actions: ActionsRepository;

  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {
    const table = { doc, tableName };
    this.jobs = new JobsRepository(table);
    this.runs = new RunsRepository(table);
    this.actions = new ActionsRepository(table);
  }

  /** Build a ledger over a DynamoDB client (wrap the client with the tracer first where tracing matters). */
  static fromClient(client: DynamoDBClient, tableName: string): Ledger {
    const doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    return new Ledger(doc, tableName);
  }
}
