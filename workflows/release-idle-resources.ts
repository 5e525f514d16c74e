/**
 * The flagship job: release idle and expired cloud resources, safely.
 *
 *   Plan (discover → evaluate → caps → record the plan) → Apply (Distributed Map over plan batches) → Report
 *
 * Safety lives in four places: the policy (tasks/release/policy.ts: opt-in tag, protect tag wins, grace
 * period, caps), the input (dry run unless a run says otherwise), the ledger (every planned and taken
 * action), and IAM here: destructive calls are allowed only on resources that carry the opt-in tag and do
 * not carry the protect tag, whatever the code does.
 */
import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ErrorName, OverlapPolicy } from '../shared/constants';
import { ReleaseInput } from '../tasks/release/input';
import { TAGS } from '../tasks/release/model';
import { defineJob, type TaskPolicy } from './job-definition';

/** Deploy-time opt-in and protect tags; IAM enforces exactly these (a run that changes them gets AccessDenied). */
const OPT_IN = { key: TAGS.OPT_IN, value: TAGS.OPT_IN_VALUE };
const PROTECT_KEY = TAGS.PROTECT;

const TRANSIENT_RETRY: sfn.RetryProps = {
  errors: [ErrorName.TRANSIENT],
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 4,
  jitterStrategy: sfn.JitterType.FULL,
};

function arn(scope: Construct, service: string, resource: string, resourceName: string): string {
  return Arn.format(
    { service, resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
    Stack.of(scope),
  );
}

const EC2_TYPES = ['instance', 'volume', 'snapshot', 'elastic-ip'] as const;

function ec2Arns(scope: Construct): string[] {
  return EC2_TYPES.map((type) => arn(scope, 'ec2', type, '*'));
}

function logGroupArns(scope: Construct): string[] {
  return [
    Arn.format(
      { service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(scope),
    ),
  ];
}

/** A snapshot being created has no account in its ARN, and no tags to condition on yet. */
function newSnapshotArn(scope: Construct): string {
  return Arn.format(
    { service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' },
    Stack.of(scope),
  );
}

const ANY_RESOURCE_OF_THE_TYPE =
  'Resource ids are discovered at run time; the wildcard is limited to this account, region and resource type, and every destructive action is conditioned on the opt-in tag and the absence of the protect tag.';

/** Read-only discovery. EC2's Describe* calls support no resource-level permissions. */
function discoveryPolicies(scope: Construct): TaskPolicy[] {
  return [
    {
      statement: new iam.PolicyStatement({
        sid: 'DiscoverEc2',
        actions: [
          'ec2:DescribeInstances',
          'ec2:DescribeVolumes',
          'ec2:DescribeSnapshots',
          'ec2:DescribeImages',
          'ec2:DescribeAddresses',
        ],
        resources: ['*'],
      }),
      wildcardReason:
        'EC2 Describe* actions support no resource-level permissions (and X-Ray tracing, on the same role, neither); they only read.',
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'DiscoverLogGroups',
        actions: ['logs:DescribeLogGroups', 'logs:ListTagsForResource'],
        resources: logGroupArns(scope),
      }),
      wildcardReason:
        'Discovery lists every log group of this account and region to find the opted-in ones; read-only.',
    },
  ];
}

/** Destructive and tagging calls, only on opted-in, unprotected resources of this account and region. */
function releasePolicies(scope: Construct): TaskPolicy[] {
  const optedInUnprotected = {
    StringEquals: { [`aws:ResourceTag/${OPT_IN.key}`]: OPT_IN.value },
    Null: { [`aws:ResourceTag/${PROTECT_KEY}`]: 'true' },
  };
  // ForAllValues also matches a request with no tag keys, and DeleteTags without keys deletes every tag:
  // require that keys are present, and that they are all the mark tag.
  const onlyTheMarkTag = {
    'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.RELEASE_AFTER] },
    Null: { 'aws:TagKeys': 'false' },
  };
  return [
    {
      statement: new iam.PolicyStatement({
        sid: 'ReleaseOptedInResources',
        actions: [
          'ec2:StopInstances',
          'ec2:TerminateInstances',
          'ec2:DeleteVolume',
          'ec2:DeleteSnapshot',
          'ec2:ReleaseAddress',
          'ec2:CreateSnapshot',
        ],
        resources: ec2Arns(scope),
        conditions: optedInUnprotected,
      }),
      wildcardReason: ANY_RESOURCE_OF_THE_TYPE,
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'CreateBackupSnapshots',
        actions: ['ec2:CreateSnapshot'],
        resources: [newSnapshotArn(scope)],
      }),
      wildcardReason:
        'The backup snapshot taken before a volume is deleted is a new resource: its id is unknown and it has no tags to condition on until it exists.',
    },
    {
      // A cancel must work after the opt-in tag is gone, so only the tag key is conditioned.
      statement: new iam.PolicyStatement({
        sid: 'MarkWithReleaseAfterTag',
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: ec2Arns(scope),
        conditions: onlyTheMarkTag,
      }),
      wildcardReason: `${ANY_RESOURCE_OF_THE_TYPE} Tagging is limited to the ${TAGS.RELEASE_AFTER} key.`,
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'TagBackupSnapshots',
        actions: ['ec2:CreateTags'],
        resources: [newSnapshotArn(scope)],
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } },
      }),
      wildcardReason:
        'Tags can be written on a new snapshot only as part of CreateSnapshot (ec2:CreateAction).',
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'SetLogRetentionOnOptedInGroups',
        actions: ['logs:PutRetentionPolicy'],
        resources: logGroupArns(scope),
        conditions: optedInUnprotected,
      }),
      wildcardReason: ANY_RESOURCE_OF_THE_TYPE,
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'MarkLogGroups',
        actions: ['logs:TagResource', 'logs:UntagResource'],
        resources: logGroupArns(scope),
        conditions: onlyTheMarkTag,
      }),
      wildcardReason: `${ANY_RESOURCE_OF_THE_TYPE} Tagging is limited to the ${TAGS.RELEASE_AFTER} key.`,
    },
  ];
}

