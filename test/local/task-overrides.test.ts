/**
 * Every Task state gets a local override, so nothing a definition does can reach AWS: a Task local mode
 * cannot run fails at once with UnmappedTask, and the network guard below proves no connection is opened.
 * The runtime here runs a small hand-written template (no CDK synth), so the file stays fast.
 */
import '../helpers/quiet';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import net from 'node:net';
import tls from 'node:tls';
import { LocalRuntime } from '../../local/runtime';
import {
  asLambdaError,
  asServiceError,
  buildOverrides,
  taskStates,
  UnmappedTask,
} from '../../local/task-overrides';
import type { CfnTemplate, LocalFunction } from '../../local/template';
import { STACK_OUTPUT } from '../../shared/constants';

type Definition = Record<string, unknown>;

const GHOST_FUNCTION = 'arn:aws:lambda:us-east-1:000000000000:function:Ghost';

/** Definitions by state machine logical id; each is a job of the hand-written template. */
const MACHINES: Record<string, Definition> = {
  SqsJob: {
    StartAt: 'Send',
    States: {
      Send: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage',
        Parameters: {
          QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/queue',
          'MessageBody.$': '$',
        },
        End: true,
      },
    },
  },
  GhostLambdaJob: {
    StartAt: 'CallGhost',
    States: {
      CallGhost: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: GHOST_FUNCTION, 'Payload.$': '$' },
        End: true,
      },
    },
  },
  NestedJob: {
    StartAt: 'Fan',
    States: {
      Fan: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Publish',
          States: {
            Publish: {
              Type: 'Task',
              Resource: 'arn:aws:states:::sns:publish',
              Parameters: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:topic', 'Message.$': '$' },
              End: true,
            },
          },
        },
        End: true,
      },
    },
  },
  DynamoJob: {
    StartAt: 'Claim',
    States: {
      Claim: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: {
          // The table's name is a token in a synthesized definition; Fn::Sub below resolves it.
          TableName: '${Ledger}',
          Item: { pk: { 'S.$': '$.key' }, sk: { S: 'CLAIM' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        ResultPath: null,
        Catch: [
          { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.error', Next: 'Taken' },
        ],
        Next: 'Claimed',
      },
      Claimed: { Type: 'Pass', Result: 'claimed', ResultPath: '$.outcome', End: true },
      Taken: { Type: 'Pass', Result: 'taken', ResultPath: '$.outcome', End: true },
    },
  },
};

/** A template with the ledger outputs the runtime reads, one table, and a state machine per entry of MACHINES. */
function handWrittenTemplate(): CfnTemplate {
  const ids = Object.keys(MACHINES);
  const jobs: unknown[] = ['['];
  ids.forEach((id, i) => {
    jobs.push(`${i > 0 ? ',' : ''}{"id":"${id}","stateMachineArn":"`, { Ref: id }, '"}');
  });
  jobs.push(']');
  const key = (AttributeName: string, KeyType: string) => ({ AttributeName, KeyType });
  return {
    Resources: {
      Ledger: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          KeySchema: [key('pk', 'HASH'), key('sk', 'RANGE')],
          AttributeDefinitions: ['pk', 'sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        },
      },
      ...Object.fromEntries(
        ids.map((id) => [
          id,
          {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: { DefinitionString: { 'Fn::Sub': JSON.stringify(MACHINES[id]) } },
          },
        ]),
      ),
    },
    Outputs: {
      [STACK_OUTPUT.JOBS]: { Value: { 'Fn::Join': ['', jobs] } },
      [STACK_OUTPUT.TABLE_NAME]: { Value: { Ref: 'Ledger' } },
    },
  };
}

/** Where a `net.Socket#connect` call goes: `host:port`, or `ipc:<path>`. */
function connectTarget(args: unknown[]): string {
  // net.connect() hands Socket#connect its normalized arguments as one array: [options, callback].
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (first && typeof first === 'object') {
    const options = first as { host?: string; port?: number | string; path?: string };
    return options.path ? `ipc:${options.path}` : `${options.host ?? 'localhost'}:${options.port}`;
  }
  if (typeof first === 'number' || /^\d+$/.test(String(first)))
    return `${String(args[1] ?? 'localhost')}:${first}`;
  return `ipc:${String(first)}`;
}

/**
 * Record every outgoing connection while `work` runs. Connections to `allowed` go through; anything else is
 * refused before it leaves the process, so even a failing test cannot reach AWS.
 */
async function guardNetwork<T>(
  allowed: string,
  work: () => Promise<T>,
): Promise<{ value: T; blocked: string[]; tlsCalls: number }> {
  const blocked: string[] = [];
  const connect = net.Socket.prototype.connect;
  const socketSpy = jest.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ) {
    const target = connectTarget(args);
    if (target === allowed) return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    blocked.push(target);
    process.nextTick(() => this.destroy(new Error(`Test network guard refused a connection to ${target}`)));
    return this;
  } as typeof connect);
  const tlsSpy = jest.spyOn(tls, 'connect');
  try {
    const value = await work();
    return { value, blocked, tlsCalls: tlsSpy.mock.calls.length };
  } finally {
    socketSpy.mockRestore();
    tlsSpy.mockRestore();
  }
}

