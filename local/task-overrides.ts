/**
 * Every Task state of a definition, mapped to something local. aws-local-stepfunctions calls real AWS for a
 * Task it has no override for, so this module gives EVERY Task an override: a Lambda task runs the handler
 * in-process with that function's own environment, a DynamoDB integration goes to the embedded DynamoDB, and
 * anything else fails with {@link UnmappedTask} naming the state and the resource. Nothing reaches AWS.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { RunOptions } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import type { LocalFunction } from './template';

export class UnmappedTask extends Error {
  constructor(stateName: string, resource: string) {
    super(
      `Task state "${stateName}" uses resource "${resource}", which local mode does not run. ` +
        'Local mode runs Lambda tasks in-process and DynamoDB integrations against the embedded DynamoDB.',
    );
    this.name = 'UnmappedTask';
  }
}

/** The engine's own override and JSON types (it does not export them by name). */
type Override = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
type Json = Parameters<Override>[0];

export interface TaskState {
  name: string;
  resource: string;
  parameters?: Record<string, unknown>;
}

/** All Task states, including those inside Map iterators and Parallel branches (overrides are keyed by name). */
export function taskStates(definition: Record<string, unknown>): TaskState[] {
  const out: TaskState[] = [];
  const states = (definition.States ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') {
      out.push({
        name,
        resource: String(state.Resource),
        parameters: state.Parameters as Record<string, unknown> | undefined,
      });
    }
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (processor) out.push(...taskStates(processor));
    for (const branch of (state.Branches ?? []) as Record<string, unknown>[]) out.push(...taskStates(branch));
  }
  return out;
}

/** What runs one local Lambda invocation; the runtime supplies it (it loads handlers and sets their env). */
export type InvokeLocal = (fn: LocalFunction, payload: unknown, stateName: string) => Promise<unknown>;

/**
 * Step Functions reports a Lambda error with the error type as `Error` and a JSON `Cause`
 * (`{"errorType","errorMessage"}`); the local engine uses `error.message` as the Cause, so wrap it the same way.
 */
export function asLambdaError(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  wrapped.name = name;
  return wrapped;
}

/**
 * Step Functions names a service integration's error after the service (`DynamoDB.ConditionalCheckFailedException`),
 * and Retry and Catch match that name; the SDK's error is named without the prefix.
 */
export function asServiceError(service: string, error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const wrapped = new Error(error instanceof Error ? error.message : String(error));
  wrapped.name = `${service}.${name}`;
  return wrapped;
}

/** The four DynamoDB optimized integrations; their parameters are the low-level API request as written. */
async function sendDynamo(dynamo: DynamoDBClient, action: string, input: unknown): Promise<Json> {
  const request = input as never;
  const response =
    action === 'getItem'
      ? await dynamo.send(new GetItemCommand(request))
      : action === 'putItem'
        ? await dynamo.send(new PutItemCommand(request))
        : action === 'updateItem'
          ? await dynamo.send(new UpdateItemCommand(request))
          : await dynamo.send(new DeleteItemCommand(request));
  const { $metadata: _metadata, ...rest } = response;
  return rest as Json;
}

export function buildOverrides(
  definition: Record<string, unknown>,
  functions: readonly LocalFunction[],
  invoke: InvokeLocal,
  dynamo: DynamoDBClient,
): Record<string, Override> {
  const byArn = new Map<string, LocalFunction>();
  for (const fn of functions) {
    byArn.set(fn.arn, fn);
    byArn.set(fn.logicalId, fn);
  }
  const findFunction = (ref: unknown): LocalFunction | undefined => {
    const text = String(ref ?? '');
    return byArn.get(text) ?? byArn.get(text.replace(/:(\$LATEST|\d+)$/, ''));
  };
  const overrides: Record<string, Override> = {};
  for (const task of taskStates(definition)) {
    overrides[task.name] = overrideFor(task, findFunction, invoke, dynamo);
  }
  return overrides;
}

function overrideFor(
  task: TaskState,
  findFunction: (ref: unknown) => LocalFunction | undefined,
  invoke: InvokeLocal,
  dynamo: DynamoDBClient,
): Override {
  const unmapped: Override = async () => {
    throw new UnmappedTask(task.name, task.resource);
  };
  // `payloadResponseOnly` tasks name the function ARN as the resource and get/return the payload itself.
  const direct = findFunction(task.resource);
  if (direct) {
    return async (input) => {
      try {
        return (await invoke(direct, input, task.name)) as Json;
      } catch (error) {
        throw asLambdaError(error);
      }
    };
  }
  if (/^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/.test(task.resource)) {
    const fn = findFunction(task.parameters?.FunctionName);
    if (!fn) return unmapped;
    return async (input) => {
      const payload = (input as { Payload?: Json }).Payload;
      try {
        const result = await invoke(fn, payload, task.name);
        return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: result as Json };
      } catch (error) {
        throw asLambdaError(error);
      }
    };
  }
  const dynamoAction = /^arn:aws:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.exec(
    task.resource,
  )?.[1];
  if (dynamoAction) {
    return async (input) => {
      try {
        return await sendDynamo(dynamo, dynamoAction, input);
      } catch (error) {
        throw asServiceError('DynamoDB', error);
      }
    };
  }
  return unmapped;
}

/** A Lambda context object good enough for Powertools' Logger.addContext. */
export function lambdaContext(fn: LocalFunction): Record<string, unknown> {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  return {
    awsRequestId: randomUUID(),
    functionName: fn.logicalId,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: '256',
    logGroupName: `/aws/lambda/${fn.logicalId}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
