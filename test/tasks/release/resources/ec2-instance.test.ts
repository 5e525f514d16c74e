import {
  CreateTagsCommand,
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
  adapterAccount,
  awsError,
  expectEc2MarkAndUnmark,
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

const INSTANCE_ID = 'i-0abc';
const account = () => adapterAccount(ec2Instance, { resourceId: INSTANCE_ID });
const terminate = () => policy({ types: { 'ec2-instance': { action: 'terminate' } } });

describe('ec2-instance adapter', () => {
  it('discovers every page, filtered server-side by tag key and live state, with ARN, tags and facts', async () => {
    const { ec2, discover } = account();
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [{ OwnerId: ACCOUNT, Instances: [instance('i-01'), instance('i-02', 'stopped')] }],
        NextToken: 'page-2',
      })
      .resolvesOnce({ Reservations: [{ OwnerId: ACCOUNT, Instances: [instance('i-03')] }] });

    const found = await discover();

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
    const { ec2, release } = account();
    ec2.on(StopInstancesCommand).resolves({});
    ec2.on(TerminateInstancesCommand).resolves({
      TerminatingInstances: [{ InstanceId: INSTANCE_ID, PreviousState: { Name: 'running' } }],
    });

    await expect(release()).resolves.toBe('DONE');
    await expect(release(terminate())).resolves.toBe('DONE');

    expect(ec2.commandCalls(StopInstancesCommand)[0]?.args[0].input).toEqual({ InstanceIds: [INSTANCE_ID] });
    expect(ec2.commandCalls(TerminateInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: [INSTANCE_ID],
    });
  });

  it('is ALREADY_GONE when the instance does not exist, was terminated already, or cannot be stopped as terminated', async () => {
    const { ec2, release } = account();
    ec2.on(StopInstancesCommand).rejectsOnce(awsError('InvalidInstanceID.NotFound'));
    await expect(release()).resolves.toBe('ALREADY_GONE');

    ec2.on(StopInstancesCommand).rejects(awsError('IncorrectInstanceState'));
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [instance(INSTANCE_ID, 'terminated')] }] });
    await expect(release()).resolves.toBe('ALREADY_GONE');

    ec2.on(TerminateInstancesCommand).resolves({
      TerminatingInstances: [{ InstanceId: INSTANCE_ID, PreviousState: { Name: 'terminated' } }],
    });
    await expect(release(terminate())).resolves.toBe('ALREADY_GONE');
  });

  it('fails when a live instance cannot be stopped (pending)', async () => {
    const { ec2, release } = account();
    ec2.on(StopInstancesCommand).rejects(awsError('IncorrectInstanceState'));
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [instance(INSTANCE_ID, 'pending')] }] });

    await expect(release()).rejects.toMatchObject({
      name: 'IncorrectInstanceState',
    });
  });

  it('marks with CreateTags and unmarks with DeleteTags', async () => {
    await expectEc2MarkAndUnmark(account(), INSTANCE_ID);
  });

  it('maps NotFound on tagging to ALREADY_GONE, and throttling that outlasts retries to TransientError', async () => {
    const { ec2, mark, discover } = account();
    ec2.on(CreateTagsCommand).rejectsOnce(awsError('InvalidInstanceID.NotFound'));
    ec2.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded'));

    await expect(mark()).resolves.toBe('ALREADY_GONE');
    const error = await discover().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: 'TransientError', cause: { name: 'RequestLimitExceeded' } });
  });

  it('refuses a mark without its release date', async () => {
    const { action, mark } = account();
    await expect(mark(action({ kind: 'mark' }))).rejects.toMatchObject({ name: 'InvalidAction' });
  });
});
