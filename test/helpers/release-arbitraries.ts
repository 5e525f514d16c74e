/**
 * fast-check arbitraries for the release job: policies, and inventories across the five resource types with
 * random tags and facts. A resource is generated as a *spec* (what its tags and facts mean: opted in or not,
 * marked in the past, created 40 days ago...) and then materialized against a `now` and a policy, so the
 * interesting cases (opt-in right and wrong, protect, due, in grace and garbage marks, ages either side of the
 * policy's thresholds) come up often and shrink to readable counterexamples.
 *
 * Every value is new on each call, so tests may not share or mutate fixtures through them.
 */
import fc from 'fast-check';
import { LOG_RETENTION_DAYS, ReleasePolicy } from '../../tasks/release/input';
import {
  RESOURCE_TYPES,
  TAGS,
  type EvaluationResult,
  type FactsByType,
  type Resource,
  type ResourceTypeId,
} from '../../tasks/release/model';
import { zeroCounts } from '../../tasks/release/policy';

export const DAY_MS = 86_400_000;

/** Opt-in keys and values the generated policies choose from; resources carry either, so some mismatch. */
export const OPT_IN_KEYS = [TAGS.OPT_IN, 'team:cleanup'] as const;
export const OPT_IN_VALUES = [TAGS.OPT_IN_VALUE, 'yes'] as const;
export const PROTECT_KEYS = [TAGS.PROTECT, 'do-not-delete'] as const;

/**
 * Tag values that are not dates, for the release-after and expires-at tags. Each is NaN for `Date.parse`
 * too, so a test oracle can tell valid from garbage without the code's parser.
 */
export const GARBAGE_DATES = [
  'soon',
  '',
  'tomorrow',
  '2026-13-01',
  'next friday',
  'never',
  '20260105',
  '2026-01-05T25:00:00Z',
] as const;

/** The instance types the generator uses: some priced, one the price table does not know. */
export const INSTANCE_TYPES = [
  't3.micro',
  't4g.small',
  'm5.large',
  'c7g.xlarge',
  'r6g.2xlarge',
  'x9.mega',
] as const;
export const VOLUME_TYPES = ['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard', 'gp9'] as const;

/** A run time between 2025 and 2028, whole milliseconds. */
export const nowArb: fc.Arbitrary<Date> = fc
  .integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2028-01-01T00:00:00Z') })
  .map((ms) => new Date(ms));

/** Grace periods: 0 (release at once), common fractions, whole days, and any double in range. */
export const graceDaysArb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.constantFrom(0.25, 0.5, 1.5),
  fc.integer({ min: 1, max: 30 }),
  fc.double({ min: 0, max: 365, noNaN: true, noDefaultInfinity: true }),
);

/** Mostly enabled, so most runs have something to do. */
const enabledArb = fc.oneof(
  { arbitrary: fc.constant(true), weight: 3 },
  { arbitrary: fc.constant(false), weight: 1 },
);

/**
 * A valid policy (parsed by the real schema, so an arbitrary that drifts from it fails loudly). Caps are
 * often small, so plans regularly exceed them; `maxPercentPerType` is a whole number of hundredths.
 */
export const policyArb: fc.Arbitrary<ReleasePolicy> = fc
  .record({
    optIn: fc.record({
      tagKey: fc.constantFrom(...OPT_IN_KEYS),
      tagValue: fc.constantFrom(...OPT_IN_VALUES),
    }),
    protectTagKey: fc.constantFrom(...PROTECT_KEYS),
    graceDays: graceDaysArb,
    caps: fc.record({
      maxReleasesPerType: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40 })),
      maxPercentPerType: fc
        .oneof(
          fc.integer({ min: 0, max: 100 }).map((p) => p * 100),
          fc.integer({ min: 0, max: 10_000 }),
        )
        .map((hundredths) => hundredths / 100),
    }),
    types: fc.record({
      'ec2-instance': fc.record({ enabled: enabledArb, action: fc.constantFrom('stop', 'terminate') }),
      'ebs-volume': fc.record({
        enabled: enabledArb,
        unattachedDays: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 60 })),
        snapshotFirst: fc.boolean(),
      }),
      'ebs-snapshot': fc.record({
        enabled: enabledArb,
        retentionDays: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 120 })),
      }),
      'elastic-ip': fc.record({ enabled: enabledArb }),
      'log-group': fc.record({ enabled: enabledArb, retentionDays: fc.constantFrom(...LOG_RETENTION_DAYS) }),
    }),
  })
  .map((raw) => ReleasePolicy.parse(raw));

