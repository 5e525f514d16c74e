import { InvalidFacts } from '../../../tasks/release/errors';
import { TAGS } from '../../../tasks/release/model';
import { parseIsoTime, rules } from '../../../tasks/release/rules';
import { EXAMPLE_NOW_ISO, examplePolicy, exampleResource } from '../../helpers/release-arbitraries';

const now = () => new Date(EXAMPLE_NOW_ISO); // 2026-02-13T12:00:00Z

describe('parseIsoTime', () => {
  it.each([
    ['2026-01-03', '2026-01-03T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-01-03T10:00:00Z', '2026-01-03T10:00:00.000Z'],
    ['2026-01-03T10:00:00.123Z', '2026-01-03T10:00:00.123Z'],
    ['2026-01-03T10:00:00+02:00', '2026-01-03T08:00:00.000Z'],
    // No zone: read as UTC, whatever the host's time zone.
    ['2026-01-03T10:00', '2026-01-03T10:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseIsoTime(text)?.toISOString()).toBe(iso);
  });

  it.each([
    // Date.parse accepts each of the first three; a tag a person typed must not be read that loosely.
    ['2026-02-30', 'a day February does not have (Date.parse reads it as March 2)'],
    ['2025-02-29', 'not a leap year'],
    ['12/31/2025', 'not ISO'],
    ['2026-13-01', 'no month 13'],
    ['next friday', 'words'],
    ['', 'empty'],
    ['2026-01-03T25:00:00Z', 'no hour 25'],
  ])('rejects %j (%s)', (text) => {
    expect(parseIsoTime(text)).toBeNull();
  });
});

describe('ec2-instance', () => {
  const ec2 = rules['ec2-instance'];
  const instance = (tags: Record<string, string>, state = 'running', instanceType = 't3.micro') =>
    exampleResource('ec2-instance', { tags, facts: { state, instanceType } });

  it('is idle when running and its expires-at tag is in the past', () => {
    const verdict = ec2.isIdle(
      instance({ [TAGS.EXPIRES_AT]: '2026-02-01T00:00:00Z' }),
      examplePolicy(),
      now(),
    );
    expect(verdict).toEqual({
      idle: true,
      reason: 'running t3.micro expired 2026-02-01T00:00:00Z (12 days ago, stepjobs:expires-at)',
    });
  });

  it('reads a date-only expiry as midnight UTC, and an offset as the instant it names', () => {
    const policy = examplePolicy();
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: '2026-02-13' }), policy, now()).idle).toBe(true);
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: '2026-02-14' }), policy, now()).idle).toBe(false);
    // 13:00 at +02:00 is 11:00Z, an hour before now.
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: '2026-02-13T13:00:00+02:00' }), policy, now()).idle).toBe(
      true,
    );
    // Exactly now counts as expired.
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: EXAMPLE_NOW_ISO }), policy, now())).toEqual({
      idle: true,
      reason: `running t3.micro expired ${EXAMPLE_NOW_ISO} (less than a day ago, stepjobs:expires-at)`,
    });
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: '2026-02-13T20:00:00Z' }), policy, now()).reason).toBe(
      'expires 2026-02-13T20:00:00Z (in less than a day)',
    );
  });

  it('is not idle before its expiry, without the tag, or with a tag that is not an ISO date', () => {
    const policy = examplePolicy();
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: '2026-03-01T00:00:00Z' }), policy, now())).toEqual({
      idle: false,
      reason: 'expires 2026-03-01T00:00:00Z (in 15 days)',
    });
    expect(ec2.isIdle(instance({}), policy, now())).toEqual({
      idle: false,
      reason: 'no stepjobs:expires-at tag',
    });
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: 'next friday' }), policy, now())).toEqual({
      idle: false,
      reason: 'stepjobs:expires-at tag "next friday" is not an ISO date',
    });
    expect(ec2.isIdle(instance({ [TAGS.EXPIRES_AT]: '2026-02-30' }), policy, now()).idle).toBe(false);
  });

  it('releases a stopped instance only when the policy terminates', () => {
    const expired = { [TAGS.EXPIRES_AT]: '2026-02-01' };
    const stop = examplePolicy();
    const terminate = examplePolicy({ types: { 'ec2-instance': { action: 'terminate' } } });
    expect(ec2.isIdle(instance(expired, 'stopped'), stop, now())).toEqual({
      idle: false,
      reason: 'expired 2026-02-01 (12 days ago) but stopped; policy action stop needs running',
    });
    expect(ec2.isIdle(instance(expired, 'stopped'), terminate, now()).idle).toBe(true);
    expect(ec2.isIdle(instance(expired, 'pending'), terminate, now()).idle).toBe(false);
    expect(ec2.isIdle(instance(expired, 'terminated'), terminate, now()).idle).toBe(false);
    expect(ec2.releaseOperation(stop)).toBe('stop');
    expect(ec2.releaseOperation(terminate)).toBe('terminate');
  });

  it('saves the instance hours of a running instance; nothing it can price for a stopped one or an unknown type', () => {
    const policy = examplePolicy();
    expect(ec2.monthlySaving(instance({}, 'running', 't3.micro'), policy)).toBe(7.59);
    expect(ec2.monthlySaving(instance({}, 'running', 'm6g.xlarge'), policy)).toBe(112.42); // 0.154 × 730
    expect(ec2.monthlySaving(instance({}, 'running', 'x9.mega'), policy)).toBeNull();
    expect(ec2.monthlySaving(instance({}, 'stopped', 't3.micro'), policy)).toBeNull();
  });
});

