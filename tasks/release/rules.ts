/**
 * The pure half of each resource type: when is a resource idle (or expired) under the policy, what does
 * releasing it do, and what would that save. No I/O and no clock of its own: `now` is an argument, so the
 * policy's evaluation is deterministic. The facts each type reads are documented on `FactsByType` in model.ts.
 */
import * as z from '../../shared/zod';
import { InvalidFacts } from './errors';
import { TAGS, type FactsByType, type Resource, type ResourceRules, type ResourceTypeId } from './model';
import {
  ebsSnapshotMonthlyUsd,
  ebsVolumeMonthlyUsd,
  ec2InstanceMonthlyUsd,
  logStorageMonthlyUsd,
  publicIpv4MonthlyUsd,
  roundCents,
} from './prices';

export const DAY_MS = 86_400_000;

const ISO_DATE = z.iso.date();
const ISO_DATE_TIME = z.iso.datetime({ offset: true, local: true });
const HAS_ZONE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parse a strict ISO 8601 date (`2026-01-03`, midnight UTC) or date-time (`2026-01-03T10:00:00Z`, with an
 * offset, or without one, read as UTC). Null for anything else. `Date.parse` alone is too lenient for tags
 * people type: it reads `2026-02-30` as March 2 and `12/31/2025` as a date. Without a zone a date-time is
 * read as UTC rather than the host's local time, so the answer does not depend on where the code runs.
 */
