import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import { TransientError } from '../../../../shared/errors';
import { ec2Instance } from '../../../../tasks/release/resources/ec2-instance';
import {
  ACCOUNT,
  awsError,
  collect,
  mockAccount,
  plannedAction,
  policy,
  REGION,
  SELECTOR,
} from './mock-account';

const instance = (id: string, state: InstanceStateName = 'running'): Instance => ({
  InstanceId: id,
  InstanceType: 't3.medium',
  State: { Name: state },
  LaunchTime: new Date('2026-01-02T03:04:05Z'),
  Tags: [
    { Key: 'stepjobs:release', Value: 'true' },
    { Key: 'stepjobs:expires-at', Value: '2026-02-01' },
  ],
});

const action = (overrides = {}) =>
  plannedAction({ type: 'ec2-instance', resourceId: 'i-0abc', ...overrides });

describe('ec2-instance adapter', () => {
  it('discovers every page, filtered server-side by tag key and live state, with ARN, tags and facts', async () => {
    const { clients, ec2 } = mockAccount();
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [{ OwnerId: ACCOUNT, Instances: [instance('i-01'), instance('i-02', 'stopped')] }],
        NextToken: 'page-2',
      })
      .resolvesOnce({ Reservations: [{ OwnerId: ACCOUNT, Instances: [instance('i-03')] }] });

    const found = await collect(ec2Instance.discover(clients, SELECTOR));

    expect(found.map((r) => r.id)).toEqual(['i-01', 'i-02', 'i-03']);
    expect(found[0]).toEqual({
      type: 'ec2-instance',
      id: 'i-01',
      arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-01`,
      tags: { 'stepjobs:release': 'true', 'stepjobs:expires-at': '2026-02-01' },
      facts: { state: 'running', instanceType: 't3.medium', launchTime: '2026-01-02T03:04:05.000Z' },
    });
    const inputs = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]?.Filters).toEqual([
      { Name: 'tag-key', Values: SELECTOR.tagKeys },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    expect(inputs[1]?.NextToken).toBe('page-2');
  });

  it('stops by default and terminates when the policy says so', async () => {
    const { clients, ec2 } = mockAccount();
    ec2.on(StopInstancesCommand).resolves({});
    ec2.on(TerminateInstancesCommand).resolves({
      TerminatingInstances: [{ InstanceId: 'i-0abc', PreviousState: { Name: 'running' } }],
    });

    await expect(ec2Instance.release(clients, action(), policy())).resolves.toBe('DONE');
    const terminate = policy({ types: { 'ec2-instance': { action: 'terminate' } } });
    await expect(ec2Instance.release(clients, action(), terminate)).resolves.toBe('DONE');

    expect(ec2.commandCalls(StopInstancesCommand)[0]?.args[0].input).toEqual({ InstanceIds: ['i-0abc'] });
    expect(ec2.commandCalls(TerminateInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: ['i-0abc'],
    });
  });

  it('is ALREADY_GONE when the instance does not exist, was terminated already, or cannot be stopped as terminated', async () => {
    const { clients, ec2 } = mockAccount();
    ec2.on(StopInstancesCommand).rejectsOnce(awsError('InvalidInstanceID.NotFound'));
    await expect(ec2Instance.release(clients, action(), policy())).resolves.toBe('ALREADY_GONE');

    ec2.on(StopInstancesCommand).rejects(awsError('IncorrectInstanceState'));
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [instance('i-0abc', 'terminated')] }] });
    await expect(ec2Instance.release(clients, action(), policy())).resolves.toBe('ALREADY_GONE');

    ec2.on(TerminateInstancesCommand).resolves({
      TerminatingInstances: [{ InstanceId: 'i-0abc', PreviousState: { Name: 'terminated' } }],
    });
    const terminate = policy({ types: { 'ec2-instance': { action: 'terminate' } } });
    await expect(ec2Instance.release(clients, action(), terminate)).resolves.toBe('ALREADY_GONE');
  });

  it('fails when a live instance cannot be stopped (pending)', async () => {
    const { clients, ec2 } = mockAccount();
    ec2.on(StopInstancesCommand).rejects(awsError('IncorrectInstanceState'));
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [instance('i-0abc', 'pending')] }] });

    await expect(ec2Instance.release(clients, action(), policy())).rejects.toMatchObject({
      name: 'IncorrectInstanceState',
    });
  });

  it('marks with CreateTags and unmarks with DeleteTags', async () => {
    const { clients, ec2 } = mockAccount();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
    const mark = action({ kind: 'mark', releaseAfter: '2026-03-01T00:00:00.000Z' });

    await expect(ec2Instance.mark(clients, mark, 'stepjobs:release-after')).resolves.toBe('DONE');
    await expect(ec2Instance.unmark(clients, mark, 'stepjobs:release-after')).resolves.toBe('DONE');

    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toEqual({
      Resources: ['i-0abc'],
      Tags: [{ Key: 'stepjobs:release-after', Value: '2026-03-01T00:00:00.000Z' }],
    });
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input).toEqual({
      Resources: ['i-0abc'],
      Tags: [{ Key: 'stepjobs:release-after' }],
    });
  });

  it('maps NotFound on tagging to ALREADY_GONE, and throttling that outlasts retries to TransientError', async () => {
    const { clients, ec2 } = mockAccount();
    ec2.on(CreateTagsCommand).rejectsOnce(awsError('InvalidInstanceID.NotFound'));
    ec2.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded'));
    const mark = action({ kind: 'mark', releaseAfter: '2026-03-01T00:00:00.000Z' });

    await expect(ec2Instance.mark(clients, mark, 'stepjobs:release-after')).resolves.toBe('ALREADY_GONE');
    const error = await collect(ec2Instance.discover(clients, SELECTOR)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: 'TransientError', cause: { name: 'RequestLimitExceeded' } });
  });

  it('refuses a mark without its release date', async () => {
    const { clients } = mockAccount();
    await expect(
      ec2Instance.mark(clients, action({ kind: 'mark' }), 'stepjobs:release-after'),
    ).rejects.toMatchObject({
      name: 'InvalidAction',
    });
  });
});