describe('ebs-volume', () => {
  const volume = rules['ebs-volume'];

  it('is idle when unattached and created at least unattachedDays ago', () => {
    const verdict = volume.isIdle(exampleResource('ebs-volume'), examplePolicy(), now());
    expect(verdict).toEqual({
      idle: true,
      reason: 'unattached 100 GiB gp3, created 2026-01-03 (41 days ago, policy unattachedDays 14)',
    });
  });

  it('counts from the creation time, inclusive of the boundary', () => {
    const policy = examplePolicy({ types: { 'ebs-volume': { unattachedDays: 14 } } });
    const createdAt = (iso: string) => exampleResource('ebs-volume', { facts: { createdAt: iso } });
    expect(volume.isIdle(createdAt('2026-01-30T12:00:00.000Z'), policy, now()).idle).toBe(true); // exactly 14 days
    expect(volume.isIdle(createdAt('2026-01-30T12:00:00.001Z'), policy, now())).toEqual({
      idle: false,
      reason: 'unattached but created 2026-01-30 (13 days ago, policy unattachedDays 14)',
    });
  });

  it('is not idle while attached or changing state', () => {
    const inUse = exampleResource('ebs-volume', { facts: { state: 'in-use' } });
    expect(volume.isIdle(inUse, examplePolicy(), now())).toEqual({
      idle: false,
      reason: 'state in-use (attached or changing)',
    });
    const creating = exampleResource('ebs-volume', { facts: { state: 'creating' } });
    expect(volume.isIdle(creating, examplePolicy(), now()).idle).toBe(false);
  });

  it('snapshots before deleting unless the policy says not to', () => {
    expect(volume.releaseOperation(examplePolicy())).toBe('snapshot-and-delete');
    expect(
      volume.releaseOperation(examplePolicy({ types: { 'ebs-volume': { snapshotFirst: false } } })),
    ).toBe('delete');
  });

  it('saves storage and IOPS, less a full snapshot when it snapshots first', () => {
    const noSnapshot = examplePolicy({ types: { 'ebs-volume': { snapshotFirst: false } } });
    const withSnapshot = examplePolicy();
    const gp3 = exampleResource('ebs-volume'); // 100 GiB gp3, 3,000 IOPS
    expect(volume.monthlySaving(gp3, noSnapshot)).toBe(8);
    expect(volume.monthlySaving(gp3, withSnapshot)).toBe(3); // 8.00 - 100 × 0.05
    const io1 = exampleResource('ebs-volume', { facts: { volumeType: 'io1', iops: 1000 } });
    expect(volume.monthlySaving(io1, noSnapshot)).toBe(77.5);
    // A full snapshot of cold storage costs more than the volume: the estimate says so.
    const sc1 = exampleResource('ebs-volume', { facts: { volumeType: 'sc1', sizeGiB: 1000, iops: null } });
    expect(volume.monthlySaving(sc1, withSnapshot)).toBe(-35);
    const unknown = exampleResource('ebs-volume', { facts: { volumeType: 'gp9' } });
    expect(volume.monthlySaving(unknown, withSnapshot)).toBeNull();
  });
});

