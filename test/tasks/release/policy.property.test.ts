/**
 * Properties of the release policy over random inventories (all five types, random tags and facts) and random
 * policies (grace 0 and fractions, small caps, disabled types). The oracle below restates the policy from its
 * documentation with `Date.parse` and plain comparisons, independently of the code's parser and rules.
 * Reproduce a failure with FC_SEED=<seed> (fast-check prints it); explore further with another seed or more
 * runs (FC_RUNS=5000).
 */
import fc from 'fast-check';
import { BlastRadiusExceeded } from '../../../tasks/release/errors';
import {
  RESOURCE_TYPES,
  TAGS,
  type EvaluationResult,
  type Resource,
  type TypeCounts,
} from '../../../tasks/release/model';
import type { ReleasePolicy } from '../../../tasks/release/input';
import { checkCaps, evaluate, STALE_MARK_MIN_DAYS, zeroCounts } from '../../../tasks/release/policy';
import { rules } from '../../../tasks/release/rules';
import { countsWith, DAY_MS, policyArb, scenarioArb, type Scenario } from '../../helpers/release-arbitraries';

const SEED = Number(process.env.FC_SEED ?? 20_260_214);
const RUNS = { seed: SEED, numRuns: Number(process.env.FC_RUNS ?? 200) };

const scenarios = scenarioArb(30);

function tag(resource: Resource, key: string): string | undefined {
  return Object.hasOwn(resource.tags, key) ? resource.tags[key] : undefined;
}

/** The documented idle definitions, per type, from the facts and `Date.parse`. */
function idleByDefinition(resource: Resource, policy: ReleasePolicy, now: Date): boolean {
  const f = resource.facts;
  const t = now.getTime();
  const ageDays = (iso: unknown) => (t - Date.parse(String(iso))) / DAY_MS;
  switch (resource.type) {
    case 'ec2-instance': {
      const expires = Date.parse(tag(resource, TAGS.EXPIRES_AT) ?? 'absent');
      const states =
        policy.types['ec2-instance'].action === 'terminate' ? ['running', 'stopped'] : ['running'];
      return !Number.isNaN(expires) && expires <= t && states.includes(String(f.state));
    }
    case 'ebs-volume':
      return f.state === 'available' && ageDays(f.createdAt) >= policy.types['ebs-volume'].unattachedDays;
    case 'ebs-snapshot':
      return (
        f.state === 'completed' &&
        f.usedByImage === null &&
        ageDays(f.startedAt) >= policy.types['ebs-snapshot'].retentionDays
      );
    case 'elastic-ip':
      return f.associated === false;
    case 'log-group':
      return f.retentionDays === null;
  }
}

/** Everything the policy is allowed to look at, restated. */
function classify(resource: Resource, policy: ReleasePolicy, now: Date) {
  const enabled = policy.types[resource.type].enabled;
  const isProtected = tag(resource, policy.protectTagKey) !== undefined;
  const optedIn = tag(resource, policy.optIn.tagKey) === policy.optIn.tagValue;
  const idle = idleByDefinition(resource, policy, now);
  const markText = tag(resource, TAGS.RELEASE_AFTER);
  const marked = markText !== undefined;
  const markMs = markText === undefined ? NaN : Date.parse(markText);
  const candidate = enabled && !isProtected && optedIn && idle;
  const overdueDays = (now.getTime() - markMs) / DAY_MS;
  // Overdue longer than the grace period, and at least a week: left behind, so renewed rather than acted on.
  const markStale = marked && overdueDays > Math.max(policy.graceDays, STALE_MARK_MIN_DAYS);
  return {
    enabled,
    isProtected,
    optedIn,
    idle,
    marked,
    candidate,
    markGarbage: marked && Number.isNaN(markMs),
    markStale,
    markDue: marked && markMs <= now.getTime() && !markStale,
    markFuture: marked && markMs > now.getTime(),
  };
}

const key = (type: string, id: string) => `${type}/${id}`;

