import { StepJobsError } from '../../../shared/errors';
import { BlastRadiusExceeded, DuplicateResource, InvalidFacts } from '../../../tasks/release/errors';
import {
  RESOURCE_TYPES,
  TAGS,
  type EvaluationResult,
  type PlannedAction,
  type Resource,
} from '../../../tasks/release/model';
import { checkCaps, evaluate, percentAllowance, zeroCounts } from '../../../tasks/release/policy';
import {
  countsWith,
  DAY_MS,
  EXAMPLE_NOW_ISO,
  examplePolicy,
  exampleResource,
} from '../../helpers/release-arbitraries';

const now = () => new Date(EXAMPLE_NOW_ISO); // 2026-02-13T12:00:00Z
const OPTED_IN = { [TAGS.OPT_IN]: TAGS.OPT_IN_VALUE };
const IDLE_VOLUME_REASON =
  'unattached 100 GiB gp3, created 2026-01-03 (41 days ago, policy unattachedDays 14)';

/** An idle 100 GiB gp3 volume (see exampleResource) with these tags. */
function volume(tags: Record<string, string>, idNumber = 1): Resource {
  return exampleResource('ebs-volume', { idNumber, tags });
}

function only(result: EvaluationResult): PlannedAction {
  const [action, ...rest] = result.actions;
  if (!action || rest.length > 0) throw new Error(`expected one action, got ${result.actions.length}`);
  return action;
}

describe('evaluate: protect and opt-in', () => {
  it('never touches a protected resource, even opted in and idle; protect needs no particular value', () => {
    for (const value of ['true', 'false', '']) {
      const result = evaluate([volume({ ...OPTED_IN, [TAGS.PROTECT]: value })], examplePolicy(), now());
      expect(result.actions).toEqual([]);
      expect(result.counts['ebs-volume']).toMatchObject({ discovered: 1, protected: 1, candidates: 0 });
    }
  });

  it('removes the release mark of a resource protected since it was marked', () => {
    const marked = volume({
      ...OPTED_IN,
      [TAGS.PROTECT]: 'yes',
      [TAGS.RELEASE_AFTER]: '2026-02-01T00:00:00.000Z',
    });
    expect(only(evaluate([marked], examplePolicy(), now()))).toEqual({
      type: 'ebs-volume',
      resourceId: 'vol-00000001',
      arn: marked.arn,
      kind: 'cancel',
      operation: 'untag',
      reason: 'protected by tag stepjobs:protect; removing the release mark (2026-02-01T00:00:00.000Z)',
      estimatedMonthlySavingUsd: null,
    });
  });

  it('uses the policy protect key, not the default one', () => {
    const policy = examplePolicy({ protectTagKey: 'keep' });
    expect(evaluate([volume({ ...OPTED_IN, keep: '' })], policy, now()).counts['ebs-volume'].protected).toBe(
      1,
    );
    expect(only(evaluate([volume({ ...OPTED_IN, [TAGS.PROTECT]: 'x' })], policy, now())).kind).toBe('mark');
  });

  it('ignores a resource that is not opted in, and leaves a mark on one that no longer is (IAM forbids tagging it)', () => {
    const policy = examplePolicy();
    const absent = evaluate([volume({})], policy, now());
    expect(absent.actions).toEqual([]);
    expect(absent.counts['ebs-volume']).toMatchObject({ discovered: 1, notOptedIn: 1 });

    const wrongValue = volume({ [TAGS.OPT_IN]: 'false', [TAGS.RELEASE_AFTER]: '2026-02-01T00:00:00.000Z' });
    const noKey = volume({ [TAGS.RELEASE_AFTER]: '2026-02-01T00:00:00.000Z' });
    for (const resource of [wrongValue, noKey]) {
      const result = evaluate([resource], policy, now());
      expect(result.actions).toEqual([]);
      expect(result.counts['ebs-volume']).toMatchObject({ notOptedIn: 1, cancel: 0 });
    }
  });

  it('renews a stale mark (overdue by more than the grace period and a week) instead of releasing', () => {
    const policy = examplePolicy({ graceDays: 7 });
    const overdue = (days: number) =>
      volume({ ...OPTED_IN, [TAGS.RELEASE_AFTER]: new Date(now().getTime() - days * DAY_MS).toISOString() });
    expect(only(evaluate([overdue(6)], policy, now())).kind).toBe('release');
    const stale = only(evaluate([overdue(30)], policy, now()));
    expect(stale).toMatchObject({ kind: 'mark', operation: 'tag' });
    expect(stale.reason).toMatch(/is 30 days overdue: a stale mark, marking again/);
    expect(Date.parse(stale.releaseAfter ?? '')).toBe(now().getTime() + 7 * DAY_MS);
  });

  it('matches the opt-in value exactly, under the policy key', () => {
    const policy = examplePolicy({ optIn: { tagKey: 'cleanup', tagValue: 'yes' } });
    expect(only(evaluate([volume({ cleanup: 'yes' })], policy, now())).kind).toBe('mark');
    expect(evaluate([volume({ cleanup: 'Yes' })], policy, now()).actions).toEqual([]);
    expect(evaluate([volume(OPTED_IN)], policy, now()).actions).toEqual([]);
  });
});

