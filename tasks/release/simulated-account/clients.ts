/** The simulated account's SDK clients: real client instances whose every command is answered in-process. */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import type { Clients } from '../model';
import { SimulatedEc2 } from './ec2';
import { UnsupportedBySimulatedAccount } from './errors';
import { documentClient, Inventory } from './inventory';
import { SimulatedLogs } from './logs';
import type { Handler, Input } from './requests';
import type { SimulatedAccountOptions } from './service';
import { stsHandlers } from './sts';

/** The shape of a client's middleware stack this module needs (every SDK v3 client has it). */
interface Stackable {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/** Answer every command of `client` with `handlers`, in-process, at the first middleware step. */
function answerInProcess<C>(client: C, service: string, handlers: Record<string, Handler>): C {
  (client as unknown as Stackable).middlewareStack.add(
    (_next, context) => async (args) => {
      const command = (context.commandName ?? 'an unnamed command').replace(/Command$/, '');
      const handler = handlers[command];
      if (!handler) throw new UnsupportedBySimulatedAccount(`${service} ${command}`);
      const output = await handler((args.input ?? {}) as Input);
      return {
        output: {
          $metadata: { httpStatusCode: 200, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 },
          ...output,
        },
        response: {},
      };
    },
    { step: 'initialize', name: 'stepjobsSimulatedAccount', priority: 'high' },
  );
  return client;
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
    ec2: answerInProcess(new EC2Client(config), 'EC2', ec2.handlers),
    logs: answerInProcess(new CloudWatchLogsClient(config), 'CloudWatchLogs', logs.handlers),
    sts: answerInProcess(new STSClient(config), 'STS', stsHandlers(account)),
  };
}