/** What a resource's job tags mean; materialized against the policy's keys. */
export interface TagSpec {
  /** `other-key`: the opt-in value under the opt-in key the policy does *not* use. */
  optIn: 'right' | 'wrong-value' | 'other-key' | 'absent';
  protect: boolean;
  mark: 'absent' | 'past' | 'now' | 'future' | 'garbage';
  /** How far from now a past or future mark is, in ms (at least 1). */
  markOffsetMs: number;
  garbage: string;
  /** Unrelated tags, e.g. `Name`. */
  extra: Record<string, string>;
}

/** Close to the boundary (a millisecond, a second, a minute) as often as days away. */
const offsetMsArb = fc.oneof(
  fc.constantFrom(1, 999, 1000),
  fc.integer({ min: 1, max: 60_000 }),
  fc.integer({ min: 1, max: 400 }).map((days) => days * DAY_MS),
  fc.integer({ min: 1, max: 400 * DAY_MS }),
);

export const tagSpecArb: fc.Arbitrary<TagSpec> = fc.record({
  optIn: fc.oneof(
    { arbitrary: fc.constant('right' as const), weight: 5 },
    {
      arbitrary: fc.constantFrom('wrong-value' as const, 'other-key' as const, 'absent' as const),
      weight: 2,
    },
  ),
  protect: fc.oneof(
    { arbitrary: fc.constant(false), weight: 4 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  mark: fc.constantFrom(
    'absent' as const,
    'absent' as const,
    'past' as const,
    'now' as const,
    'future' as const,
    'garbage' as const,
  ),
  markOffsetMs: offsetMsArb,
  garbage: fc.constantFrom(...GARBAGE_DATES),
  extra: fc.dictionary(fc.constantFrom('Name', 'team', 'env'), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
});

/**
 * A time relative to `now`, in days (fractional; negative is in the future): ages either side of any
 * threshold, and often exactly a small whole number of days, to meet small thresholds exactly.
 */
const agoDaysArb = fc.oneof(
  fc.integer({ min: 0, max: 4 }),
  fc.integer({ min: -2, max: 150 }),
  fc.double({ min: -2, max: 400, noNaN: true, noDefaultInfinity: true }),
);

/** Facts per type, with times as days before `now`. */
export type FactSpec =
  | {
      type: 'ec2-instance';
      state: string;
      instanceType: string;
      launchedAgoDays: number;
      /** The `stepjobs:expires-at` tag: absent, an ISO time this many days ago (negative: future), or garbage. */
      expires:
        | { kind: 'absent' }
        | { kind: 'iso' | 'date-only'; agoDays: number }
        | { kind: 'garbage'; text: string };
    }
  | {
      type: 'ebs-volume';
      state: string;
      sizeGiB: number;
      volumeType: string;
      iops: number | null;
      createdAgoDays: number;
    }
  | {
      type: 'ebs-snapshot';
      state: string;
      sizeGiB: number;
      startedAgoDays: number;
      usedByImage: string | null;
    }
  | { type: 'elastic-ip'; associated: boolean; ipSuffix: number }
  | { type: 'log-group'; retentionDays: number | null; storedBytes: number; createdAgoDays: number };

/** The value that can make a resource idle, three times in four; one of the others otherwise. */
const often = <T>(common: T, ...rare: T[]): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: fc.constant(common), weight: 3 }, { arbitrary: fc.constantFrom(...rare), weight: 1 });

export const factSpecArb: fc.Arbitrary<FactSpec> = fc.oneof(
  fc.record({
    type: fc.constant('ec2-instance' as const),
    state: often('running', 'stopped', 'pending', 'stopping', 'terminated'),
    instanceType: fc.constantFrom(...INSTANCE_TYPES),
    launchedAgoDays: agoDaysArb,
    expires: fc.oneof(
      { arbitrary: fc.constant({ kind: 'absent' as const }), weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constantFrom('iso' as const, 'date-only' as const),
          agoDays: agoDaysArb,
        }),
        weight: 3,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('garbage' as const),
          text: fc.constantFrom(...GARBAGE_DATES),
        }),
        weight: 1,
      },
    ),
  }),
  fc.record({
    type: fc.constant('ebs-volume' as const),
    state: often('available', 'in-use', 'creating'),
    sizeGiB: fc.integer({ min: 1, max: 16_384 }),
    volumeType: fc.constantFrom(...VOLUME_TYPES),
    iops: fc.option(fc.integer({ min: 100, max: 80_000 })),
    createdAgoDays: agoDaysArb,
  }),
  fc.record({
    type: fc.constant('ebs-snapshot' as const),
    state: often('completed', 'pending', 'error'),
    sizeGiB: fc.integer({ min: 1, max: 16_384 }),
    startedAgoDays: agoDaysArb,
    usedByImage: fc.option(
      fc.integer({ min: 0, max: 0xffff }).map((n) => `ami-${n.toString(16).padStart(8, '0')}`),
      { freq: 2 },
    ),
  }),
  fc.record({
    type: fc.constant('elastic-ip' as const),
    associated: fc.boolean(),
    ipSuffix: fc.integer({ min: 1, max: 254 }),
  }),
  fc.record({
    type: fc.constant('log-group' as const),
    retentionDays: fc.option(fc.constantFrom(...LOG_RETENTION_DAYS), { freq: 2 }),
    storedBytes: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((n) => n * 500),
    createdAgoDays: agoDaysArb,
  }),
);

