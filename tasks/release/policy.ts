/**
 * The release policy: what to do with each discovered resource this run. Pure and deterministic: the same
 * inventory, policy and `now` give the same plan in the same order, whatever order discovery returned, and the
 * inventory is left untouched. All I/O (discovery, tagging, releasing) happens elsewhere.
 *
 * Per resource of an enabled type, first match wins:
 * 1. protected (carries `policy.protectTagKey`, any value): never touched; a release mark is removed (`cancel`)
 *    when the resource is opted in (IAM lets the job tag opted-in resources only).
 * 2. not opted in (`optIn.tagKey` is not `optIn.tagValue`): never touched, a mark included (see below).
 * 3. not idle under its type's rules: never released; a release mark is removed (`cancel`).
 * 4. otherwise a candidate: unmarked → `mark` with release-after = now + graceDays (or `release` at once when
 *    graceDays is 0); marked and release-after has passed → `release`; marked and not yet → in grace, no
 *    action; a mark that is not an ISO date → `mark` again, so a bad tag never releases anything.
 *
 * The release-after tag, not the current graceDays, decides when a marked resource is due: shortening the
 * grace period does not release resources that were promised a later date. But a mark overdue by more than
 * the grace period (and at least {@link STALE_MARK_MIN_DAYS} days) is stale, and is renewed rather than acted
 * on: it was left behind by a run long ago, or on a resource whose owner withdrew the opt-in (the job may not
 * remove its tag then) and opted in again much later. Either way the owner gets a whole new grace period
 * before anything is released.
 */
import { BlastRadiusExceeded, DuplicateResource, type CapViolation } from './errors';
import type { ReleasePolicy } from './input';
import {
  RESOURCE_TYPES,
  TAGS,
  type EvaluationResult,
  type Ignored,
  type PlannedAction,
  type Resource,
  type ResourceTypeId,
  type TypeCounts,
} from './model';
import { DAY_MS, parseIsoTime, rules, tagValue } from './rules';

/** The count each enabled resource lands in: exactly one of these. */
type Bucket = 'candidates' | 'notOptedIn' | 'protected' | 'notIdle';

type Verdict = { bucket: Bucket } & ({ action: PlannedAction } | { ignored: Ignored });

const TYPE_ORDER: ReadonlyMap<ResourceTypeId, number> = new Map(
  RESOURCE_TYPES.map((type, index) => [type, index]),
);