describe('evaluate: idle, grace and release', () => {
  it('ignores a resource that is not idle, and unmarks one that is in use again', () => {
    const attached = (tags: Record<string, string>) =>
      exampleResource('ebs-volume', { facts: { state: 'in-use' }, tags: { ...OPTED_IN, ...tags } });
    const unmarked = evaluate([attached({})], examplePolicy(), now());
    expect(unmarked.actions).toEqual([]);
    expect(unmarked.counts['ebs-volume']).toMatchObject({ notIdle: 1, cancel: 0 });
    const marked = evaluate(
      [attached({ [TAGS.RELEASE_AFTER]: '2026-02-20T00:00:00.000Z' })],
      examplePolicy(),
      now(),
    );
    expect(only(marked)).toMatchObject({
      kind: 'cancel',
      operation: 'untag',
      reason:
        'not idle: state in-use (attached or changing); removing the release mark (2026-02-20T00:00:00.000Z)',
    });
    expect(marked.counts['ebs-volume']).toMatchObject({ notIdle: 1, cancel: 1 });
  });

  it('marks a new candidate with its release date, now + graceDays', () => {
    const result = evaluate([volume(OPTED_IN)], examplePolicy({ graceDays: 7 }), now());
    expect(only(result)).toEqual({
      type: 'ebs-volume',
      resourceId: 'vol-00000001',
      arn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-00000001',
      kind: 'mark',
      operation: 'tag',
      reason: `${IDLE_VOLUME_REASON}; release after 2026-02-20T12:00:00.000Z (grace 7 days)`,
      releaseAfter: '2026-02-20T12:00:00.000Z',
      estimatedMonthlySavingUsd: null,
    });
    expect(result.counts['ebs-volume']).toMatchObject({ discovered: 1, candidates: 1, mark: 1 });
  });

  it('takes fractional grace periods', () => {
    const result = evaluate([volume(OPTED_IN)], examplePolicy({ graceDays: 0.5 }), now());
    expect(only(result).releaseAfter).toBe('2026-02-14T00:00:00.000Z');
  });

  it('releases a new candidate at once when graceDays is 0', () => {
    const policy = examplePolicy({ graceDays: 0, types: { 'ebs-volume': { snapshotFirst: false } } });
    expect(only(evaluate([volume(OPTED_IN)], policy, now()))).toEqual({
      type: 'ebs-volume',
      resourceId: 'vol-00000001',
      arn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-00000001',
      kind: 'release',
      operation: 'delete',
      reason: `${IDLE_VOLUME_REASON}; grace period is 0 days`,
      estimatedMonthlySavingUsd: 8,
    });
  });

  it('releases a marked candidate once its release date has come, not a millisecond before', () => {
    const marked = (releaseAfter: string) => volume({ ...OPTED_IN, [TAGS.RELEASE_AFTER]: releaseAfter });
    const policy = examplePolicy();
    const due = evaluate([marked(EXAMPLE_NOW_ISO)], policy, now());
    expect(only(due)).toMatchObject({
      kind: 'release',
      operation: 'snapshot-and-delete',
      reason: `${IDLE_VOLUME_REASON}; marked, release after ${EXAMPLE_NOW_ISO} has passed`,
      estimatedMonthlySavingUsd: 3,
    });
    expect(due.counts['ebs-volume']).toMatchObject({ candidates: 1, release: 1, inGrace: 0 });

    const waiting = evaluate([marked('2026-02-13T12:00:00.001Z')], policy, now());
    expect(waiting.actions).toEqual([]);
    expect(waiting.counts['ebs-volume']).toMatchObject({ candidates: 1, inGrace: 1, mark: 0, release: 0 });
  });

  it('goes by the mark, not the current graceDays: a shorter grace period does not release early', () => {
    const marked = volume({ ...OPTED_IN, [TAGS.RELEASE_AFTER]: '2026-02-20T00:00:00Z' });
    expect(evaluate([marked], examplePolicy({ graceDays: 0 }), now()).counts['ebs-volume'].inGrace).toBe(1);
  });

  it('marks again, and never releases, when the mark is not an ISO date', () => {
    for (const graceDays of [7, 0]) {
      const garbage = volume({ ...OPTED_IN, [TAGS.RELEASE_AFTER]: 'soon' });
      const action = only(evaluate([garbage], examplePolicy({ graceDays }), now()));
      expect(action.kind).toBe('mark');
      expect(action.reason).toMatch(/^stepjobs:release-after tag "soon" is not an ISO date, marking again: /);
    }
    const fixed = only(evaluate([volume({ ...OPTED_IN, [TAGS.RELEASE_AFTER]: '' })], examplePolicy(), now()));
    expect(fixed.releaseAfter).toBe('2026-02-20T12:00:00.000Z');
  });

  it('releases with the operation and saving of each type', () => {
    const due = { ...OPTED_IN, [TAGS.RELEASE_AFTER]: '2026-02-10T00:00:00Z' };
    const inventory = [
      exampleResource('ec2-instance', { tags: { ...due, [TAGS.EXPIRES_AT]: '2026-01-31' } }),
      exampleResource('ebs-volume', { tags: due }),
      exampleResource('ebs-snapshot', { tags: due }),
      exampleResource('elastic-ip', { tags: due }),
      exampleResource('log-group', { tags: due }),
    ];
    const policy = examplePolicy({ types: { 'ec2-instance': { action: 'terminate' } } });
    expect(
      evaluate(inventory, policy, now()).actions.map((a) => [
        a.type,
        a.kind,
        a.operation,
        a.estimatedMonthlySavingUsd,
      ]),
    ).toEqual([
      ['ec2-instance', 'release', 'terminate', 7.59],
      ['ebs-volume', 'release', 'snapshot-and-delete', 3],
      ['ebs-snapshot', 'release', 'delete', 5],
      ['elastic-ip', 'release', 'release', 3.65],
      ['log-group', 'release', 'set-retention', 0.15],
    ]);
  });
});