export function parseIsoTime(text: string): Date | null {
  if (ISO_DATE.safeParse(text).success) return new Date(`${text}T00:00:00Z`);
  if (!ISO_DATE_TIME.safeParse(text).success) return null;
  const ms = Date.parse(HAS_ZONE.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** A tag's value, or undefined when the resource does not carry it (own keys only: tags come from users). */
export function tagValue(resource: Pick<Resource, 'tags'>, key: string): string | undefined {
  return Object.hasOwn(resource.tags, key) ? resource.tags[key] : undefined;
}

const isoTime = z
  .string()
  .check(z.refine((text) => parseIsoTime(text) !== null, { message: 'not an ISO date' }));

/** The shape each type's adapter promises. Extra facts are allowed; missing or mistyped ones are a bug. */
const FACTS = {
  'ec2-instance': z.object({ state: z.string(), instanceType: z.string(), launchTime: z.string() }),
  'ebs-volume': z.object({
    state: z.string(),
    sizeGiB: z.number().check(z.nonnegative()),
    volumeType: z.string(),
    iops: z.nullable(z.number().check(z.nonnegative())),
    createdAt: isoTime,
  }),
  'ebs-snapshot': z.object({
    state: z.string(),
    sizeGiB: z.number().check(z.nonnegative()),
    startedAt: isoTime,
    usedByImage: z.nullable(z.string()),
  }),
  'elastic-ip': z.object({ associated: z.boolean(), publicIp: z.string() }),
  'log-group': z.object({
    retentionDays: z.nullable(z.int().check(z.positive())),
    storedBytes: z.number().check(z.nonnegative()),
    createdAt: isoTime,
  }),
} satisfies { [T in ResourceTypeId]: z.ZodMiniType<FactsByType[T]> };

/** The resource's facts, typed. Throws InvalidFacts when the adapter broke its promise. */
export function factsOf<T extends ResourceTypeId>(resource: Resource, type: T): FactsByType[T] {
  const parsed = FACTS[type].safeParse(resource.facts);
  if (!parsed.success) {
    throw new InvalidFacts(
      type,
      resource.id,
      parsed.error.issues.map((issue) => `facts.${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return parsed.data as FactsByType[T];
}

/** `2026-01-03`: reasons show days, not milliseconds. */
function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** "41 days ago", "in 3 days", "less than a day ago": whole days, rounded toward zero, for reasons. */
function daysAgo(from: Date, now: Date): string {
  const ms = now.getTime() - from.getTime();
  const days = Math.floor(Math.abs(ms) / DAY_MS);
  if (days === 0) return ms < 0 ? 'in less than a day' : 'less than a day ago';
  const span = `${days} ${days === 1 ? 'day' : 'days'}`;
  return ms < 0 ? `in ${span}` : `${span} ago`;
}

/** At least `days` (a whole number of days under the policy) between `from` and `now`. */
function olderThan(from: Date, days: number, now: Date): boolean {
  return now.getTime() - from.getTime() >= days * DAY_MS;
}

/** Checked by FACTS, so never null here; the guard keeps the types honest without a non-null assertion. */
function factTime(text: string): Date {
  const time = parseIsoTime(text);
  if (time === null) throw new Error(`not an ISO date: ${text}`);
  return time;
}

/**
 * ec2-instance: expired when its `stepjobs:expires-at` tag (written by whoever launched it) is an ISO date in
 * the past. Only a running instance is idle, since stopping a stopped one saves nothing; when the policy
 * terminates, a stopped instance that expired is released too. An expiry that is not an ISO date never
 * counts: the job does not guess what "next friday" meant.
 */
const ec2Instance: ResourceRules = {
  isIdle(resource, policy, now) {
    const facts = factsOf(resource, 'ec2-instance');
    const action = policy.types['ec2-instance'].action;
    const tag = tagValue(resource, TAGS.EXPIRES_AT);
    if (tag === undefined) return { idle: false, reason: `no ${TAGS.EXPIRES_AT} tag` };
    const expiresAt = parseIsoTime(tag);
    if (expiresAt === null) {
      return { idle: false, reason: `${TAGS.EXPIRES_AT} tag "${tag}" is not an ISO date` };
    }
    if (expiresAt.getTime() > now.getTime()) {
      return { idle: false, reason: `expires ${tag} (${daysAgo(expiresAt, now)})` };
    }
    const states = action === 'terminate' ? ['running', 'stopped'] : ['running'];
    if (!states.includes(facts.state)) {
      return {
        idle: false,
        reason: `expired ${tag} (${daysAgo(expiresAt, now)}) but ${facts.state}; policy action ${action} needs ${states.join(' or ')}`,
      };
    }
    return {
      idle: true,
      reason: `${facts.state} ${facts.instanceType} expired ${tag} (${daysAgo(expiresAt, now)}, ${TAGS.EXPIRES_AT})`,
    };
  },
  releaseOperation: (policy) => policy.types['ec2-instance'].action,
  /**
   * The instance's compute for a month at list price. Stopping or terminating ends the instance-hour charge;
   * attached EBS volumes (kept by a stop, maybe deleted by a terminate) are not counted. A stopped instance
   * accrues no instance hours, so terminating it saves only storage we cannot see: null.
   */
  monthlySaving(resource) {
    const facts = factsOf(resource, 'ec2-instance');
    if (facts.state !== 'running') return null;
    return ec2InstanceMonthlyUsd(facts.instanceType);
  },
};

/**
 * ebs-volume: idle when unattached (state `available`) and created at least `unattachedDays` ago. EC2 keeps
 * no detach time, so the creation time is the best bound we have: an old volume detached yesterday looks idle
 * at once. The grace period is what covers it: the volume is only marked now, and a volume attached again
 * before its release date is no longer idle, so its mark is cancelled instead of it being deleted.
 */
const ebsVolume: ResourceRules = {
  isIdle(resource, policy, now) {
    const facts = factsOf(resource, 'ebs-volume');
    const { unattachedDays } = policy.types['ebs-volume'];
    if (facts.state !== 'available')
      return { idle: false, reason: `state ${facts.state} (attached or changing)` };
    const createdAt = factTime(facts.createdAt);
    const age = `created ${day(createdAt)} (${daysAgo(createdAt, now)}, policy unattachedDays ${unattachedDays})`;
    if (!olderThan(createdAt, unattachedDays, now)) return { idle: false, reason: `unattached but ${age}` };
    return { idle: true, reason: `unattached ${facts.sizeGiB} GiB ${facts.volumeType}, ${age}` };
  },
  releaseOperation: (policy) => (policy.types['ebs-volume'].snapshotFirst ? 'snapshot-and-delete' : 'delete'),
  /**
   * The volume's storage and provisioned IOPS for a month, less what its final snapshot costs when the policy
   * snapshots first. The snapshot is priced as if full, so with `snapshotFirst` the saving is a lower bound,
   * and negative where a full snapshot costs more than the volume (st1, sc1, magnetic). Null for an unknown
   * volume type.
   */
  monthlySaving(resource, policy) {
    const facts = factsOf(resource, 'ebs-volume');
    const volume = ebsVolumeMonthlyUsd(facts);
    if (volume === null) return null;
    if (!policy.types['ebs-volume'].snapshotFirst) return volume;
    return roundCents(volume - ebsSnapshotMonthlyUsd(facts.sizeGiB));
  },
};

/**
 * ebs-snapshot: idle when completed, started at least `retentionDays` ago, and not the backing store of an
 * AMI (EC2 refuses to delete those, and deregistering images is not this job's call).
 */
const ebsSnapshot: ResourceRules = {
  isIdle(resource, policy, now) {
    const facts = factsOf(resource, 'ebs-snapshot');
    const { retentionDays } = policy.types['ebs-snapshot'];
    if (facts.state !== 'completed') return { idle: false, reason: `state ${facts.state}` };
    if (facts.usedByImage !== null) return { idle: false, reason: `used by AMI ${facts.usedByImage}` };
    const startedAt = factTime(facts.startedAt);
    const age = `started ${day(startedAt)} (${daysAgo(startedAt, now)}, policy retentionDays ${retentionDays})`;
    if (!olderThan(startedAt, retentionDays, now)) return { idle: false, reason: `within retention: ${age}` };
    return { idle: true, reason: `${facts.sizeGiB} GiB snapshot ${age}, not used by an AMI` };
  },
  releaseOperation: () => 'delete',
  /**
   * The snapshot's size at the standard tier. Snapshots are incremental: one stores only the blocks that
   * changed since the previous one, and deleting it frees only blocks no other snapshot shares. An upper bound.
   */
  monthlySaving(resource) {
    return ebsSnapshotMonthlyUsd(factsOf(resource, 'ebs-snapshot').sizeGiB);
  },
};

/** elastic-ip: idle when not associated with an instance or network interface. */
const elasticIp: ResourceRules = {
  isIdle(resource) {
    const facts = factsOf(resource, 'elastic-ip');
    if (facts.associated) return { idle: false, reason: `${facts.publicIp} is associated` };
    return {
      idle: true,
      reason: `${facts.publicIp} is not associated with any instance or network interface`,
    };
  },
  releaseOperation: () => 'release',
  /** A public IPv4 address costs the same whether used or not: 3.65 USD a month. */
  monthlySaving: () => publicIpv4MonthlyUsd(),
};

/**
 * log-group: "idle" here means stored forever (no retention). Releasing it sets the policy's retention; the
 * group and its recent events stay.
 */
const logGroup: ResourceRules = {
  isIdle(resource, policy) {
    const facts = factsOf(resource, 'log-group');
    const target = policy.types['log-group'].retentionDays;
    if (facts.retentionDays !== null) {
      return { idle: false, reason: `retention already set to ${facts.retentionDays} days` };
    }
    const gb = (facts.storedBytes / 1e9).toFixed(2);
    return { idle: true, reason: `never expires (${gb} GB stored); policy sets ${target} days` };
  },
  releaseOperation: () => 'set-retention',
  /**
   * All stored bytes at the storage price. Setting retention deletes only events older than it, so this is an
   * upper bound; for a group written at a steady rate the real saving is the share older than the retention.
   */
  monthlySaving(resource) {
    return logStorageMonthlyUsd(factsOf(resource, 'log-group').storedBytes);
  },
};

/** The rules of every resource type, by type id. */
export const rules: Record<ResourceTypeId, ResourceRules> = {
  'ec2-instance': ec2Instance,
  'ebs-volume': ebsVolume,
  'ebs-snapshot': ebsSnapshot,
  'elastic-ip': elasticIp,
  'log-group': logGroup,
};