export const releaseIdleResources = defineJob({
  id: 'release-idle-resources',
  description:
    'Releases idle and expired resources (EC2 instances past their expiry tag, unattached EBS volumes, old unused snapshots, unassociated Elastic IPs, log groups without retention) that opted in by tag: dry run by default, mark first, release after a grace period, capped per run, every action in the ledger.',
  schedule: {
    expression: 'cron(0 6 ? * MON-FRI *)',
    timeZone: 'UTC',
    flexibleWindowMinutes: 30,
    // Scheduled runs are dry runs until an operator sets dryRun: false here, on purpose.
    input: { dryRun: true },
  },
  overlap: OverlapPolicy.SKIP,
  timeout: Duration.hours(2),
  retentionDays: 730,
  input: ReleaseInput,
  destructive: true,
  steps: (b) => {
    const plan = b.task('Plan', {
      entry: 'tasks/release/plan.ts',
      timeout: Duration.minutes(10),
      memorySize: 1024,
      retry: [TRANSIENT_RETRY],
      policies: discoveryPolicies(b.scope),
    });
    const applyBatch = b.task('ApplyBatch', {
      entry: 'tasks/release/apply-batch.ts',
      inMap: true,
      data: { 'batch.$': '$.batch', 'policy.$': '$.policy' },
      // An Express child workflow lives at most 5 minutes: 3 attempts of 90 s plus the pauses fit. A batch
      // that still does not finish leaves its actions PLANNED; Report counts them and a redrive resumes them.
      timeout: Duration.seconds(90),
      memorySize: 512,
      retry: [{ ...TRANSIENT_RETRY, maxAttempts: 2 }],
      // Apply re-reads a resource before acting (attached again? already gone?), then changes it.
      policies: [...discoveryPolicies(b.scope), ...releasePolicies(b.scope)],
    });
    const apply = new sfn.DistributedMap(b.scope, 'Apply', {
      comment: 'One item per stored plan batch; the plan itself stays in the ledger.',
      itemsPath: '$.results.Plan.batches',
      itemSelector: {
        'run.$': '$.run',
        'itemIndex.$': '$$.Map.Item.Index',
        'batch.$': '$$.Map.Item.Value',
        'policy.$': '$.input.policy',
      },
      maxConcurrency: 4,
      toleratedFailurePercentagePath: '$.input.policy.toleratedFailurePercentage',
      mapExecutionType: sfn.StateMachineType.EXPRESS,
      resultPath: sfn.JsonPath.DISCARD,
    });
    apply.itemProcessor(applyBatch);
    b.catchFailures(apply);
    const reportStep = b.task('Report', {
      entry: 'tasks/release/report.ts',
      timeout: Duration.minutes(5),
      memorySize: 512,
    });
    return plan.next(apply).next(reportStep);
  },
});
