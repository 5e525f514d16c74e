import '../../helpers/quiet';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { RunStatus, StepStatus } from '../../../shared/constants';
import { LedgerUnavailable } from '../../../shared/errors';
import * as runNotes from '../../../shared/ledger/run-notes';
import type { RunRecord } from '../../../shared/ledger/items';
import type { Ledger } from '../../../shared/ledger/ledger';
import { NOTIFY_ENV, type NotifiedJob } from '../../../tasks/notify/config';
import { notifyRunsFinished, type RunFinishedDeps } from '../../../tasks/notify/run-finished';
import { executionArn, runningRecord, storedValue } from '../../helpers/builders';
import { useEmbeddedLedger } from '../../helpers/ledger';

const fixture = useEmbeddedLedger();
const sns = mockClient(SNSClient);
const events = mockClient(EventBridgeClient);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:StepJobs-alarms';

beforeEach(() => {
  sns.reset();
  events.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

const heartbeat: NotifiedJob = {
  jobId: 'heartbeat',
  on: ['FAILED', 'TIMED_OUT', 'ABORTED', 'MISSED'],
  topicArn: TOPIC,
};
const release: NotifiedJob = {
  jobId: 'release-idle-resources',
  on: ['FAILED', 'CHANGED'],
  topicArn: TOPIC,
  figures: {
    step: 'Report',
    fields: { released: 'totals.released', 'saving (USD)': 'saving' },
    changed: 'totals.released',
  },
  slackWebhookSecret: 'stepjobs/slack-webhook',
};

function deps(ledger: Ledger, jobs: NotifiedJob[] = [heartbeat, release]) {
  const posted: Array<{ secretId: string; body: unknown }> = [];
  const d: RunFinishedDeps = {
    ledger,
    env: { [NOTIFY_ENV.JOBS]: JSON.stringify(jobs), [NOTIFY_ENV.EVENT_BUS]: 'default' },
    now: () => new Date('2026-12-01T10:00:05.000Z'),
    region: 'eu-west-1',
    channels: {
      sns: new SNSClient({ region: 'eu-west-1' }),
      events: new EventBridgeClient({ region: 'eu-west-1' }),
      postToWebhook: async (secretId, body) => {
        posted.push({ secretId, body });
      },
    },
  };
  return { deps: d, posted };
}

let sequence = 0;
/** The stream record of a run item changed from `before` to `after` (INSERT when there is no `before`). */
function streamRecord(after: RunRecord, before?: RunRecord) {
  sequence += 1;
  const image = (run: RunRecord) =>
    marshall({ pk: `RUN#${run.runId}`, sk: 'RUN', type: 'run', ...run }, { removeUndefinedValues: true });
  return {
    eventID: `e-${sequence}`,
    eventName: before ? 'MODIFY' : 'INSERT',
    dynamodb: {
      SequenceNumber: String(sequence),
      NewImage: image(after),
      ...(before ? { OldImage: image(before) } : {}),
    },
  };
}

function failedRun(runId: string): { before: RunRecord; after: RunRecord } {
  const before = runningRecord({
    runId,
    trigger: { type: 'schedule', scheduledTime: '2026-12-01T10:00:00Z', attempt: 1 },
    startedAt: '2026-12-01T10:00:01.000Z',
  });
  return {
    before,
    after: {
      ...before,
      status: RunStatus.FAILED,
      endedAt: '2026-12-01T10:00:04.500Z',
      durationMs: 3_500,
      error: { name: 'Lambda.Unknown', cause: 'The function timed out after 30 seconds' },
    },
  };
}

test('a failed run: a "stepjobs Run Finished" event, a chat notification and an email body on the topic, and a record on the run', async () => {
  const ledger = await fixture.fresh();
  const { before, after } = failedRun('sched-1');
  await ledger.runs.create(after);
  const { deps: d } = deps(ledger);

  const result = await notifyRunsFinished({ Records: [streamRecord(after, before)] }, d);

  expect(result).toMatchObject({
    batchItemFailures: [],
    notified: [{ runId: 'sched-1', outcome: 'FAILED', sent: ['events', 'topic'] }],
  });
  const [put] = events.commandCalls(PutEventsCommand);
  const entry = put?.args[0].input.Entries?.[0];
  expect(entry).toMatchObject({
    Source: 'stepjobs',
    DetailType: 'stepjobs Run Finished',
    EventBusName: 'default',
    Resources: [executionArn('heartbeat', 'sched-1')],
  });
  const detail = JSON.parse(entry?.Detail ?? '{}');
  expect(detail).toMatchObject({
    version: '1',
    runId: 'sched-1',
    jobId: 'heartbeat',
    status: 'FAILED',
    outcome: 'FAILED',
    trigger: { type: 'schedule', principal: 'EventBridge Scheduler', scheduledTime: '2026-12-01T10:00:00Z' },
    durationMs: 3_500,
    error: { name: 'Lambda.Unknown', cause: 'The function timed out after 30 seconds' },
    cliCommand: 'npx stepjobs --aws show sched-1',
    consoleUrl: expect.stringContaining(
      'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:',
    ),
  });

  const [publish] = sns.commandCalls(PublishCommand);
  const input = publish?.args[0].input;
  expect(input).toMatchObject({
    TopicArn: TOPIC,
    MessageStructure: 'json',
    Subject: 'stepjobs: heartbeat FAILED',
  });
  const bodies = JSON.parse(input?.Message ?? '{}') as { default: string; email: string };
  // Amazon Q Developer in chat applications' custom notification envelope.
  const chat = JSON.parse(bodies.default);
  expect(Object.keys(chat).sort()).toEqual(['content', 'id', 'metadata', 'source', 'version']);
  expect(chat).toMatchObject({
    version: '1.0',
    source: 'custom',
    id: 'sched-1#FAILED',
    content: {
      textType: 'client-markdown',
      title: expect.stringContaining('heartbeat FAILED'),
      nextSteps: [
        expect.stringContaining('npx stepjobs --aws show sched-1'),
        expect.stringContaining('console.aws.amazon.com'),
      ],
    },
    metadata: {
      threadId: 'stepjobs-heartbeat',
      eventType: 'stepjobs Run Finished',
      relatedResources: [executionArn('heartbeat', 'sched-1')],
      additionalContext: { runId: 'sched-1', status: 'FAILED' },
    },
  });
  expect(chat.content.description).toContain(
    '*Error:* Lambda.Unknown: The function timed out after 30 seconds',
  );
  expect(chat.content.description).toContain('*Slot:* 2026-12-01T10:00:00Z');
  // Email subscribers get plain text.
  expect(bodies.email.split('\n')[0]).toBe('heartbeat FAILED');
  expect(bodies.email).toMatch(/^Duration +3\.5 s$/m);
  expect(bodies.email).not.toContain('{');

  expect((await ledger.runs.get('sched-1')).notification).toEqual({
    at: '2026-12-01T10:00:05.000Z',
    outcome: 'FAILED',
    sent: ['events', 'topic'],
  });
});

test('a run whose outcome the job does not name goes on the bus only, and nothing is written on it', async () => {
  const ledger = await fixture.fresh();
  const before = runningRecord({ runId: 'cli-1' });
  const after = {
    ...before,
    status: RunStatus.SUCCEEDED,
    endedAt: '2026-11-30T10:00:01.000Z',
    durationMs: 1_000,
  };
  await ledger.runs.create(after);

  const result = await notifyRunsFinished({ Records: [streamRecord(after, before)] }, deps(ledger).deps);

  expect(result.notified).toEqual([{ runId: 'cli-1', outcome: 'SUCCEEDED', sent: ['events'], failed: [] }]);
  expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  expect((await ledger.runs.get('cli-1')).notification).toBeUndefined();
});

test('a run that changed something is CHANGED, with the figures of the step the job names, and goes to Slack too', async () => {
  const ledger = await fixture.fresh();
  const before = runningRecord({
    runId: 'cli-2',
    jobId: 'release-idle-resources',
    trigger: { type: 'cli', principal: 'arn:aws:iam::123456789012:user/jane' },
  });
  const after = {
    ...before,
    status: RunStatus.SUCCEEDED,
    endedAt: '2026-11-30T10:00:09.000Z',
    durationMs: 9_000,
  };
  await ledger.runs.create(after);
  await ledger.runs.startStep('cli-2', 'Report', undefined, '2026-11-30T10:00:08.000Z', before.expiresAt);
  await ledger.runs.endStep('cli-2', 'Report', undefined, {
    status: StepStatus.SUCCEEDED,
    endedAt: '2026-11-30T10:00:08.500Z',
    durationMs: 500,
    attempt: 1,
    output: storedValue({ totals: { released: 3 }, saving: 41.5 }),
  });
  const { deps: d, posted } = deps(ledger);

  const result = await notifyRunsFinished({ Records: [streamRecord(after, before)] }, d);

  expect(result.notified[0]).toMatchObject({ outcome: 'CHANGED', sent: ['events', 'topic', 'slack'] });
  const detail = JSON.parse(
    events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail ?? '{}',
  );
  expect(detail).toMatchObject({
    status: 'SUCCEEDED',
    outcome: 'CHANGED',
    changed: 3,
    figures: { released: 3, 'saving (USD)': 41.5 },
    trigger: { principal: 'arn:aws:iam::123456789012:user/jane' },
  });
  expect(posted).toEqual([
    {
      secretId: 'stepjobs/slack-webhook',
      body: { text: expect.stringContaining('*release-idle-resources SUCCEEDED (changed 3)*') },
    },
  ]);
});

test('a channel that cannot send never fails the run: the failure is recorded on the run, the other channels still go', async () => {
  const ledger = await fixture.fresh();
  const { before, after } = failedRun('sched-2');
  await ledger.runs.create(after);
  sns.on(PublishCommand).rejects(
    Object.assign(new Error('User is not authorized to perform SNS:Publish'), {
      name: 'AuthorizationErrorException',
    }),
  );

  const result = await notifyRunsFinished({ Records: [streamRecord(after, before)] }, deps(ledger).deps);

  expect(result.batchItemFailures).toEqual([]);
  expect(result.notified[0]).toMatchObject({ sent: ['events'], failed: ['topic'] });
  expect((await ledger.runs.get('sched-2')).notification).toMatchObject({
    outcome: 'FAILED',
    sent: ['events'],
    failures: [
      {
        channel: 'topic',
        error: {
          name: 'AuthorizationErrorException',
          cause: 'User is not authorized to perform SNS:Publish',
        },
      },
    ],
  });
});

test('a record it cannot process (the ledger cannot be written) is reported from that record on, for Lambda to deliver again', async () => {
  const ledger = await fixture.fresh();
  const first = failedRun('sched-3');
  const second = failedRun('sched-4');
  await ledger.runs.create(first.after);
  await ledger.runs.create(second.after);
  const record = runNotes.recordNotification;
  jest.spyOn(runNotes, 'recordNotification').mockImplementation(async (table, runId, notification) => {
    if (runId === 'sched-4') throw new LedgerUnavailable(new Error('ProvisionedThroughputExceededException'));
    return record(table, runId, notification);
  });
  const third = failedRun('sched-5');
  const records = [
    streamRecord(first.after, first.before),
    streamRecord(second.after, second.before),
    streamRecord(third.after, third.before),
  ];

  const result = await notifyRunsFinished({ Records: records }, deps(ledger).deps);

  // Lambda goes on from the first failed record: it and the ones after it come again.
  expect(result.notified.map((n) => n.runId)).toEqual(['sched-3']);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.dynamodb.SequenceNumber }]);
});