describe('a Task local mode cannot run', () => {
  let runtime: LocalRuntime;
  let dynalite: string;
  beforeAll(async () => {
    runtime = await LocalRuntime.start({ template: handWrittenTemplate(), logLevel: 'SILENT' });
    dynalite = new URL(String(process.env.AWS_ENDPOINT_URL_DYNAMODB)).host;
  });
  afterAll(async () => {
    await runtime.stop();
  });

  it.each([
    ['an SQS integration', 'SqsJob', 'Send', 'arn:aws:states:::sqs:sendMessage', { hello: 'world' }],
    [
      'lambda:invoke of a function not in the template',
      'GhostLambdaJob',
      'CallGhost',
      'arn:aws:states:::lambda:invoke',
      {},
    ],
    [
      'an SNS integration inside a Map',
      'NestedJob',
      'Publish',
      'arn:aws:states:::sns:publish',
      { items: [1, 2] },
    ],
  ])('fails with UnmappedTask and opens no connection: %s', async (_what, jobId, state, resource, input) => {
    const {
      value: result,
      blocked,
      tlsCalls,
    } = await guardNetwork(dynalite, () => runtime.run(jobId, input));
    expect(result).toMatchObject({ status: 'FAILED', error: 'UnmappedTask' });
    expect(result.cause).toContain(
      `Task state "${state}" uses resource "${resource}", which local mode does not run`,
    );
    expect(blocked).toEqual([]);
    expect(tlsCalls).toBe(0);
  });

  it('runs DynamoDB integrations against dynalite, with errors named as Step Functions names them', async () => {
    const { value: results, blocked } = await guardNetwork(dynalite, async () => [
      await runtime.run('DynamoJob', { key: 'k1' }),
      await runtime.run('DynamoJob', { key: 'k1' }),
    ]);
    expect(blocked).toEqual([]);
    const [first, second] = results;
    expect(first).toMatchObject({ status: 'SUCCEEDED', output: { key: 'k1', outcome: 'claimed' } });
    expect(second).toMatchObject({
      status: 'SUCCEEDED',
      output: { outcome: 'taken', error: { Error: 'DynamoDB.ConditionalCheckFailedException' } },
    });
  });

  it('the guard would catch the call: the bare engine, without overrides, tries to reach Lambda', async () => {
    const bare = new StateMachine(MACHINES.SqsJob as never);
    const { value, blocked } = await guardNetwork(dynalite, async () => {
      try {
        await bare.run({}).result;
        return 'succeeded';
      } catch {
        return 'failed';
      }
    });
    expect(value).toBe('failed');
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.every((target) => target !== dynalite)).toBe(true);
  });
});

describe('taskStates', () => {
  it('finds the Tasks of Map item processors (and legacy iterators) and Parallel branches, by name', () => {
    const task = (resource: string) => ({ Type: 'Task', Resource: resource, End: true });
    const definition = {
      StartAt: 'Top',
      States: {
        Top: {
          ...task('arn:aws:states:::lambda:invoke'),
          Parameters: { FunctionName: 'F' },
          End: undefined,
          Next: 'Fan',
        },
        Fan: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Branches',
            States: {
              Branches: {
                Type: 'Parallel',
                Branches: [
                  { StartAt: 'Left', States: { Left: task('arn:left') } },
                  {
                    StartAt: 'Right',
                    States: { Right: task('arn:right'), Idle: { Type: 'Pass', End: true } },
                  },
                ],
                End: true,
              },
            },
          },
          Next: 'Legacy',
        },
        Legacy: {
          Type: 'Map',
          Iterator: { StartAt: 'Old', States: { Old: task('arn:old') } },
          Next: 'Choose',
        },
        Choose: { Type: 'Choice', Choices: [], Default: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    expect(taskStates(definition)).toEqual([
      { name: 'Top', resource: 'arn:aws:states:::lambda:invoke', parameters: { FunctionName: 'F' } },
      { name: 'Left', resource: 'arn:left', parameters: undefined },
      { name: 'Right', resource: 'arn:right', parameters: undefined },
      { name: 'Old', resource: 'arn:old', parameters: undefined },
    ]);
  });

  it('finds nothing in a definition without Tasks', () => {
    expect(taskStates({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } })).toEqual([]);
  });
});