/** Type order, then id by UTF-16 code units: `localeCompare` would make the order depend on the host's locale. */
function compareResources(a: Resource, b: Resource): number {
  const byType = (TYPE_ORDER.get(a.type) ?? 0) - (TYPE_ORDER.get(b.type) ?? 0);
  if (byType !== 0) return byType;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/** A type's counts before anything was discovered. */
export function zeroCounts(): TypeCounts {
  return {
    discovered: 0,
    candidates: 0,
    mark: 0,
    release: 0,
    cancel: 0,
    inGrace: 0,
    notOptedIn: 0,
    protected: 0,
    notIdle: 0,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A mark overdue by more than this many days (or the grace period, if longer) is stale: it is renewed. */
export const STALE_MARK_MIN_DAYS = 7;

/** Whether a mark overdue by `overdueMs` is stale under `policy` (see the module comment). */
export function isStaleMark(overdueMs: number, policy: ReleasePolicy): boolean {
  return overdueMs > Math.max(policy.graceDays, STALE_MARK_MIN_DAYS) * DAY_MS;
}

function judge(resource: Resource, policy: ReleasePolicy, now: Date): Verdict {
  const mark = tagValue(resource, TAGS.RELEASE_AFTER);
  const action = (
    kind: PlannedAction['kind'],
    operation: string,
    reason: string,
    extra: Partial<PlannedAction> = {},
  ): PlannedAction => ({
    type: resource.type,
    resourceId: resource.id,
    arn: resource.arn,
    kind,
    operation,
    reason,
    estimatedMonthlySavingUsd: null,
    ...extra,
  });
  const { tagKey, tagValue: wanted } = policy.optIn;
  const optIn = tagValue(resource, tagKey);
  /**
   * A resource that is not (or no longer) a candidate: remove its mark if it has one and the job may tag it
   * (it is opted in), else leave it be. A mark left on a resource that is not opted in never acts: the job
   * does not touch such resources, and once opted in again the mark is stale (see above).
   */
  const notCandidate = (bucket: Exclude<Bucket, 'candidates'>, ignored: Ignored, why: string): Verdict =>
    mark === undefined || optIn !== wanted
      ? { bucket, ignored }
      : { bucket, action: action('cancel', 'untag', `${why}; removing the release mark (${mark})`) };

  if (tagValue(resource, policy.protectTagKey) !== undefined) {
    return notCandidate('protected', 'protected', `protected by tag ${policy.protectTagKey}`);
  }
  if (optIn !== wanted) {
    const why =
      optIn === undefined
        ? `not opted in (no ${tagKey} tag)`
        : `not opted in (${tagKey} is "${optIn}", policy wants "${wanted}")`;
    return notCandidate('notOptedIn', 'not-opted-in', why);
  }
  const typeRules = rules[resource.type];
  const idle = typeRules.isIdle(resource, policy, now);
  if (!idle.idle) return notCandidate('notIdle', 'not-idle', `not idle: ${idle.reason}`);

  const release = (why: string): Verdict => ({
    bucket: 'candidates',
    action: action('release', typeRules.releaseOperation(policy), `${idle.reason}; ${why}`, {
      estimatedMonthlySavingUsd: typeRules.monthlySaving(resource, policy),
    }),
  });
  const markUntil = (prefix: string): Verdict => {
    const releaseAfter = new Date(now.getTime() + Math.round(policy.graceDays * DAY_MS)).toISOString();
    return {
      bucket: 'candidates',
      action: action(
        'mark',
        'tag',
        `${prefix}${idle.reason}; release after ${releaseAfter} (grace ${plural(policy.graceDays, 'day')})`,
        { releaseAfter },
      ),
    };
  };

  if (mark === undefined) {
    return policy.graceDays === 0 ? release('grace period is 0 days') : markUntil('');
  }
  const releaseAfter = parseIsoTime(mark);
  if (releaseAfter === null) {
    return markUntil(`${TAGS.RELEASE_AFTER} tag "${mark}" is not an ISO date, marking again: `);
  }
  const overdueMs = now.getTime() - releaseAfter.getTime();
  if (isStaleMark(overdueMs, policy)) {
    return markUntil(
      `${TAGS.RELEASE_AFTER} tag ${mark} is ${plural(Math.floor(overdueMs / DAY_MS), 'day')} overdue: a stale mark, marking again: `,
    );
  }
  if (overdueMs >= 0) return release(`marked, release after ${mark} has passed`);
  return { bucket: 'candidates', ignored: 'in-grace' };
}

/**
 * Plan the run: one action at most per resource, in type order then id order, with counts for every type.
 * A disabled type is counted as discovered and otherwise ignored. Throws DuplicateResource when the inventory
 * lists a resource twice and InvalidFacts when an enabled type's facts are malformed.
 */
export function evaluate(inventory: readonly Resource[], policy: ReleasePolicy, now: Date): EvaluationResult {
  const counts = Object.fromEntries(RESOURCE_TYPES.map((type) => [type, zeroCounts()])) as Record<
    ResourceTypeId,
    TypeCounts
  >;
  const actions: PlannedAction[] = [];
  const sorted = [...inventory].sort(compareResources);
  for (const [index, resource] of sorted.entries()) {
    const previous = sorted[index - 1];
    if (previous && compareResources(previous, resource) === 0) {
      throw new DuplicateResource(resource.type, resource.id);
    }
    const typeCounts = counts[resource.type];
    typeCounts.discovered += 1;
    if (!policy.types[resource.type].enabled) continue;
    const verdict = judge(resource, policy, now);
    typeCounts[verdict.bucket] += 1;
    if ('action' in verdict) {
      actions.push(verdict.action);
      typeCounts[verdict.action.kind] += 1;
    } else if (verdict.ignored === 'in-grace') {
      typeCounts.inGrace += 1;
    }
  }
  return { actions, counts };
}

/**
 * Releases `maxPercent`% of `discovered` allows, rounded down. The percentage may be fractional, so the
 * product is first rounded to a millionth: 0.1-style floats must not cost (or grant) a whole release.
 */
export function percentAllowance(discovered: number, maxPercent: number): number {
  return Math.floor(Math.round(discovered * maxPercent * 1e6) / 1e8);
}

/**
 * The blast-radius check, run after planning and before anything is recorded or touched. Throws
 * BlastRadiusExceeded naming every type over a cap, which cap, and by how much. Only releases count: marks and
 * cancels only write tags.
 */
export function checkCaps(result: EvaluationResult, policy: ReleasePolicy): void {
  const { maxReleasesPerType, maxPercentPerType } = policy.caps;
  const violations: CapViolation[] = [];
  for (const type of RESOURCE_TYPES) {
    const { release: planned, discovered } = result.counts[type];
    const head = `${type}: ${plural(planned, 'release')} planned, cap`;
    if (planned > maxReleasesPerType) {
      violations.push({
        type,
        cap: 'maxReleasesPerType',
        planned,
        allowed: maxReleasesPerType,
        message: `${head} maxReleasesPerType is ${maxReleasesPerType} (${planned - maxReleasesPerType} over)`,
      });
    }
    const allowed = percentAllowance(discovered, maxPercentPerType);
    if (planned > allowed) {
      violations.push({
        type,
        cap: 'maxPercentPerType',
        planned,
        allowed,
        message: `${head} maxPercentPerType ${maxPercentPerType}% of ${discovered} discovered allows ${allowed} (${planned - allowed} over)`,
      });
    }
  }
  if (violations.length > 0) throw new BlastRadiusExceeded(violations);
}