test('records that are not the end of a run are ignored: the notifier’s own write, a redrive, a running run', async () => {
  const ledger = await fixture.fresh();
  const { before, after } = failedRun('sched-6');
  const notified = { ...after, notification: { at: 'x', outcome: 'FAILED', sent: ['events'] } };
  const redriven = { ...before, redriveCount: 1 };

  const result = await notifyRunsFinished(
    { Records: [streamRecord(notified, after), streamRecord(redriven, after), streamRecord(before)] },
    deps(ledger).deps,
  );

  expect(result).toEqual({ batchItemFailures: [], notified: [], ignored: 3 });
  expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
});

test('a MISSED slot, recorded final from the start, is announced', async () => {
  const ledger = await fixture.fresh();
  const missed: RunRecord = {
    runId: 'missed-heartbeat-20261201T100000Z',
    jobId: 'heartbeat',
    status: RunStatus.MISSED,
    trigger: { type: 'schedule', scheduledTime: '2026-12-01T10:00:00Z' },
    startedAt: '2026-12-01T10:20:00.000Z',
    endedAt: '2026-12-01T10:20:00.000Z',
    error: { name: 'MissedRun', cause: 'Slot 2026-12-01T10:00:00Z did not run: no delivery arrived' },
    rawInput: storedValue({}),
    input: storedValue({}),
    expiresAt: 1_900_000_000,
  } as RunRecord;
  await ledger.runs.create(missed);

  const result = await notifyRunsFinished({ Records: [streamRecord(missed)] }, deps(ledger).deps);

  expect(result.notified[0]).toMatchObject({ outcome: 'MISSED', sent: ['events', 'topic'] });
  const bodies = JSON.parse(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '{}') as {
    email: string;
  };
  expect(bodies.email).toContain('no delivery arrived');
});