describe('asLambdaError', () => {
  it("keeps the error's name, so Retry and Catch match it, and gives a Lambda-shaped JSON Cause", () => {
    class TransientError extends Error {
      constructor(message: string) {
        super(message);
        this.name = 'TransientError';
      }
    }
    const wrapped = asLambdaError(new TransientError('try again'));
    expect(wrapped.name).toBe('TransientError');
    expect(JSON.parse(wrapped.message)).toEqual({ errorType: 'TransientError', errorMessage: 'try again' });
  });

  it('describes a thrown non-Error as an Error with its text', () => {
    const wrapped = asLambdaError('plain string');
    expect(wrapped.name).toBe('Error');
    expect(JSON.parse(wrapped.message)).toEqual({ errorType: 'Error', errorMessage: 'plain string' });
  });
});

describe('asServiceError', () => {
  it('prefixes the service, as Step Functions names integration errors', () => {
    const sdkError = Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
    });
    const wrapped = asServiceError('DynamoDB', sdkError);
    expect(wrapped.name).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(wrapped.message).toBe('The conditional request failed');
  });
});

describe('buildOverrides', () => {
  const fn: LocalFunction = {
    logicalId: 'WorkFunction',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:WorkFunction',
    entry: 'tasks/work.ts',
    handler: 'handler',
    environment: {},
    timeoutSeconds: 3,
  };
  const unusedDynamo = {} as DynamoDBClient;
  const definition = {
    StartAt: 'Direct',
    States: {
      Direct: { Type: 'Task', Resource: fn.arn, Next: 'Versioned' },
      Versioned: { Type: 'Task', Resource: `${fn.arn}:$LATEST`, Next: 'Invoke' },
      Invoke: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: fn.logicalId, 'Payload.$': '$' },
        Next: 'Ghost',
      },
      Ghost: { Type: 'Task', Resource: GHOST_FUNCTION, End: true },
    },
  };

  it('runs the function in-process: the payload itself for a function ARN, the Lambda response for lambda:invoke', async () => {
    const invoke = jest.fn(async (_fn: LocalFunction, payload: unknown, _state: string) => ({
      echoed: payload,
    }));
    const overrides = buildOverrides(definition, [fn], invoke, unusedDynamo);
    expect(Object.keys(overrides)).toEqual(['Direct', 'Versioned', 'Invoke', 'Ghost']);

    await expect(overrides.Direct?.({ a: 1 })).resolves.toEqual({ echoed: { a: 1 } });
    await expect(overrides.Versioned?.({ a: 2 })).resolves.toEqual({ echoed: { a: 2 } });
    await expect(overrides.Invoke?.({ Payload: { a: 3 } })).resolves.toEqual({
      StatusCode: 200,
      ExecutedVersion: '$LATEST',
      Payload: { echoed: { a: 3 } },
    });
    expect(invoke.mock.calls.map(([called, payload, state]) => [called.logicalId, payload, state])).toEqual([
      ['WorkFunction', { a: 1 }, 'Direct'],
      ['WorkFunction', { a: 2 }, 'Versioned'],
      ['WorkFunction', { a: 3 }, 'Invoke'],
    ]);
  });

  it('rethrows handler errors Lambda-shaped and refuses a function the template does not have', async () => {
    const invoke = jest.fn(async () => {
      throw Object.assign(new Error('nope'), { name: 'LockHeld' });
    });
    const overrides = buildOverrides(definition, [fn], invoke, unusedDynamo);
    await expect(overrides.Direct?.({})).rejects.toMatchObject({
      name: 'LockHeld',
      message: JSON.stringify({ errorType: 'LockHeld', errorMessage: 'nope' }),
    });
    await expect(overrides.Ghost?.({})).rejects.toBeInstanceOf(UnmappedTask);
    expect(invoke).toHaveBeenCalledTimes(1);
  });
});