describe('ebs-snapshot', () => {
  const snapshot = rules['ebs-snapshot'];

  it('is idle when completed, older than retentionDays and not behind an AMI', () => {
    expect(snapshot.isIdle(exampleResource('ebs-snapshot'), examplePolicy(), now())).toEqual({
      idle: true,
      reason:
        '100 GiB snapshot started 2025-09-01 (165 days ago, policy retentionDays 90), not used by an AMI',
    });
    expect(snapshot.releaseOperation(examplePolicy())).toBe('delete');
  });

  it('keeps snapshots an AMI uses, ones not completed, and ones within retention', () => {
    const policy = examplePolicy();
    const usedByAmi = exampleResource('ebs-snapshot', { facts: { usedByImage: 'ami-0abc' } });
    expect(snapshot.isIdle(usedByAmi, policy, now())).toEqual({
      idle: false,
      reason: 'used by AMI ami-0abc',
    });
    const pending = exampleResource('ebs-snapshot', { facts: { state: 'pending' } });
    expect(snapshot.isIdle(pending, policy, now())).toEqual({ idle: false, reason: 'state pending' });
    const recent = exampleResource('ebs-snapshot', { facts: { startedAt: '2026-01-01T00:00:00Z' } });
    expect(snapshot.isIdle(recent, policy, now())).toEqual({
      idle: false,
      reason: 'within retention: started 2026-01-01 (43 days ago, policy retentionDays 90)',
    });
    const custom = examplePolicy({ types: { 'ebs-snapshot': { retentionDays: 30 } } });
    expect(snapshot.isIdle(recent, custom, now()).idle).toBe(true);
  });

  it('saves its full size at the snapshot price (an upper bound)', () => {
    expect(snapshot.monthlySaving(exampleResource('ebs-snapshot'), examplePolicy())).toBe(5);
  });
});

describe('elastic-ip', () => {
  const eip = rules['elastic-ip'];

  it('is idle when not associated, and releasing it saves 3.65 a month', () => {
    expect(eip.isIdle(exampleResource('elastic-ip'), examplePolicy(), now())).toEqual({
      idle: true,
      reason: '203.0.113.10 is not associated with any instance or network interface',
    });
    expect(eip.releaseOperation(examplePolicy())).toBe('release');
    expect(eip.monthlySaving(exampleResource('elastic-ip'), examplePolicy())).toBe(3.65);
  });

  it('is not idle while associated', () => {
    const associated = exampleResource('elastic-ip', { facts: { associated: true } });
    expect(eip.isIdle(associated, examplePolicy(), now())).toEqual({
      idle: false,
      reason: '203.0.113.10 is associated',
    });
  });
});

describe('log-group', () => {
  const logs = rules['log-group'];

  it('is "idle" when it keeps events forever; releasing sets the policy retention', () => {
    expect(logs.isIdle(exampleResource('log-group'), examplePolicy(), now())).toEqual({
      idle: true,
      reason: 'never expires (5.00 GB stored); policy sets 30 days',
    });
    expect(logs.releaseOperation(examplePolicy())).toBe('set-retention');
  });

  it('leaves a group that has a retention, whatever it is', () => {
    const longRetention = exampleResource('log-group', { facts: { retentionDays: 3653 } });
    expect(logs.isIdle(longRetention, examplePolicy(), now())).toEqual({
      idle: false,
      reason: 'retention already set to 3653 days',
    });
  });

  it('saves at most the storage of everything stored', () => {
    expect(logs.monthlySaving(exampleResource('log-group'), examplePolicy())).toBe(0.15);
  });
});

describe('malformed facts', () => {
  it('fail loudly with InvalidFacts, naming the resource and the field', () => {
    const broken = exampleResource('ebs-volume', { facts: { sizeGiB: null as unknown as number } });
    expect(() => rules['ebs-volume'].isIdle(broken, examplePolicy(), now())).toThrow(InvalidFacts);
    expect(() => rules['ebs-volume'].monthlySaving(broken, examplePolicy())).toThrow(
      /^ebs-volume vol-00000001 has invalid facts: facts\.sizeGiB: /,
    );
    const badDate = exampleResource('ebs-snapshot', { facts: { startedAt: 'yesterday' } });
    expect(() => rules['ebs-snapshot'].isIdle(badDate, examplePolicy(), now())).toThrow(
      'ebs-snapshot snap-00000001 has invalid facts: facts.startedAt: not an ISO date',
    );
    const missing = { ...exampleResource('elastic-ip'), facts: { publicIp: '203.0.113.10' } };
    try {
      rules['elastic-ip'].isIdle(missing, examplePolicy(), now());
      throw new Error('expected InvalidFacts');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidFacts);
      expect((error as InvalidFacts).name).toBe('InvalidFacts');
      expect((error as InvalidFacts).problems).toEqual([expect.stringMatching(/^facts\.associated: /)]);
    }
  });
});
