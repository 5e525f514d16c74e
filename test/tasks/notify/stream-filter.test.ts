import { matchesPattern } from '../../../local/status-events';
import { FINAL_RUN_STATUSES, RunStatus } from '../../../shared/constants';
import { isRunFinished, RUN_FINISHED_PATTERNS } from '../../../tasks/notify/stream-filter';

const image = (type: string, status?: string) => ({
  type: { S: type },
  ...(status ? { status: { S: status } } : {}),
});

/** Every shape of record the ledger's stream carries that matters here. */
const records = [
  ...FINAL_RUN_STATUSES.flatMap((status) => [
    {
      name: `INSERT of a ${status} run`,
      end: true,
      record: { eventName: 'INSERT', dynamodb: { NewImage: image('run', status) } },
    },
    {
      name: `MODIFY RUNNING -> ${status}`,
      end: true,
      record: {
        eventName: 'MODIFY',
        dynamodb: { OldImage: image('run', RunStatus.RUNNING), NewImage: image('run', status) },
      },
    },
    {
      name: `MODIFY ${status} -> ${status} (the notifier's own write)`,
      end: false,
      record: {
        eventName: 'MODIFY',
        dynamodb: { OldImage: image('run', status), NewImage: image('run', status) },
      },
    },
    {
      name: `MODIFY ${status} -> RUNNING (a redrive)`,
      end: false,
      record: {
        eventName: 'MODIFY',
        dynamodb: { OldImage: image('run', status), NewImage: image('run', RunStatus.RUNNING) },
      },
    },
    {
      name: `REMOVE of a ${status} run (TTL)`,
      end: false,
      record: { eventName: 'REMOVE', dynamodb: { OldImage: image('run', status) } },
    },
  ]),
  {
    name: 'INSERT of a RUNNING run',
    end: false,
    record: { eventName: 'INSERT', dynamodb: { NewImage: image('run', RunStatus.RUNNING) } },
  },
  {
    name: 'a step',
    end: false,
    record: {
      eventName: 'MODIFY',
      dynamodb: { OldImage: image('step', 'RUNNING'), NewImage: image('step', 'SUCCEEDED') },
    },
  },
  { name: 'an action', end: false, record: { eventName: 'INSERT', dynamodb: { NewImage: image('action') } } },
  {
    name: 'job state',
    end: false,
    record: { eventName: 'MODIFY', dynamodb: { NewImage: { lockRunId: { S: 'x' } } } },
  },
];

test.each(records)('$name: the event source filter and the notifier agree ($end)', ({ record, end }) => {
  expect(RUN_FINISHED_PATTERNS.some((pattern) => matchesPattern(pattern, record))).toBe(end);
  expect(isRunFinished(record)).toBe(end);
});
