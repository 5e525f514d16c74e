/**
 * What local mode's simulated account starts with: a few dozen resources across the five types, placed in
 * time around a given `now` so that, under the default policy, every case the job must handle shows up:
 * marked, due, in grace, cancelled, protected, not opted in, not idle yet, invisible (no selector tag),
 * and one resource that vanishes between the plan and the apply. Each case says what the default policy
 * should do with it, so tests and the local demo can check the plan against the seed.
 *
 * `scaleInventory` builds a large account of mostly opted-in candidates, for the throughput benchmark.
 */
import { createHash } from 'node:crypto';
import { RESOURCE_TYPES, TAGS, type ResourceTypeId } from '../../tasks/release/model';
import type { SimulatedResource } from './resources';

/**
 * What the default policy does with a seeded resource at the seed's `now`: a plan kind, an ignore reason, or
 * `invisible` (discovery never returns it: it carries neither the opt-in nor the mark tag, or is terminated).
 */
export type SeedExpectation =
  'mark' | 'release' | 'cancel' | 'in-grace' | 'protected' | 'not-opted-in' | 'not-idle' | 'invisible';

export interface SeedCase {
  resource: SimulatedResource;
  /** The situation, in words. */
  scenario: string;
  /** Under the default policy at `now`; null for AMIs, which the job does not release. */
  expected: SeedExpectation | null;
}

const DAY_MS = 86_400_000;

/** A realistic, deterministic id: `<prefix>-0` and 16 hex digits derived from `label`. */
export function seedId(prefix: string, label: string): string {
  return `${prefix}-0${createHash('sha256').update(label).digest('hex').slice(0, 16)}`;
}

const OPT_IN = { [TAGS.OPT_IN]: TAGS.OPT_IN_VALUE };
const PROTECTED = { [TAGS.PROTECT]: 'true' };

