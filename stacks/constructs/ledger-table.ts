import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { INDEXES, TABLE_KEYS } from '../../shared/ledger/keys';

export interface LedgerTableProps {
  /** Refuse DeleteTable (CloudFormation's included) until the flag is turned off. */
  readonly deletionProtection: boolean;
}

/**
 * The one DynamoDB table of the run ledger: job state, runs, steps, actions and slots. Keys and indexes come
 * from shared/ledger/keys.ts, the one place the runtime builds them. Run history is the point of the ledger,
 * so the table is retained when the stack goes, and has point-in-time recovery.
 *
 * A plain `AWS::DynamoDB::Table` (not a global table): local mode creates it in dynalite from the template.
 */
export class LedgerTable extends Construct {
  readonly table: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    const string = dynamodb.AttributeType.STRING;
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.pk, type: string },
      sortKey: { name: TABLE_KEYS.sk, type: string },
      // Jobs write a few items per run and sit idle in between: on-demand costs nothing while idle.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection,
      removalPolicy: RemovalPolicy.RETAIN,
      // The run notifier reads it: a run's end is the change of its item to a final status (old and new image).
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    for (const gsi of INDEXES) {
      table.addGlobalSecondaryIndex({
        indexName: gsi.name,
        partitionKey: { name: gsi.pk, type: string },
        sortKey: { name: gsi.sk, type: string },
        // Keys only: a run item is rewritten at every lifecycle step, and an ALL projection would pay for each
        // rewrite again in every index. Listings read a page of keys, then the page's items in one BatchGetItem.
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    this.table = table;
  }
}
