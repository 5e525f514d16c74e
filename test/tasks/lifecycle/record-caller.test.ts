import '../../helpers/quiet';
import { RunStatus } from '../../../shared/constants';
import { recordStartCaller, type RecordCallerEvent } from '../../../tasks/lifecycle/record-caller';
import { executionArn, runningRecord } from '../../helpers/builders';
import { clockAt } from '../../helpers/clock';
import { useEmbeddedLedger } from '../../helpers/ledger';

const db = useEmbeddedLedger();
const ALICE = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operator_abc/alice@example.com';

/** CloudTrail's StartExecution record as EventBridge delivers it ("AWS API Call via CloudTrail"). */
function cloudTrail(
  runId: string,
  identity: RecordCallerEvent['detail']['userIdentity'] = { type: 'AssumedRole', arn: ALICE },
): RecordCallerEvent {
  return {
    detail: {
      eventName: 'StartExecution',
      eventSource: 'states.amazonaws.com',
      userIdentity: identity,
      requestParameters: {
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:stepjobs-heartbeat',
        name: runId,
      },
      responseElements: {
        executionArn: executionArn('heartbeat', runId),
        startDate: 'Dec 7, 2026 10:00:00 AM',
      },
    },
  };
}

test('names who started a console run on its record, from CloudTrail', async () => {
  const ledger = await db.fresh();
  await ledger.runs.create({ ...runningRecord({ runId: 'console-1' }), status: RunStatus.SUCCEEDED });
  const deps = { ledger, env: {}, now: clockAt('2026-12-07T10:05:00.000Z').now };

  expect(await recordStartCaller(cloudTrail('console-1'), deps)).toEqual({
    action: 'recorded',
    runId: 'console-1',
    principal: ALICE,
  });

  expect((await ledger.runs.get('console-1')).trigger).toEqual({
    type: 'manual',
    principal: ALICE,
    principalSource: 'cloudtrail',
  });
  // Delivered again (EventBridge is at least once): the run already says who.
  expect(await recordStartCaller(cloudTrail('console-1'), deps)).toMatchObject({ action: 'ignored' });
});

test('leaves runs that name their caller themselves alone: CLI runs and the Scheduler’s', async () => {
  const ledger = await db.fresh();
  const cli = runningRecord({
    runId: 'cli-1',
    trigger: { type: 'cli', principal: 'arn:aws:iam::1:user/bob' },
  });
  const scheduled = runningRecord({
    runId: 'sched-1',
    trigger: { type: 'schedule', scheduledTime: '2026-12-07T10:00:00Z' },
  });
  await ledger.runs.create(cli);
  await ledger.runs.create(scheduled);
  const deps = { ledger, env: {}, now: clockAt('2026-12-07T10:05:00.000Z').now };

  expect(await recordStartCaller(cloudTrail('cli-1'), deps)).toMatchObject({ action: 'ignored' });
  expect(
    await recordStartCaller(
      cloudTrail('sched-1', { type: 'AssumedRole', arn: 'arn:aws:sts::1:assumed-role/SchedulerRole/x' }),
      deps,
    ),
  ).toMatchObject({ action: 'ignored' });
  expect((await ledger.runs.get('cli-1')).trigger).toEqual(cli.trigger);
  expect((await ledger.runs.get('sched-1')).trigger).toEqual(scheduled.trigger);
});

test('an event that comes before StartRun has written the run fails, so that EventBridge delivers it again', async () => {
  const ledger = await db.fresh();
  const deps = { ledger, env: {}, now: clockAt('2026-12-07T10:05:00.000Z').now };
  await expect(recordStartCaller(cloudTrail('console-early'), deps)).rejects.toMatchObject({
    name: 'CallerRunNotYetRecorded',
  });
});
