/**
 * Tracing without the X-Ray SDK: what reaches the X-Ray daemon. A UDP socket stands in for the daemon, and an
 * instrumented DynamoDB client calls the embedded DynamoDB for real.
 */
import { GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { localDynamoDbClient } from '../../local/embedded-dynamodb';
import { daemonAddress, parseTraceHeader, Tracing } from '../../shared/tracing';
import { useEmbeddedLedger } from '../helpers/ledger';

const db = useEmbeddedLedger();
const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0';

let daemon: Socket;
let received: string[];
beforeEach(async () => {
  received = [];
  daemon = createSocket('udp4');
  daemon.on('message', (message) => received.push(message.toString('utf8')));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
});
afterEach(() => daemon.close());

const env = (overrides: Record<string, string> = {}) => ({
  _X_AMZN_TRACE_ID: TRACE,
  AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
  POWERTOOLS_SERVICE_NAME: 'stepjobs',
  ...overrides,
});

async function documents(count: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 100 && received.length < count; i += 1) await new Promise((r) => setTimeout(r, 10));
  return received.map((datagram) => {
    const [header, body] = datagram.split('\n');
    expect(header).toBe('{"format":"json","version":1}');
    return JSON.parse(body ?? '') as Record<string, unknown>;
  });
}

test('an invocation subsegment under Lambda’s segment, and one per SDK call under it, errors included', async () => {
  const tracing = new Tracing(env());
  const client = tracing.instrument(localDynamoDbClient(db.endpoint()), 'DynamoDB');
  const invocation = tracing.startInvocation('StartRun', { jobId: 'heartbeat', 'run-id': 'run-1' });
  await client.send(new ListTablesCommand({}));
  await expect(
    client.send(new GetItemCommand({ TableName: 'no-such-table', Key: { pk: { S: 'x' } } })),
  ).rejects.toThrow();
  invocation.close({ error: new TypeError('boom') });
  client.destroy();

  const [list, get, handler] = await documents(3);
  expect(handler).toMatchObject({
    type: 'subsegment',
    name: '## StartRun',
    trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    parent_id: '53995c3f42cd8ad8',
    annotations: { ColdStart: true, Service: 'stepjobs', jobId: 'heartbeat', run_id: 'run-1' },
    fault: true,
    cause: { exceptions: [expect.objectContaining({ type: 'TypeError', message: 'boom' })] },
  });
  expect(handler?.id).toMatch(/^[0-9a-f]{16}$/);
  expect(list).toMatchObject({
    name: 'DynamoDB',
    namespace: 'aws',
    parent_id: handler?.id,
    trace_id: handler?.trace_id,
    aws: { operation: 'ListTables', retries: 0 },
    http: { response: { status: 200 } },
  });
  expect(list).not.toHaveProperty('error');
  expect(get).toMatchObject({
    aws: { operation: 'GetItem', table_name: 'no-such-table' },
    http: { response: { status: 400 } },
    error: true,
    cause: { exceptions: [expect.objectContaining({ type: 'ResourceNotFoundException' })] },
  });
  for (const doc of [list, get, handler]) {
    expect(Number(doc?.end_time)).toBeGreaterThanOrEqual(Number(doc?.start_time));
  }

  // The next invocation in the container is warm.
  tracing.startInvocation('StartRun').close();
  const [, , , warm] = await documents(4);
  expect(warm).toMatchObject({ annotations: { ColdStart: false } });
});

test.each([
  ['not sampled', { _X_AMZN_TRACE_ID: TRACE.replace('Sampled=1', 'Sampled=0') }],
  ['turned off (local mode)', { POWERTOOLS_TRACE_ENABLED: 'false' }],
  ['outside Lambda', { _X_AMZN_TRACE_ID: '' }],
])('sends nothing when %s', async (_what, overrides) => {
  const tracing = new Tracing(env(overrides));
  const client = tracing.instrument(localDynamoDbClient(db.endpoint()), 'DynamoDB');
  const invocation = tracing.startInvocation('Heartbeat');
  await client.send(new ListTablesCommand({}));
  invocation.close();
  client.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(received).toEqual([]);
});

test('reads the trace header and the daemon address as Lambda sets them', () => {
  expect(parseTraceHeader(TRACE)).toEqual({
    traceId: '1-5759e988-bd862e3fe1be46a994272793',
    parentId: '53995c3f42cd8ad8',
    sampled: true,
  });
  expect(parseTraceHeader('Root=1-abc')).toBeUndefined();
  expect(daemonAddress('169.254.79.129:2000')).toEqual({ host: '169.254.79.129', port: 2000 });
  expect(daemonAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toEqual({ host: '127.0.0.2', port: 2001 });
  expect(daemonAddress(undefined)).toBeUndefined();
});
