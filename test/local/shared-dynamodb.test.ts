import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTables, ledgerTableInput } from '../../local/embedded-dynamodb';
import { readInfo, serverFiles } from '../../local/ledger-server';
import { connectSharedDynamoDb } from '../../local/shared-dynamodb';

jest.setTimeout(60_000);

let dataDir: string;
beforeEach(() => {
  dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'stepjobs-shared-')), 'dynamodb');
});
afterEach(() => rmSync(path.dirname(dataDir), { recursive: true, force: true }));

const key = (id: string) => ({ pk: { S: id }, sk: { S: 'RUN' } });

test('the first connection holds the store, the next forwards to it, and takes it over when the first ends', async () => {
  const first = await connectSharedDynamoDb(dataDir);
  await createTables(first.client, [ledgerTableInput('ledger')]);
  const holder = readInfo(serverFiles(dataDir).info);
  expect(holder?.pid).toBe(process.pid);

  const second = await connectSharedDynamoDb(dataDir);
  // The second reaches the first's store: what one writes, the other reads.
  expect(second.endpoint).toBe(first.endpoint);
  await second.client.send(
    new PutItemCommand({ TableName: 'ledger', Item: { ...key('RUN#a'), by: { S: 'second' } } }),
  );
  const seen = await first.client.send(new GetItemCommand({ TableName: 'ledger', Key: key('RUN#a') }));
  expect(seen.Item?.by).toEqual({ S: 'second' });

  await first.stop();
  expect(existsSync(serverFiles(dataDir).info)).toBe(false);

  // Nobody is at the old port now: the second's next request finds that out, takes the store over, and goes on.
  await second.client.send(
    new PutItemCommand({ TableName: 'ledger', Item: { ...key('RUN#b'), by: { S: 'second' } } }),
  );
  const after = await second.client.send(new GetItemCommand({ TableName: 'ledger', Key: key('RUN#a') }));
  expect(after.Item?.by).toEqual({ S: 'second' });
  const announced = readInfo(serverFiles(dataDir).info);
  expect(announced?.port).not.toBe(holder?.port);
  await second.stop();

  // Both writes are on disk: a third connection, holding the store anew, reads them.
  const third = await connectSharedDynamoDb(dataDir);
  for (const id of ['RUN#a', 'RUN#b']) {
    const read = await third.client.send(new GetItemCommand({ TableName: 'ledger', Key: key(id) }));
    expect(read.Item?.by).toEqual({ S: 'second' });
  }
  await third.stop();
});