describe('evaluate: types, counts and order', () => {
  it('counts a disabled type as discovered and does nothing else with it, not even reading its facts', () => {
    const policy = examplePolicy({ types: { 'elastic-ip': { enabled: false } } });
    const broken = {
      ...exampleResource('elastic-ip', { tags: { ...OPTED_IN, [TAGS.RELEASE_AFTER]: 'x' } }),
      facts: {},
    };
    const result = evaluate([broken], policy, now());
    expect(result.actions).toEqual([]);
    expect(result.counts['elastic-ip']).toEqual({ ...zeroCounts(), discovered: 1 });
  });

  it('reports zero counts for every type, even with nothing discovered', () => {
    const result = evaluate([], examplePolicy(), now());
    expect(Object.keys(result.counts)).toEqual([...RESOURCE_TYPES]);
    for (const type of RESOURCE_TYPES)
      expect(Object.values(result.counts[type]).every((n) => n === 0)).toBe(true);
  });

  it('orders actions by type, then id by code unit, whatever the discovery order', () => {
    const inventory = [
      exampleResource('log-group', { idNumber: 0xb, tags: OPTED_IN }),
      volume(OPTED_IN, 0xa),
      exampleResource('ec2-instance', {
        idNumber: 2,
        tags: { ...OPTED_IN, [TAGS.EXPIRES_AT]: '2026-01-01' },
      }),
      volume(OPTED_IN, 0x2),
      exampleResource('log-group', { idNumber: 0xa, tags: OPTED_IN }),
      { ...exampleResource('log-group', { tags: OPTED_IN }), id: '/Z-upper-case-first' },
    ];
    expect(evaluate(inventory, examplePolicy(), now()).actions.map((a) => a.resourceId)).toEqual([
      'i-00000002',
      'vol-00000002',
      'vol-0000000a',
      '/Z-upper-case-first',
      '/stepjobs/test/group-a',
      '/stepjobs/test/group-b',
    ]);
  });

  it('rejects an inventory that lists a resource twice', () => {
    const twice = [volume(OPTED_IN), exampleResource('ebs-snapshot'), volume({})];
    expect(() => evaluate(twice, examplePolicy(), now())).toThrow(DuplicateResource);
    expect(() => evaluate(twice, examplePolicy(), now())).toThrow(
      'ebs-volume vol-00000001 appears more than once',
    );
    // The same id under two types is two resources.
    const sameId = [volume({}), { ...exampleResource('ebs-snapshot'), id: 'vol-00000001' }];
    expect(evaluate(sameId, examplePolicy(), now()).counts['ebs-snapshot'].discovered).toBe(1);
  });

  it('stops on malformed facts of an enabled type rather than guess', () => {
    const broken = { ...volume(OPTED_IN), facts: { state: 'available' } };
    expect(() => evaluate([broken], examplePolicy(), now())).toThrow(InvalidFacts);
  });
});

