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
import { DEFAULT_PLAN_BUDGET, PLAN_BUDGET_ENV } from '../tasks/release/plan';
import { ALLOW_TERMINATE_ENV, TAGS } from '../tasks/release/model';
import { SOURCE_VOLUME_TAG } from '../tasks/release/resources/ebs-volume';
import { defineJob, type TaskPolicy } from './job-definition';

/** Deploy-time opt-in and protect tags; IAM enforces exactly these (a run that changes them gets AccessDenied). */
const OPT_IN = { key: TAGS.OPT_IN, value: TAGS.OPT_IN_VALUE };
const PROTECT_KEY = TAGS.PROTECT;

/**
 * Whether a run's policy may terminate expired instances rather than stop them. Off, IAM grants no
 * `ec2:TerminateInstances` and Plan refuses a policy that asks for it, before anything is recorded or touched.
 * Turning it on is a deliberate change to this file and a deploy, like making the schedule's runs real.
 */
export const RELEASE_ALLOWS_TERMINATE = false;

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
    {
      statement: new iam.PolicyStatement({
        sid: 'ReadTagsOfLogGroupPages',
        actions: ['tag:GetResources'],
        resources: ['*'],
      }),
      wildcardReason:
        'tag:GetResources supports no resource-level permissions; discovery reads the tags of a page of log groups with it, read-only.',
    },
  ];
}

/**
 * Destructive and tagging calls, only on opted-in resources of this account and region: destructive ones
 * also only without the protect tag; tagging only of the job's own mark key (a protected resource's mark is
 * removed, never added: the policy plans no mark on it).
 */
function releasePolicies(scope: Construct, allowTerminate: boolean): TaskPolicy[] {
  const optedIn = { [`aws:ResourceTag/${OPT_IN.key}`]: OPT_IN.value };
  const optedInUnprotected = {
    StringEquals: optedIn,
    Null: { [`aws:ResourceTag/${PROTECT_KEY}`]: 'true' },
  };
  // ForAllValues also matches a request with no tag keys, and DeleteTags without keys deletes every tag:
  // require that keys are present, and that they are all the mark tag.
  const onlyTheMarkTagOnOptedIn = {
    StringEquals: optedIn,
    'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.RELEASE_AFTER] },
    Null: { 'aws:TagKeys': 'false' },
  };
  const [instances, volumes, snapshots, addresses] = ec2Arns(scope) as [string, string, string, string];
  return [
    {
      statement: new iam.PolicyStatement({
        sid: 'ReleaseOptedInResources',
        actions: [
          'ec2:StopInstances',
          ...(allowTerminate ? ['ec2:TerminateInstances'] : []),
          'ec2:DeleteVolume',
          'ec2:DeleteSnapshot',
          'ec2:ReleaseAddress',
        ],
        resources: [instances, volumes, snapshots, addresses],
        conditions: optedInUnprotected,
      }),
      wildcardReason: ANY_RESOURCE_OF_THE_TYPE,
    },
    {
      // CreateSnapshot is authorized on the volume it reads and on the snapshot it creates: the volume is
      // conditioned like every release, the new snapshot must carry the job's backup tag in the request.
      statement: new iam.PolicyStatement({
        sid: 'SnapshotOptedInVolumes',
        actions: ['ec2:CreateSnapshot'],
        resources: [volumes],
        conditions: optedInUnprotected,
      }),
      wildcardReason: ANY_RESOURCE_OF_THE_TYPE,
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'CreateBackupSnapshots',
        actions: ['ec2:CreateSnapshot'],
        resources: [newSnapshotArn(scope)],
        conditions: { Null: { [`aws:RequestTag/${SOURCE_VOLUME_TAG}`]: 'false' } },
      }),
      wildcardReason:
        'The backup snapshot taken before a volume is deleted is a new resource: its id is unknown until it exists; the request must tag it as a backup of its source volume.',
    },
    {
      statement: new iam.PolicyStatement({
        sid: 'MarkWithReleaseAfterTag',
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: ec2Arns(scope),
        conditions: onlyTheMarkTagOnOptedIn,
      }),
      wildcardReason: `${ANY_RESOURCE_OF_THE_TYPE} Tagging is limited to the ${TAGS.RELEASE_AFTER} key on opted-in resources.`,
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
        conditions: onlyTheMarkTagOnOptedIn,
      }),
      wildcardReason: `${ANY_RESOURCE_OF_THE_TYPE} Tagging is limited to the ${TAGS.RELEASE_AFTER} key on opted-in log groups.`,
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
  // Failures, and runs that released something, reach people with the Report step's figures.
  notify: {
    on: ['FAILED', 'TIMED_OUT', 'ABORTED', 'MISSED', 'CHANGED'],
    figures: {
      step: 'Report',
      fields: {
        'dry run': 'dryRun',
        'simulated account': 'simulatedAccount',
        released: 'totals.released',
        'would release': 'totals.wouldRelease',
        'failed actions': 'totals.failed',
        'estimated saving (USD/month)': 'estimatedMonthlySavingUsd',
        actions: 'byType',
      },
      changed: 'totals.released',
    },
  },
  // The actions Report counts (planned in a dry run, carried out otherwise) and the saving, on the dashboard.
  dashboard: [
    ...(['planned', 'applied'] as const).map((mode) => ({
      title: `Release actions ${mode}`,
      stacked: true,
      metrics: (['mark', 'release', 'cancel'] as const).map((action) => ({
        metricName: 'ReleaseActions',
        dimensions: { action, mode },
        label: action,
      })),
    })),
    {
      title: 'Estimated monthly saving',
      axisLabel: 'USD',
      metrics: [{ metricName: 'EstimatedMonthlySavingUsd', statistic: 'Maximum', label: 'USD/month' }],
    },
  ],
  steps: (b) => {
    // Plan runs as a loop: each invocation plans a bounded slice of the account and says where the next one
    // resumes (tasks/release/plan.ts), so no account is too large for one Lambda invocation.
    const planStart = new sfn.Pass(b.scope, 'PlanStart', {
      comment: 'Planning starts at the first enabled type; each Plan invocation is recorded as Plan[<n>].',
      result: sfn.Result.fromObject({ done: false, invocations: 0 }),
      resultPath: '$.results.Plan',
    });
    const plan = b.task('Plan', {
      entry: 'tasks/release/plan.ts',
      timeout: Duration.minutes(10),
      memorySize: 1024,
      retry: [TRANSIENT_RETRY],
      itemIndexPath: '$.results.Plan.invocations',
      policies: discoveryPolicies(b.scope),
      environment: {
        [ALLOW_TERMINATE_ENV]: String(RELEASE_ALLOWS_TERMINATE),
        [PLAN_BUDGET_ENV]: String(DEFAULT_PLAN_BUDGET),
      },
    });
    const planned = new sfn.Choice(b.scope, 'Planned', {
      comment: 'Plan again from where the last invocation stopped, until the whole account is planned.',
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
      policies: [...discoveryPolicies(b.scope), ...releasePolicies(b.scope, RELEASE_ALLOWS_TERMINATE)],
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
    planned.when(sfn.Condition.booleanEquals('$.results.Plan.done', false), plan).otherwise(apply);
    apply.next(reportStep);
    planStart.next(plan).next(planned);
    return sfn.Chain.custom(planStart, [reportStep], reportStep);
  },
});
