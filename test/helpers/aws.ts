/**
 * What the SDK-level tests of the `--aws` target share: real clients per test (so a mock on one never leaks
 * into another), AWS-shaped errors, and execution history events.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsClients } from '../../bin/cli/aws-target';
import { REGION } from './builders';

/** What every test client is created with: the test region and credentials (no real account is reached). */
export const TEST_CLIENT_CONFIG = {
  region: REGION,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

/** New clients with test credentials; `dynamo` may be a real one (an embedded DynamoDB's). */
export function newClients(dynamo?: DynamoDBClient): AwsClients {
  const config = TEST_CLIENT_CONFIG;
  return {
    cloudFormation: new CloudFormationClient(config),
    sfn: new SFNClient(config),
    sts: new STSClient(config),
    dynamo: dynamo ?? new DynamoDBClient(config),
    scheduler: new SchedulerClient(config),
  };
}

/** An error as the SDK raises a service's refusal. */
export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

/** A history event at second `second` of the execution. */
export function historyEvent(id: number, second: number, fields: Partial<HistoryEvent>): HistoryEvent {
  return {
    id,
    timestamp: new Date(Date.UTC(2026, 10, 30, 10, 0, second)),
    type: 'PassStateEntered',
    ...fields,
  };
}

export const entered = (id: number, second: number, name: string): HistoryEvent =>
  historyEvent(id, second, { type: 'TaskStateEntered', stateEnteredEventDetails: { name } });

export const exited = (id: number, second: number, name: string): HistoryEvent =>
  historyEvent(id, second, { type: 'TaskStateExited', stateExitedEventDetails: { name } });