function capsError(result: EvaluationResult, caps: Record<string, number>): BlastRadiusExceeded {
  try {
    checkCaps(result, examplePolicy({ caps }));
  } catch (error) {
    if (error instanceof BlastRadiusExceeded) return error;
    throw error;
  }
  throw new Error('checkCaps passed');
}

describe('checkCaps', () => {
  it('names the type, the cap and the overshoot, for both caps', () => {
    const error = capsError(countsWith({ 'ebs-volume': { discovered: 60, release: 40 } }), {
      maxReleasesPerType: 25,
      maxPercentPerType: 50,
    });
    expect(error.name).toBe('BlastRadiusExceeded');
    expect(error).toBeInstanceOf(StepJobsError);
    expect(error.message).toBe(
      'Planned releases exceed the blast-radius caps: ' +
        'ebs-volume: 40 releases planned, cap maxReleasesPerType is 25 (15 over); ' +
        'ebs-volume: 40 releases planned, cap maxPercentPerType 50% of 60 discovered allows 30 (10 over)',
    );
    expect(
      error.violations.map(({ type, cap, planned, allowed }) => ({ type, cap, planned, allowed })),
    ).toEqual([
      { type: 'ebs-volume', cap: 'maxReleasesPerType', planned: 40, allowed: 25 },
      { type: 'ebs-volume', cap: 'maxPercentPerType', planned: 40, allowed: 30 },
    ]);
  });

  it('lists every type over a cap, in type order', () => {
    const error = capsError(
      countsWith({
        'log-group': { discovered: 4, release: 3 },
        'ec2-instance': { discovered: 100, release: 30 },
        'elastic-ip': { discovered: 10, release: 2 },
      }),
      { maxReleasesPerType: 25, maxPercentPerType: 50 },
    );
    expect(error.violations.map((v) => v.message)).toEqual([
      'ec2-instance: 30 releases planned, cap maxReleasesPerType is 25 (5 over)',
      'log-group: 3 releases planned, cap maxPercentPerType 50% of 4 discovered allows 2 (1 over)',
    ]);
  });

  it('passes at the caps exactly, and ignores marks and cancels', () => {
    const atCaps = countsWith({ 'ebs-volume': { discovered: 50, release: 25 } });
    expect(() =>
      checkCaps(atCaps, examplePolicy({ caps: { maxReleasesPerType: 25, maxPercentPerType: 50 } })),
    ).not.toThrow();
    const marksOnly = countsWith({ 'ebs-volume': { discovered: 500, release: 0 } });
    marksOnly.counts['ebs-volume'].mark = 400;
    marksOnly.counts['ebs-volume'].cancel = 100;
    expect(() =>
      checkCaps(marksOnly, examplePolicy({ caps: { maxReleasesPerType: 0, maxPercentPerType: 0 } })),
    ).not.toThrow();
  });

  it('rounds the percentage allowance down, and says "1 release"', () => {
    expect(percentAllowance(10, 33.3)).toBe(3);
    expect(percentAllowance(3, 50)).toBe(1);
    expect(percentAllowance(100, 0.29)).toBe(0);
    // Math.floor(1000 * 32.3 / 100) is 322 in floats (32299.999...); 32.3% of 1,000 is 323.
    expect(percentAllowance(1000, 32.3)).toBe(323);
    expect(percentAllowance(1000, 64.1)).toBe(641);
    const error = capsError(countsWith({ 'elastic-ip': { discovered: 1, release: 1 } }), {
      maxPercentPerType: 50,
    });
    expect(error.violations.map((v) => v.message)).toEqual([
      'elastic-ip: 1 release planned, cap maxPercentPerType 50% of 1 discovered allows 0 (1 over)',
    ]);
  });

  it('stops a real plan that would release too much', () => {
    const due = { ...OPTED_IN, [TAGS.RELEASE_AFTER]: '2026-02-10T00:00:00Z' };
    const inventory = [1, 2, 3].map((n) => volume(due, n));
    const policy = examplePolicy({ caps: { maxReleasesPerType: 2, maxPercentPerType: 100 } });
    expect(() => checkCaps(evaluate(inventory, policy, now()), policy)).toThrow(
      'ebs-volume: 3 releases planned, cap maxReleasesPerType is 2 (1 over)',
    );
  });
});