/** The seed's cases at `now` (see {@link SeedCase}). */
export function inventorySeed(now: Date): SeedCase[] {
  const at = (days: number) => new Date(now.getTime() + days * DAY_MS).toISOString();
  const marked = (days: number) => ({ [TAGS.RELEASE_AFTER]: at(days) });
  const cases: SeedCase[] = [];
  const add = (expected: SeedExpectation | null, scenario: string, resource: SimulatedResource) =>
    cases.push({ resource, scenario, expected });

  // EC2 instances: idle means past `stepjobs:expires-at`; release stops them (default action).
  const instance = (
    label: string,
    tags: Record<string, string>,
    state: 'running' | 'terminated' = 'running',
  ) => ({
    type: 'ec2-instance' as const,
    id: seedId('i', label),
    tags: { Name: label, ...tags },
    state,
    instanceType: label.includes('gpu') ? 'g5.xlarge' : 't3.medium',
    launchTime: at(-40),
  });
  const expires = (days: number) => ({ [TAGS.EXPIRES_AT]: at(days) });
  add(
    'mark',
    'opted in, expired 2 days ago, not marked yet',
    instance('demo-sandbox', { ...OPT_IN, ...expires(-2) }),
  );
  add(
    'release',
    'opted in, expired 20 days ago, marked and past its release date',
    instance('load-test-runner', { ...OPT_IN, ...expires(-20), ...marked(-1) }),
  );
  add(
    'in-grace',
    'opted in, expired 3 days ago, marked, release date in 4 days',
    instance('ml-experiment-gpu', { ...OPT_IN, ...expires(-3), ...marked(4) }),
  );
  const notExpired = instance('feature-branch-preview', { ...OPT_IN, ...expires(30) });
  add('not-idle', 'opted in, expires in 30 days', notExpired);
  add('not-idle', 'opted in without an expiry date', instance('shared-bastion', { ...OPT_IN }));
  add(
    'protected',
    'opted in and expired, but protected',
    instance('payments-canary', { ...OPT_IN, ...expires(-10), ...PROTECTED }),
  );
  add(
    'cancel',
    'marked earlier, protected since',
    instance('data-migration-box', { ...OPT_IN, ...expires(-15), ...marked(2), ...PROTECTED }),
  );
  add('invisible', 'no selector tag', instance('prod-api-1', { team: 'platform' }));
  add(
    'invisible',
    'opted in and expired but terminated (discovery skips terminated instances)',
    instance('old-ci-runner', { ...OPT_IN, ...expires(-30) }, 'terminated'),
  );

  // EBS volumes: idle means unattached for 14 days (default); release snapshots, then deletes.
  const volume = (
    label: string,
    tags: Record<string, string>,
    ageDays: number,
    extra: { attachedTo?: string; vanishOnApply?: boolean; sizeGiB?: number; volumeType?: string } = {},
  ): SimulatedResource => {
    const volumeType = extra.volumeType ?? 'gp3';
    return {
      type: 'ebs-volume',
      id: seedId('vol', label),
      tags: { Name: label, ...tags },
      state: extra.attachedTo ? 'in-use' : 'available',
      sizeGiB: extra.sizeGiB ?? 100,
      volumeType,
      iops: volumeType === 'gp3' ? 3000 : volumeType === 'gp2' ? 300 : volumeType === 'io2' ? 4000 : null,
      createdAt: at(-ageDays),
      ...(extra.attachedTo ? { attachedTo: extra.attachedTo } : {}),
      ...(extra.vanishOnApply ? { vanishOnApply: true } : {}),
    };
  };
  add(
    'mark',
    'opted in, unattached for 30 days, not marked yet',
    volume('scratch-data-1', { ...OPT_IN }, 30),
  );
  add(
    'release',
    'opted in, unattached for 60 days, marked and due (snapshot, then delete)',
    volume(
      'old-build-cache',
      { ...OPT_IN, ...marked(-2), team: 'ci', 'aws:cloudformation:stack-name': 'ci-cache' },
      60,
      {
        sizeGiB: 500,
        volumeType: 'gp2',
      },
    ),
  );
  add(
    'release',
    'due for release, but deleted by someone else just before the apply (vanishOnApply: ALREADY_GONE)',
    volume('temp-restore-test', { ...OPT_IN, ...marked(-1) }, 45, { vanishOnApply: true }),
  );
  add(
    'in-grace',
    'opted in, unattached for 20 days, marked, release date in 5 days',
    volume('analytics-export', { ...OPT_IN, ...marked(5) }, 20),
  );
  add('not-idle', 'opted in, created 2 days ago', volume('new-dataset', { ...OPT_IN }, 2));
  add(
    'not-idle',
    'opted in, attached',
    volume('preview-root', { ...OPT_IN }, 90, { attachedTo: notExpired.id, sizeGiB: 20 }),
  );
  add(
    'cancel',
    'marked, attached again since (in use)',
    volume('reattached-data', { ...OPT_IN, ...marked(-3) }, 40, {
      attachedTo: notExpired.id,
      volumeType: 'io2',
    }),
  );
  add('not-opted-in', 'marked, opt-in tag removed since', volume('kept-by-owner', { ...marked(3) }, 35));
  add(
    'protected',
    'opted in and idle, but protected',
    volume('legal-hold-archive', { ...OPT_IN, ...PROTECTED }, 120, { volumeType: 'st1', sizeGiB: 1000 }),
  );
  add(
    'not-opted-in',
    'opt-in tag present with value "false"',
    volume('team-owned-scratch', { [TAGS.OPT_IN]: 'false' }, 50),
  );
  add('invisible', 'no selector tag, idle', volume('forgotten-volume', {}, 200));
  add(
    'invisible',
    'only a Name tag, idle',
    volume('db-restore-2023', { owner: 'dba' }, 400, { sizeGiB: 250 }),
  );

  // EBS snapshots: idle means older than 90 days (default) and not backing an AMI.
  const snapshot = (
    label: string,
    tags: Record<string, string>,
    ageDays: number,
    sizeGiB = 30,
  ): SimulatedResource => ({
    type: 'ebs-snapshot',
    id: seedId('snap', label),
    tags: { Name: label, ...tags },
    state: 'completed',
    sizeGiB,
    startedAt: at(-ageDays),
    volumeId: seedId('vol', `${label}-source`),
    description: `Created for ${label}`,
  });
  add('mark', 'opted in, 120 days old, not marked yet', snapshot('pre-upgrade-db', { ...OPT_IN }, 120, 100));
  add(
    'release',
    'opted in, 200 days old, marked and due',
    snapshot('q1-backup', { ...OPT_IN, ...marked(-1) }, 200, 500),
  );
  add(
    'in-grace',
    'opted in, 100 days old, marked, release date in 3 days',
    snapshot('migration-checkpoint', { ...OPT_IN, ...marked(3) }, 100),
  );
  add('not-idle', 'opted in, 10 days old', snapshot('nightly-2', { ...OPT_IN }, 10));
  const amiSnapshot = snapshot('golden-image-root', { ...OPT_IN }, 300, 8);
  add('not-idle', 'opted in and old, but the root of an AMI (usedByImage)', amiSnapshot);
  add(
    'cancel',
    'marked, protected since',
    snapshot('audit-evidence', { ...OPT_IN, ...marked(-2), ...PROTECTED }, 150),
  );
  add(
    'protected',
    'opted in and old, but protected',
    snapshot('compliance-baseline', { ...OPT_IN, ...PROTECTED }, 400),
  );
  add('invisible', 'no selector tag, old', snapshot('manual-snapshot', {}, 365));
  add(null, 'an AMI whose root is an opted-in snapshot', {
    type: 'ec2-image',
    id: seedId('ami', 'golden-al2023'),
    tags: { Name: 'golden-al2023' },
    name: 'golden-al2023-2025.01',
    snapshotIds: [amiSnapshot.id],
    createdAt: at(-300),
  });

  // Elastic IPs: idle means not associated; release gives the address back.
  let ip = 10;
  const address = (
    label: string,
    tags: Record<string, string>,
    associatedWith?: string,
  ): SimulatedResource => ({
    type: 'elastic-ip',
    id: seedId('eipalloc', label),
    tags: { Name: label, ...tags },
    publicIp: `203.0.113.${ip++}`,
    ...(associatedWith ? { associatedWith } : {}),
  });
  add('mark', 'opted in, not associated, not marked yet', address('demo-nat-ip', { ...OPT_IN }));
  add(
    'release',
    'opted in, not associated, marked and due',
    address('old-vpn-endpoint', { ...OPT_IN, ...marked(-4) }),
  );
  add(
    'in-grace',
    'opted in, not associated, marked, release date in 6 days',
    address('spare-ip', { ...OPT_IN, ...marked(6) }),
  );
  add('not-idle', 'opted in, associated', address('preview-ip', { ...OPT_IN }, notExpired.id));
  add(
    'cancel',
    'marked, associated again since',
    address('reused-ip', { ...OPT_IN, ...marked(-1) }, notExpired.id),
  );
  add(
    'not-opted-in',
    'marked, opt-in tag removed since',
    address('allowlisted-partner-ip', { ...marked(2) }),
  );
  add(
    'protected',
    'opted in, not associated, but protected',
    address('dns-allowlisted-ip', { ...OPT_IN, ...PROTECTED }),
  );
  add('invisible', 'no selector tag, not associated', address('unknown-ip', {}));

  // Log groups: idle means kept forever (no retention); release sets the policy's retention (30 days).
  const group = (
    name: string,
    tags: Record<string, string>,
    retentionDays: number | null,
    ageDays = 200,
  ): SimulatedResource => ({
    type: 'log-group',
    id: name,
    tags,
    retentionDays,
    storedBytes: 1_000_000 * (name.length * 37),
    createdAt: at(-ageDays),
  });
  add(
    'mark',
    'opted in, no retention, not marked yet',
    group('/aws/lambda/orders-api-dev', { ...OPT_IN }, null),
  );
  add(
    'release',
    'opted in, no retention, marked and due',
    group('/aws/lambda/legacy-report-generator', { ...OPT_IN, ...marked(-1) }, null, 700),
  );
  add(
    'in-grace',
    'opted in, no retention, marked, release date in 2 days',
    group('/aws/codebuild/nightly-integration', { ...OPT_IN, ...marked(2) }, null),
  );
  add('not-idle', 'opted in, retention 14 days', group('/aws/lambda/checkout-service', { ...OPT_IN }, 14));
  add(
    'cancel',
    'marked, retention set by its owner since',
    group('/aws/lambda/image-resizer', { ...OPT_IN, ...marked(-2) }, 7),
  );
  add(
    'not-opted-in',
    'marked, opt-in tag removed since',
    group('/aws/lambda/feature-flags', { ...marked(1) }, null),
  );
  add(
    'protected',
    'opted in, no retention, but protected',
    group('/ecs/payments-worker', { ...OPT_IN, ...PROTECTED }, null),
  );
  add(
    'invisible',
    'no selector tag, no retention',
    group('/aws/lambda/untagged-function', { team: 'web' }, null),
  );
  add('invisible', 'no tags at all', group('/aws/apigateway/welcome', {}, null, 900));

  return cases;
}