/** One resource: its facts, its tags, and a small id number (so ids collide across types and sort non-trivially). */
export interface ResourceSpec {
  facts: FactSpec;
  tags: TagSpec;
  idNumber: number;
}

export const resourceSpecArb: fc.Arbitrary<ResourceSpec> = fc.record({
  facts: factSpecArb,
  tags: tagSpecArb,
  idNumber: fc.integer({ min: 0, max: 0xfff }),
});

const ID_PREFIX: Record<ResourceTypeId, string> = {
  'ec2-instance': 'i-',
  'ebs-volume': 'vol-',
  'ebs-snapshot': 'snap-',
  'elastic-ip': 'eipalloc-',
  'log-group': '/stepjobs/test/group-',
};

export function resourceId(type: ResourceTypeId, idNumber: number): string {
  return `${ID_PREFIX[type]}${idNumber.toString(16).padStart(type === 'log-group' ? 1 : 8, '0')}`;
}

function arnOf(type: ResourceTypeId, id: string): string {
  const region = 'arn:aws:ec2:us-east-1:123456789012';
  switch (type) {
    case 'ec2-instance':
      return `${region}:instance/${id}`;
    case 'ebs-volume':
      return `${region}:volume/${id}`;
    case 'ebs-snapshot':
      return `arn:aws:ec2:us-east-1::snapshot/${id}`;
    case 'elastic-ip':
      return `${region}:elastic-ip/${id}`;
    case 'log-group':
      return `arn:aws:logs:us-east-1:123456789012:log-group:${id}`;
  }
}

const isoAgo = (now: Date, agoDays: number): string =>
  new Date(now.getTime() - Math.round(agoDays * DAY_MS)).toISOString();

/** Build the resource a spec describes, as an adapter would report it at `now` for a policy's tag keys. */
export function materialize(
  spec: ResourceSpec,
  now: Date,
  policy: Pick<ReleasePolicy, 'optIn' | 'protectTagKey'>,
): Resource {
  const { facts: f, tags: t } = spec;
  const id = resourceId(f.type, spec.idNumber);
  const tags: Record<string, string> = { ...t.extra };
  const otherKey = OPT_IN_KEYS.find((key) => key !== policy.optIn.tagKey) ?? 'other:release';
  if (t.optIn === 'right') tags[policy.optIn.tagKey] = policy.optIn.tagValue;
  if (t.optIn === 'wrong-value') tags[policy.optIn.tagKey] = `not-${policy.optIn.tagValue}`;
  if (t.optIn === 'other-key') tags[otherKey] = policy.optIn.tagValue;
  if (t.protect) tags[policy.protectTagKey] = 'yes';
  if (t.mark === 'past') tags[TAGS.RELEASE_AFTER] = new Date(now.getTime() - t.markOffsetMs).toISOString();
  if (t.mark === 'now') tags[TAGS.RELEASE_AFTER] = now.toISOString();
  if (t.mark === 'future') tags[TAGS.RELEASE_AFTER] = new Date(now.getTime() + t.markOffsetMs).toISOString();
  if (t.mark === 'garbage') tags[TAGS.RELEASE_AFTER] = t.garbage;

  let facts: Resource['facts'];
  switch (f.type) {
    case 'ec2-instance':
      facts = { state: f.state, instanceType: f.instanceType, launchTime: isoAgo(now, f.launchedAgoDays) };
      if (f.expires.kind === 'iso') tags[TAGS.EXPIRES_AT] = isoAgo(now, f.expires.agoDays);
      if (f.expires.kind === 'date-only') tags[TAGS.EXPIRES_AT] = isoAgo(now, f.expires.agoDays).slice(0, 10);
      if (f.expires.kind === 'garbage') tags[TAGS.EXPIRES_AT] = f.expires.text;
      break;
    case 'ebs-volume':
      facts = {
        state: f.state,
        sizeGiB: f.sizeGiB,
        volumeType: f.volumeType,
        iops: f.iops,
        createdAt: isoAgo(now, f.createdAgoDays),
      };
      break;
    case 'ebs-snapshot':
      facts = {
        state: f.state,
        sizeGiB: f.sizeGiB,
        startedAt: isoAgo(now, f.startedAgoDays),
        usedByImage: f.usedByImage,
      };
      break;
    case 'elastic-ip':
      facts = { associated: f.associated, publicIp: `203.0.113.${f.ipSuffix}` };
      break;
    case 'log-group':
      facts = {
        retentionDays: f.retentionDays,
        storedBytes: f.storedBytes,
        createdAt: isoAgo(now, f.createdAgoDays),
      };
      break;
  }
  return { type: f.type, id, arn: arnOf(f.type, id), tags, facts };
}