function actionsByResource(result: EvaluationResult) {
  return new Map(result.actions.map((a) => [key(a.type, a.resourceId), a]));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function check(property: (s: Scenario) => void): void {
  fc.assert(fc.property(scenarios, property), RUNS);
}

describe('evaluate (properties)', () => {
  it('(a) never marks or releases a protected or non-opted-in resource; it only unmarks the opted-in ones', () => {
    check(({ now, policy, inventory }) => {
      const byResource = actionsByResource(evaluate(inventory, policy, now));
      for (const resource of inventory) {
        const c = classify(resource, policy, now);
        if (!c.enabled || (!c.isProtected && c.optedIn)) continue;
        const action = byResource.get(key(resource.type, resource.id));
        // IAM lets the job tag opted-in resources only: a mark on one that is not opted in stays (and is stale
        // by the time it could matter).
        expect(action?.kind).toBe(c.marked && c.optedIn ? 'cancel' : undefined);
      }
    });
  });

  it('(b) releases exactly the due candidates: opted in, not protected, idle now, and marked due (or unmarked with grace 0)', () => {
    check(({ now, policy, inventory }) => {
      const released = evaluate(inventory, policy, now).actions.filter((a) => a.kind === 'release');
      const expected = inventory.filter((r) => {
        const c = classify(r, policy, now);
        return c.candidate && (c.markDue || (!c.marked && policy.graceDays === 0));
      });
      expect(released.map((a) => key(a.type, a.resourceId)).sort()).toEqual(
        expected.map((r) => key(r.type, r.id)).sort(),
      );
      for (const action of released) {
        const resource = inventory.find((r) => r.type === action.type && r.id === action.resourceId);
        if (!resource) throw new Error(`released ${action.resourceId}, which is not in the inventory`);
        expect(action.operation).toBe(rules[action.type].releaseOperation(policy));
        expect(action.estimatedMonthlySavingUsd).toBe(rules[action.type].monthlySaving(resource, policy));
      }
    });
  });

  it('(b) marks exactly the unmarked candidates (grace > 0) and those with a garbage mark, releasing after now + grace', () => {
    check(({ now, policy, inventory }) => {
      const marks = evaluate(inventory, policy, now).actions.filter((a) => a.kind === 'mark');
      const expected = inventory.filter((r) => {
        const c = classify(r, policy, now);
        return c.candidate && ((!c.marked && policy.graceDays > 0) || c.markGarbage || c.markStale);
      });
      expect(marks.map((a) => key(a.type, a.resourceId)).sort()).toEqual(
        expected.map((r) => key(r.type, r.id)).sort(),
      );
      for (const mark of marks) {
        expect(mark.operation).toBe('tag');
        expect(mark.estimatedMonthlySavingUsd).toBeNull();
        const releaseAfter = Date.parse(mark.releaseAfter ?? 'missing');
        expect(Math.abs(releaseAfter - (now.getTime() + policy.graceDays * DAY_MS))).toBeLessThanOrEqual(1);
        // A new mark is never already due, unless the grace period rounds to nothing.
        expect(releaseAfter >= now.getTime()).toBe(true);
      }
    });
  });

  it('(c) cancels exactly the marked, opted-in resources that are no longer candidates, by removing the tag', () => {
    check(({ now, policy, inventory }) => {
      const cancels = evaluate(inventory, policy, now).actions.filter((a) => a.kind === 'cancel');
      const expected = inventory.filter((r) => {
        const c = classify(r, policy, now);
        return c.enabled && c.marked && c.optedIn && !c.candidate;
      });
      expect(cancels.map((a) => key(a.type, a.resourceId)).sort()).toEqual(
        expected.map((r) => key(r.type, r.id)).sort(),
      );
      for (const cancel of cancels) {
        expect(cancel.operation).toBe('untag');
        expect(cancel.estimatedMonthlySavingUsd).toBeNull();
      }
    });
  });

  it('(e) counts add up and match the oracle, type by type', () => {
    check(({ now, policy, inventory }) => {
      const result = evaluate(inventory, policy, now);
      for (const type of RESOURCE_TYPES) {
        const ofType = inventory.filter((r) => r.type === type).map((r) => classify(r, policy, now));
        const counts = result.counts[type];
        const actions = result.actions.filter((a) => a.type === type);
        expect(counts.discovered).toBe(ofType.length);
        if (!policy.types[type].enabled) continue; // (g) covers disabled types.
        // Every discovered resource lands in exactly one bucket, first match wins (protect, opt-in, idle).
        expect(counts.candidates + counts.notOptedIn + counts.protected + counts.notIdle).toBe(
          counts.discovered,
        );
        // Every candidate is marked, released, or waiting out its grace period.
        expect(counts.mark + counts.release + counts.inGrace).toBe(counts.candidates);
        // Cancels come only from the non-candidates.
        expect(counts.cancel).toBeLessThanOrEqual(counts.notOptedIn + counts.protected + counts.notIdle);
        expect({
          mark: counts.mark,
          release: counts.release,
          cancel: counts.cancel,
        }).toEqual({
          mark: actions.filter((a) => a.kind === 'mark').length,
          release: actions.filter((a) => a.kind === 'release').length,
          cancel: actions.filter((a) => a.kind === 'cancel').length,
        });
        const expected: Partial<TypeCounts> = {
          protected: ofType.filter((c) => c.isProtected).length,
          notOptedIn: ofType.filter((c) => !c.isProtected && !c.optedIn).length,
          notIdle: ofType.filter((c) => !c.isProtected && c.optedIn && !c.idle).length,
          candidates: ofType.filter((c) => c.candidate).length,
          inGrace: ofType.filter((c) => c.candidate && c.markFuture).length,
        };
        expect(counts).toMatchObject(expected);
      }
    });
  });

  it('(f) is deterministic, independent of inventory order, and does not mutate its input', () => {
    fc.assert(
      fc.property(
        scenarios,
        fc.array(fc.double({ noNaN: true }), { minLength: 30, maxLength: 30 }),
        (s, keys) => {
          const before = structuredClone(s.inventory);
          const policyBefore = structuredClone(s.policy);
          const nowBefore = s.now.getTime();
          const frozen = deepFreeze(structuredClone(s.inventory));
          const first = evaluate(frozen, deepFreeze(structuredClone(s.policy)), s.now);
          const second = evaluate(s.inventory, s.policy, s.now);
          expect(second).toEqual(first);
          const shuffled = s.inventory
            .map((resource, i) => ({ resource, sortKey: keys[i] ?? 0 }))
            .sort((a, b) => a.sortKey - b.sortKey)
            .map(({ resource }) => resource);
          expect(evaluate(shuffled, s.policy, s.now)).toEqual(first);
          expect(s.inventory).toEqual(before);
          expect(s.policy).toEqual(policyBefore);
          expect(s.now.getTime()).toBe(nowBefore);
          // And the order is the documented one: type order, then id.
          const order = first.actions.map((a) => [RESOURCE_TYPES.indexOf(a.type), a.resourceId] as const);
          const sorted = [...order].sort(([ta, ia], [tb, ib]) => ta - tb || (ia < ib ? -1 : ia > ib ? 1 : 0));
          expect(order).toEqual(sorted);
          expect(new Set(first.actions.map((a) => key(a.type, a.resourceId))).size).toBe(
            first.actions.length,
          );
        },
      ),
      RUNS,
    );
  });

  it('(g) plans nothing for a disabled type and counts it only as discovered; its resources change nothing else', () => {
    check(({ now, policy, inventory }) => {
      const result = evaluate(inventory, policy, now);
      const enabledOnly = inventory.filter((r) => policy.types[r.type].enabled);
      expect(evaluate(enabledOnly, policy, now).actions).toEqual(result.actions);
      for (const type of RESOURCE_TYPES.filter((t) => !policy.types[t].enabled)) {
        expect(result.actions.filter((a) => a.type === type)).toEqual([]);
        expect(result.counts[type]).toEqual({
          ...zeroCounts(),
          discovered: inventory.filter((r) => r.type === type).length,
        });
      }
    });
  });

  it('(h) each type rules idle exactly as documented on FactsByType and the policy', () => {
    check(({ now, policy, inventory }) => {
      for (const resource of inventory) {
        const verdict = rules[resource.type].isIdle(resource, policy, now);
        expect({ id: resource.id, idle: verdict.idle }).toEqual({
          id: resource.id,
          idle: idleByDefinition(resource, policy, now),
        });
        expect(verdict.reason.length).toBeGreaterThan(0);
      }
    });
  });
});

/** Violations the caps imply, in exact integer arithmetic (`maxPercentPerType` is whole hundredths). */
function expectedViolations(
  counts: Record<string, { discovered: number; release: number }>,
  policy: ReleasePolicy,
) {
  const hundredths = Math.round(policy.caps.maxPercentPerType * 100);
  const violations: { type: string; cap: string; over: number }[] = [];
  for (const type of RESOURCE_TYPES) {
    const { discovered, release } = counts[type] ?? { discovered: 0, release: 0 };
    if (release > policy.caps.maxReleasesPerType) {
      violations.push({ type, cap: 'maxReleasesPerType', over: release - policy.caps.maxReleasesPerType });
    }
    if (release * 10_000 > discovered * hundredths) {
      violations.push({
        type,
        cap: 'maxPercentPerType',
        over: release - Math.floor((discovered * hundredths) / 10_000),
      });
    }
  }
  return violations;
}

function capsOutcome(result: EvaluationResult, policy: ReleasePolicy) {
  try {
    checkCaps(result, policy);
    return null;
  } catch (error) {
    if (!(error instanceof BlastRadiusExceeded)) throw error;
    return error;
  }
}

function assertCaps(result: EvaluationResult, policy: ReleasePolicy): 'threw' | 'passed' {
  const expected = expectedViolations(result.counts, policy);
  const error = capsOutcome(result, policy);
  if (expected.length === 0) {
    expect(error).toBeNull();
    for (const type of RESOURCE_TYPES) {
      const { release, discovered } = result.counts[type];
      expect(release).toBeLessThanOrEqual(policy.caps.maxReleasesPerType);
      expect((release / Math.max(discovered, 1)) * 100).toBeLessThanOrEqual(
        policy.caps.maxPercentPerType + 1e-9,
      );
    }
    return 'passed';
  }
  expect(error).not.toBeNull();
  expect(error?.name).toBe('BlastRadiusExceeded');
  expect(error?.violations.map((v) => ({ type: v.type, cap: v.cap, over: v.planned - v.allowed }))).toEqual(
    expected,
  );
  for (const v of expected) {
    expect(error?.message).toContain(`${v.type}: `);
    expect(error?.message).toMatch(new RegExp(`${v.cap}[^;]*\\(${v.over} over\\)`));
  }
  return 'threw';
}

describe('checkCaps (properties)', () => {
  it('(d) throws exactly when a type releases more than maxReleasesPerType or maxPercentPerType% of its discovered', () => {
    const seen = { threw: 0, passed: 0 };
    check(({ now, policy, inventory }) => {
      seen[assertCaps(evaluate(inventory, policy, now), policy)] += 1;
    });
    // The generators must reach both outcomes often, or this property proves little.
    expect(seen.threw).toBeGreaterThan(20);
    expect(seen.passed).toBeGreaterThan(20);
  });

  it('(d) holds for any counts, well beyond what small inventories reach', () => {
    // Mostly no releases (so that all five types can pass together), else up to 60 of the discovered.
    const countsArb = fc
      .tuple(
        fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 10_000 })),
        fc.oneof(
          { arbitrary: fc.constant(0), weight: 2 },
          { arbitrary: fc.integer({ min: 0, max: 60 }), weight: 1 },
        ),
      )
      .map(([discovered, release]) => ({ discovered, release: Math.min(discovered, release) }));
    const seen = { threw: 0, passed: 0 };
    fc.assert(
      fc.property(
        policyArb,
        fc.tuple(countsArb, countsArb, countsArb, countsArb, countsArb),
        (policy, perType) => {
          const { counts } = countsWith(
            Object.fromEntries(RESOURCE_TYPES.map((type, i) => [type, perType[i]])),
          );
          seen[assertCaps({ actions: [], counts }, policy)] += 1;
        },
      ),
      RUNS,
    );
    expect(seen.threw).toBeGreaterThan(20);
    expect(seen.passed).toBeGreaterThan(20);
  });
});

describe('the arbitraries', () => {
  it('reach every branch of the policy', () => {
    const totals = { mark: 0, release: 0, cancel: 0, inGrace: 0, notOptedIn: 0, protected: 0, notIdle: 0 };
    const branches = { garbageRemark: 0, graceZeroRelease: 0, disabledDiscovered: 0 };
    for (const { now, policy, inventory } of fc.sample(scenarios, { seed: SEED, numRuns: 200 })) {
      const result = evaluate(inventory, policy, now);
      for (const type of RESOURCE_TYPES) {
        const counts = result.counts[type];
        for (const name of Object.keys(totals) as (keyof typeof totals)[]) totals[name] += counts[name];
        if (!policy.types[type].enabled) branches.disabledDiscovered += counts.discovered;
      }
      for (const action of result.actions) {
        if (action.kind === 'mark' && action.reason.includes('is not an ISO date, marking again')) {
          branches.garbageRemark += 1;
        }
        if (action.kind === 'release' && policy.graceDays === 0) branches.graceZeroRelease += 1;
      }
    }
    for (const [name, total] of Object.entries({ ...totals, ...branches })) {
      expect({ name, reached: total > 10 }).toEqual({ name, reached: true });
    }
  });
});
