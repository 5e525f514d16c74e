/** The simulated account's SDK clients: real client instances whose every command is answered in-process. */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../../tasks/release/model';
import { SimulatedEc2 } from './ec2';
import { UnsupportedBySimulatedAccount } from './errors';
import { documentClient, Inventory } from './inventory';
import { SimulatedLogs } from './logs';
import { answerInProcess, type InProcessHandler } from '../in-process-client';
import type { SimulatedAccountOptions } from './service';
import { stsHandlers } from './sts';
import { taggingHandlers } from './tagging';

/** A client of the simulated account: every command answered from the inventory, or refused by name. */
function inProcess<C>(client: C, service: string, handlers: Readonly<Record<string, unknown>>): C {
  return answerInProcess(
    client,
    'stepjobsSimulatedAccount',
    handlers as Readonly<Record<string, InProcessHandler>>,
    (command) => new UnsupportedBySimulatedAccount(`${service} ${command}`),
  );
}

/** Credentials the clients never use (nothing is signed), set so the SDK never looks for real ones. */
const NO_CREDENTIALS = { accessKeyId: 'simulated', secretAccessKey: 'simulated' };

/**
 * Clients for the simulated account whose inventory is in `tableName`. Real SDK client instances: every
 * command is answered in-process from the table, and nothing is sent anywhere.
 */
export function simulatedClients(
  dynamo: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
  region = 'us-east-1',
  account = '000000000000',
  options: SimulatedAccountOptions = {},
): Clients {
  const inventory = new Inventory(documentClient(dynamo), tableName);
  const ec2 = new SimulatedEc2(inventory, region, account, options);
  const logs = new SimulatedLogs(inventory, region, account, options);
  const config = { region, credentials: NO_CREDENTIALS, maxAttempts: 1 };
  return {
    ec2: inProcess(new EC2Client(config), 'EC2', ec2.handlers),
    logs: inProcess(new CloudWatchLogsClient(config), 'CloudWatchLogs', logs.handlers),
    sts: inProcess(new STSClient(config), 'STS', stsHandlers(account)),
    tagging: inProcess(
      new ResourceGroupsTaggingAPIClient(config),
      'ResourceGroupsTaggingAPI',
      taggingHandlers(logs, inventory),
    ),
  };
}
