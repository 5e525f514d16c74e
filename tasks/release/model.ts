/**
 * The release job's model: what a discovered resource looks like, what the policy plans, and the interface
 * every resource type implements. Resource types live in ./resources/, one module each.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { STSClient } from '@aws-sdk/client-sts';
import * as z from '../../shared/zod';
import type { ReleasePolicy } from './input';

export const RESOURCE_TYPES = [
  'ec2-instance',
  'ebs-volume',
  'ebs-snapshot',
  'elastic-ip',
  'log-group',
] as const;
export const ResourceTypeId = z.enum(RESOURCE_TYPES);
export type ResourceTypeId = z.infer<typeof ResourceTypeId>;

export { TAGS } from './tags';

/**
 * Plan's environment variable saying whether this deployment lets a policy terminate instances
 * (workflows/release-idle-resources.ts, RELEASE_ALLOWS_TERMINATE): `true` or `false`.
 */
export const ALLOW_TERMINATE_ENV = 'RELEASE_ALLOWS_TERMINATE';

/** One discovered resource, normalized across types. Small: the plan stores up to 10,000 of these. */
export interface Resource {
  type: ResourceTypeId;
  /** The provider's id: `i-…`, `vol-…`, `snap-…`, `eipalloc-…`, or the log group name. */
  id: string;
  arn: string;
  tags: Record<string, string>;
  /** Type-specific facts the policy reads (state, createdAt, sizeGiB, instanceType, retentionDays, usedByImage...). */
  facts: Record<string, string | number | boolean | null>;
}

/** What the policy decides for one resource. */
export type PlanKind =
  /** First seen as a candidate: tag it with its release date and leave it alone. */
  | 'mark'
  /** Still a candidate after its release date: release it. */
  | 'release'
  /** Marked earlier but no longer a candidate (opt-in removed, protect added, in use again): remove the mark. */
  | 'cancel';

export interface PlannedAction {
  type: ResourceTypeId;
  resourceId: string;
  arn: string;
  kind: PlanKind;
  /** The concrete operation: `tag`, `untag`, `stop`, `terminate`, `snapshot-and-delete`, `delete`, `release`, `set-retention`. */
  operation: string;
  /** Why, in words an operator understands. */
  reason: string;
  /** For `mark`: the release date written into the tag. */
  releaseAfter?: string;
  /** For `release`: the estimated monthly saving in USD (static us-east-1 list prices), or null when unknown. */
  estimatedMonthlySavingUsd: number | null;
}

/** Why a resource got no action this run. */
export type Ignored = 'not-opted-in' | 'protected' | 'not-idle' | 'in-grace';

export interface TypeCounts {
  discovered: number;
  /** Opted in, not protected and idle (whether marked, in grace or due). */
  candidates: number;
  mark: number;
  release: number;
  cancel: number;
  inGrace: number;
  notOptedIn: number;
  protected: number;
  notIdle: number;
}

export interface EvaluationResult {
  actions: PlannedAction[];
  counts: Record<ResourceTypeId, TypeCounts>;
}

/** The SDK clients a resource type may use. On AWS these are the real clients; locally, the simulated account. */
export interface Clients {
  ec2: EC2Client;
  logs: CloudWatchLogsClient;
  /** The tags of a page of log groups in one call (GetResources), where Logs has one call per group. */
  tagging: ResourceGroupsTaggingAPIClient;
  /**
   * The account id for ARNs that no describe call carries (Elastic IPs): GetCallerIdentity needs no IAM
   * permission.
   */
  sts: STSClient;
}

/** What releasing (or marking) one resource came to. */
export type ApplyOutcome = 'DONE' | 'ALREADY_GONE';

/**
 * The facts each adapter puts on `Resource.facts`, by type (the rules read them):
 * - ec2-instance: `state` ('running' | 'stopped' | ...), `instanceType`, `launchTime` (ISO). Expiry is the
 *   `stepjobs:expires-at` tag.
 * - ebs-volume: `state` ('available' | 'in-use' | ...), `sizeGiB`, `volumeType` ('gp3' | 'gp2' | ...), `iops`
 *   (number | null), `createdAt` (ISO).
 * - ebs-snapshot: `state` ('completed' | ...), `sizeGiB`, `startedAt` (ISO), `usedByImage` (AMI id | null).
 * - elastic-ip: `associated` (boolean), `publicIp`.
 * - log-group: `retentionDays` (number | null), `storedBytes`, `createdAt` (ISO).
 */
export type FactsByType = {
  'ec2-instance': { state: string; instanceType: string; launchTime: string };
  'ebs-volume': {
    state: string;
    sizeGiB: number;
    volumeType: string;
    iops: number | null;
    createdAt: string;
  };
  'ebs-snapshot': { state: string; sizeGiB: number; startedAt: string; usedByImage: string | null };
  'elastic-ip': { associated: boolean; publicIp: string };
  'log-group': { retentionDays: number | null; storedBytes: number; createdAt: string };
};

/** The pure half of a resource type (tasks/release/rules.ts): the policy's view. No I/O. */
export interface ResourceRules {
  /** Is the resource idle or expired under the policy, and why (the plan's reason). */
  isIdle(resource: Resource, policy: ReleasePolicy, now: Date): { idle: boolean; reason: string };
  /** The operation a release performs under the policy (e.g. `stop` or `terminate`). */
  releaseOperation(policy: ReleasePolicy): string;
  /** Estimated monthly saving of releasing it, USD (static list prices); null when the price is unknown. */
  monthlySaving(resource: Resource, policy: ReleasePolicy): number | null;
}

/**
 * The AWS half of a resource type (tasks/release/resources/<type>.ts). Discovery is paginated and narrowed
 * server-side where the API allows; every operation is idempotent, and a resource that is already gone
 * reports ALREADY_GONE, not an error.
 */
/** One page of discovery, and the token that resumes discovery after it (absent after the last page). */
export interface DiscoveredPage {
  resources: Resource[];
  nextToken?: string;
}

/** What to discover: resources carrying any of `tagKeys`, from `startingToken` (a page's `nextToken`) on. */
export interface DiscoverySelector {
  tagKeys: string[];
  startingToken?: string;
}

export interface ResourceAdapter {
  id: ResourceTypeId;
  /**
   * Every resource of this type that carries any of `tagKeys` (the opt-in and the mark tag), a page at a time:
   * Plan stops between pages and resumes from a page's `nextToken` in its next invocation.
   */
  discover(clients: Clients, selector: DiscoverySelector): AsyncIterable<DiscoveredPage>;
  release(clients: Clients, action: PlannedAction, policy: ReleasePolicy): Promise<ApplyOutcome>;
  /** Write the release-after tag (`action.releaseAfter`). */
  mark(clients: Clients, action: PlannedAction, tagKey: string): Promise<ApplyOutcome>;
  /** Remove the release-after tag. */
  unmark(clients: Clients, action: PlannedAction, tagKey: string): Promise<ApplyOutcome>;
}