test('every final run counts in RunFinished by job and status; RunDuration only for runs that ran their steps', async () => {
  const ledger = await fixture.fresh();
  const ran = runningRecord({ runId: 'cli-m1' });
  const succeeded = {
    ...ran,
    status: RunStatus.SUCCEEDED,
    endedAt: '2026-11-30T10:00:02.000Z',
    durationMs: 2_000,
  };
  const skipped = {
    ...runningRecord({ runId: 'cli-m2' }),
    status: RunStatus.SKIPPED,
    endedAt: '2026-11-30T10:00:00.010Z',
    durationMs: 10,
  };
  await ledger.runs.create(succeeded);
  await ledger.runs.create(skipped);
  const added = jest.spyOn(Metrics.prototype, 'addMetric');
  const dimensions = jest.spyOn(Metrics.prototype, 'addDimensions');
  try {
    await notifyRunsFinished(
      { Records: [streamRecord(succeeded, ran), streamRecord(skipped)] },
      deps(ledger).deps,
    );
    expect(added.mock.calls.map(([name, , value]) => [name, value])).toEqual([
      ['RunFinished', 1],
      ['RunDuration', 2_000],
      ['RunFinished', 1],
    ]);
    expect(dimensions.mock.calls.map(([d]) => d)).toEqual([
      { job: 'heartbeat', status: 'SUCCEEDED' },
      { job: 'heartbeat', status: 'SKIPPED' },
    ]);
  } finally {
    added.mockRestore();
    dimensions.mockRestore();
  }
});
