/** The inventory table's life outside the clients: create it, seed it, read it whole. */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StepJobsError } from '../../shared/errors';
import { documentClient, Inventory } from './inventory';
import type { SimulatedResource, SimulatedType } from './resources';

const DYNAMO_BATCH = 25;

const ACTIVE_POLL_MS = 10;
const ACTIVE_TIMEOUT_MS = 30_000;

/** Create the inventory table unless it exists, and wait until it is ACTIVE (dynalite, too, creates lazily). */
export async function ensureSimulatedAccountTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const attribute = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [attribute('type'), attribute('id')],
        KeySchema: [
          { AttributeName: 'type', KeyType: 'HASH' },
          { AttributeName: 'id', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') {
      throw new StepJobsError(`Could not create the simulated account table ${tableName}`, { cause: error });
    }
  }
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new StepJobsError(
        `Table ${tableName} is still ${Table?.TableStatus} after ${ACTIVE_TIMEOUT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
  }
}

/**
 * Write `resources` into the inventory (batched; a resource already there is replaced). The table must exist:
 * {@link ensureSimulatedAccountTable}.
 */
export async function seedSimulatedAccount(
  dynamo: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
  resources: readonly SimulatedResource[],
): Promise<void> {
  const seen = new Set<string>();
  for (const resource of resources) {
    const key = `${resource.type}#${resource.id}`;
    if (seen.has(key)) throw new StepJobsError(`The seed lists ${resource.type} ${resource.id} twice`);
    seen.add(key);
  }
  const doc = documentClient(dynamo);
  for (let i = 0; i < resources.length; i += DYNAMO_BATCH) {
    let requests: Record<string, unknown>[] | undefined = resources
      .slice(i, i + DYNAMO_BATCH)
      .map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests?.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }));
      requests = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
    }
  }
}

/** The whole inventory as stored now (every type, in type and id order), for tests and local reports. */
export async function readSimulatedAccount(
  dynamo: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
): Promise<SimulatedResource[]> {
  const inventory = new Inventory(documentClient(dynamo), tableName);
  const types: SimulatedType[] = [
    'ec2-instance',
    'ebs-volume',
    'ebs-snapshot',
    'elastic-ip',
    'log-group',
    'ec2-image',
  ];
  return (await Promise.all(types.map((type) => inventory.all(type)))).flat();
}