/** Specs with distinct (type, id) pairs, as discovery reports each resource once. */
export const resourceSpecsArb = (maxLength = 30): fc.Arbitrary<ResourceSpec[]> =>
  fc.uniqueArray(resourceSpecArb, { maxLength, selector: (s) => `${s.facts.type}/${s.idNumber}` });

export interface Scenario {
  now: Date;
  policy: ReleasePolicy;
  inventory: Resource[];
}

/** A run: a time, a policy, and an inventory tagged for that policy's keys. */
export const scenarioArb = (maxResources = 30): fc.Arbitrary<Scenario> =>
  fc
    .record({ now: nowArb, policy: policyArb, specs: resourceSpecsArb(maxResources) })
    .map(({ now, policy, specs }) => ({
      now,
      policy,
      inventory: specs.map((spec) => materialize(spec, now, policy)),
    }));

// Builders for example tests -------------------------------------------------------------------------------

/** The clock of the example tests: facts below are dated relative to it. */
export const EXAMPLE_NOW_ISO = '2026-02-13T12:00:00.000Z';

/** Facts that make each type idle under the default policy at EXAMPLE_NOW_ISO (the ec2 expiry is a tag). */
const EXAMPLE_FACTS: { [T in ResourceTypeId]: FactsByType[T] } = {
  'ec2-instance': { state: 'running', instanceType: 't3.micro', launchTime: '2026-01-05T09:00:00.000Z' },
  'ebs-volume': {
    state: 'available',
    sizeGiB: 100,
    volumeType: 'gp3',
    iops: 3000,
    createdAt: '2026-01-03T00:00:00.000Z',
  },
  'ebs-snapshot': {
    state: 'completed',
    sizeGiB: 100,
    startedAt: '2025-09-01T00:00:00.000Z',
    usedByImage: null,
  },
  'elastic-ip': { associated: false, publicIp: '203.0.113.10' },
  'log-group': { retentionDays: null, storedBytes: 5e9, createdAt: '2025-01-01T00:00:00.000Z' },
};

/** A resource of `type` with the example facts, overridden where given. New objects on every call. */
export function exampleResource<T extends ResourceTypeId>(
  type: T,
  options: { idNumber?: number; facts?: Partial<FactsByType[T]>; tags?: Record<string, string> } = {},
): Resource {
  const id = resourceId(type, options.idNumber ?? 1);
  return {
    type,
    id,
    arn: arnOf(type, id),
    tags: { ...options.tags },
    facts: { ...EXAMPLE_FACTS[type], ...options.facts },
  };
}

/** The default policy with overrides, through the real schema. */
export function examplePolicy(overrides: Record<string, unknown> = {}): ReleasePolicy {
  return ReleasePolicy.parse(overrides);
}

/**
 * An evaluation result with only counts, for cap checks: per type, `release` of the `discovered` resources are
 * due releases and the rest are not opted in.
 */
export function countsWith(
  perType: Partial<Record<ResourceTypeId, { discovered: number; release: number }>>,
): EvaluationResult {
  const counts = {} as EvaluationResult['counts'];
  for (const type of RESOURCE_TYPES) {
    const { discovered, release } = perType[type] ?? { discovered: 0, release: 0 };
    counts[type] = {
      ...zeroCounts(),
      discovered,
      candidates: release,
      release,
      notOptedIn: discovered - release,
    };
  }
  return { actions: [], counts };
}