/** The seed's resources at `now`, for {@link seedSimulatedAccount}. */
export function simulatedInventory(now: Date): SimulatedResource[] {
  return inventorySeed(now).map((c) => c.resource);
}

/** How many seeded resources of each type meet each expectation (the expected plan, per type). */
export function expectedCounts(
  cases: readonly SeedCase[],
): Record<ResourceTypeId, Record<SeedExpectation, number>> {
  const empty = (): Record<SeedExpectation, number> => ({
    mark: 0,
    release: 0,
    cancel: 0,
    'in-grace': 0,
    protected: 0,
    'not-opted-in': 0,
    'not-idle': 0,
    invisible: 0,
  });
  const counts = Object.fromEntries(RESOURCE_TYPES.map((type) => [type, empty()])) as Record<
    ResourceTypeId,
    Record<SeedExpectation, number>
  >;
  for (const { resource, expected } of cases) {
    if (expected === null || resource.type === 'ec2-image') continue;
    counts[resource.type][expected] += 1;
  }
  return counts;
}

/**
 * `n` resources spread evenly over the five types, for the benchmark: nine in ten are opted-in idle candidates
 * not marked yet (a run marks them), one in ten is protected. Deterministic for a given `n` and `now`.
 */
export function scaleInventory(n: number, now: Date): SimulatedResource[] {
  const at = (days: number) => new Date(now.getTime() + days * DAY_MS).toISOString();
  const resources: SimulatedResource[] = [];
  for (let i = 0; i < n; i++) {
    const label = `scale-${i}`;
    // Every tenth of each type is protected.
    const tags = {
      ...OPT_IN,
      Name: label,
      ...(Math.floor(i / RESOURCE_TYPES.length) % 10 === 9 ? PROTECTED : {}),
    };
    switch (i % RESOURCE_TYPES.length) {
      case 0:
        resources.push({
          type: 'ec2-instance',
          id: seedId('i', label),
          tags: { ...tags, [TAGS.EXPIRES_AT]: at(-1) },
          state: 'running',
          instanceType: 't3.micro',
          launchTime: at(-30),
        });
        break;
      case 1:
        resources.push({
          type: 'ebs-volume',
          id: seedId('vol', label),
          tags,
          state: 'available',
          sizeGiB: 8 + (i % 92),
          volumeType: 'gp3',
          iops: 3000,
          createdAt: at(-30),
        });
        break;
      case 2:
        resources.push({
          type: 'ebs-snapshot',
          id: seedId('snap', label),
          tags,
          state: 'completed',
          sizeGiB: 8 + (i % 92),
          startedAt: at(-120),
          volumeId: seedId('vol', `${label}-source`),
        });
        break;
      case 3:
        resources.push({
          type: 'elastic-ip',
          id: seedId('eipalloc', label),
          tags,
          publicIp: `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`,
        });
        break;
      default:
        resources.push({
          type: 'log-group',
          id: `/aws/lambda/bench-function-${String(i).padStart(6, '0')}`,
          tags,
          retentionDays: null,
          storedBytes: 1_000_000 + i,
          createdAt: at(-60),
        });
    }
  }
  return resources;
}
