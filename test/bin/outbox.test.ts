/**
 * Run summaries in local mode: the run notifier runs as the ledger's stream would invoke it on AWS, and what it
 * would have sent lands in the outbox of the embedded DynamoDB, which `stepjobs outbox` lists. A failed run and a
 * MISSED slot each produce a topic message in Amazon Q Developer's custom notification format, with the facts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectOneLineUsageError, runCli } from '../helpers/cli';

jest.setTimeout(60_000);

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'stepjobs-outbox-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const cli = (...args: string[]) => runCli(args, { ...process.env, STEPJOBS_DATA_DIR: dataDir });

interface Entry {
  channel: string;
  runId: string;
  jobId: string;
  status: string;
  outcome: string;
  subject?: string;
  message: { default?: string; email?: string } & Record<string, unknown>;
}
const outbox = async (...args: string[]) => {
  const result = await cli('outbox', '--json', ...args);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as Entry[];
};

test('an empty outbox says so', async () => {
  const result = await cli('outbox');
  expect(result.stdout).toContain('The outbox is empty');
});

test('a failed run: a chat notification with its facts on the topic, and a "Run Finished" event', async () => {
  const run = await cli('run', 'heartbeat', '--input', '{"message": 42}');
  expect(run.code).toBe(1);
  const runId = /Run (\S+): FAILED/.exec(run.stdout)?.[1] ?? '';
  expect(runId).not.toBe('');

  const entries = await outbox('--run', runId);
  expect(entries.map((e) => e.channel).sort()).toEqual(['events', 'topic']);
  const topic = entries.find((e) => e.channel === 'topic');
  expect(topic).toMatchObject({
    jobId: 'heartbeat',
    status: 'FAILED',
    outcome: 'FAILED',
    subject: 'stepjobs: heartbeat FAILED',
  });
  const chat = JSON.parse(topic?.message.default ?? '{}');
  expect(chat).toMatchObject({
    version: '1.0',
    source: 'custom',
    content: { textType: 'client-markdown', title: expect.stringContaining('heartbeat FAILED') },
    metadata: { additionalContext: { runId, status: 'FAILED' } },
  });
  expect(chat.content.description).toContain('*Error:* InvalidInput');
  expect(chat.content.description).toMatch(/\*Started by:\* local:\S+/);
  expect(chat.content.nextSteps).toEqual([
    `Show the run: npx stepjobs --aws show ${runId}`,
    expect.stringContaining('console.aws.amazon.com'),
  ]);
  expect(topic?.message.email).toMatch(/^Error +InvalidInput: /m);
  const event = entries.find((e) => e.channel === 'events');
  expect(event).toMatchObject({
    subject: 'stepjobs Run Finished',
    message: { runId, status: 'FAILED', version: '1' },
  });

  // The run keeps what was sent about it.
  const show = await cli('show', runId, '--json');
  expect(JSON.parse(show.stdout).run.notification).toMatchObject({
    outcome: 'FAILED',
    sent: ['events', 'topic'],
  });
});

test('a MISSED slot reaches the topic too; a succeeded heartbeat only the event bus', async () => {
  const schedule = await cli(
    'schedule',
    '--local',
    '--from',
    '2027-06-01T00:00:00Z',
    '--to',
    '2027-06-01T00:20:00Z',
    '--job',
    'heartbeat',
    '--drop',
    '1',
    '--seed',
    '1',
  );
  expect(schedule.code).toBe(0);
  const topics = await outbox('--channel', 'topic');
  const missed = topics.find((e) => e.status === 'MISSED');
  expect(missed).toMatchObject({ jobId: 'heartbeat', outcome: 'MISSED' });
  expect(JSON.parse(missed?.message.default ?? '{}').content.description).toContain('no delivery arrived');
  expect(topics.filter((e) => e.status === 'SUCCEEDED')).toEqual([]);
  const succeeded = (await outbox('--channel', 'events', '--limit', '50')).filter(
    (e) => e.status === 'SUCCEEDED',
  );
  expect(succeeded).toHaveLength(2);
});

test('the table and --full show each message as its reader would', async () => {
  const list = await cli('outbox', '--limit', '3');
  expect(list.stdout).toMatch(/^Outbox \(local mode: what would have been sent; nothing left this machine\)/);
  const full = await cli('outbox', '--full', '--channel', 'topic', '--limit', '1');
  expect(full.stdout).toContain('Chat notification (default):');
  expect(full.stdout).toContain('"source": "custom"');
});

test('bad flags are one clear line', async () => {
  expectOneLineUsageError(
    await cli('outbox', '--channel', 'pager'),
    /--channel must be one of topic, events, slack \(got "pager"\)/,
  );
  expectOneLineUsageError(await cli('outbox', '--aws'), /outbox is local only/);
  expectOneLineUsageError(await cli('outbox', '--limit', 'many'), /--limit/);
});
