/**
 * cdk-nag acknowledgements. cdk-nag 3 reports an IAM wildcard finding per resource string, e.g.
 * `AwsSolutions-IAM5[Resource::<LedgerTable1234.Arn>/index/*]`, with the logical ids inside. These helpers
 * compute those ids from the same tokens the grant used, so each acknowledgement names exactly the finding a
 * grant creates (never a whole rule) and follows the construct when its logical id changes.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
// The function cdk-nag itself uses to print resources in finding ids; using it keeps the ids identical.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

const IAM5 = 'AwsSolutions-IAM5';

/** The IAM5 finding id for one resource (a string that may hold tokens) of a policy in `scope`'s stack. */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `${IAM5}[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}

/**
 * Acknowledge, on `on` (the principal's role or an ancestor of it), the wildcard resources that `grant`
 * added to the principal's policy, with `reason`. A grant without wildcards acknowledges nothing.
 */
export function acknowledgeGrantWildcards(grant: iam.Grant, on: IConstruct, reason: string): void {
  acknowledgeWildcardResources(
    on,
    grant.principalStatements.flatMap((statement) => statement.resources),
    reason,
  );
}

/** Acknowledge the wildcard IAM5 findings of `resources` (ARNs that may hold tokens) on `on`. */
export function acknowledgeWildcardResources(
  on: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  const ids = new Set(resources.map((resource) => wildcardResourceFinding(on, resource)));
  for (const id of ids) {
    if (id.includes('*')) Validations.of(on).acknowledge({ id, reason });
  }
}

/** The finding for `Resource: '*'`, which services without resource-level permissions require. */
export const STAR_RESOURCE_FINDING = `${IAM5}[Resource::*]`;

/** A queue that is itself a dead-letter queue (or an on-failure destination) needs none behind it. */
export function acknowledgeIsDeadLetterQueue(queue: IConstruct, reason: string): void {
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
  Validations.of(queue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason });
}
