/**
 * IAM is the release job's last line of defence: whatever the code or a run's input says, Plan can only read,
 * and ApplyBatch can change only resources that carry the deploy-time opt-in tag and not the protect tag, and
 * write no tag but the job's own mark. These tests read the statements of the synthesized stack (every job).
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as z from '../../shared/zod';
import { TAGS } from '../../tasks/release/model';
import { SOURCE_VOLUME_TAG } from '../../tasks/release/resources/ebs-volume';
import { RELEASE_ALLOWS_TERMINATE } from '../../workflows/release-idle-resources';
import { defineJob, type JobDefinition } from '../../workflows/job-definition';
import {
  type CfnResource,
  type Statement,
  functionIdOf,
  list,
  logicalIdOf,
  render,
  roleStatements,
  synth,
} from './synth';

const { template } = synth({ nag: false });

const resources = (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;

/** `${<LogGroupId>.Arn}`: the log group the function built from `entry` writes to. */
function ownLogGroupArn(entry: string): string {
  const config = resources[functionIdOf(template, entry)]?.Properties?.LoggingConfig as {
    LogGroup: { Ref: string };
  };
  return `\${${config.LogGroup.Ref}.Arn}`;
}

const actionsOf = (statement: Statement) => list(statement.Action);
const resourcesOf = (statement: Statement) => list(statement.Resource).map(render);

/** Every IAM statement anywhere in the template: policies, roles, queue and key policies alike. */
function allStatements(value: unknown): Statement[] {
  if (Array.isArray(value)) return value.flatMap(allStatements);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === 'Statement' ? list(child as Statement | Statement[]) : allStatements(child),
  );
}

const PLAN = 'tasks/release/plan.ts';
const APPLY_BATCH = 'tasks/release/apply-batch.ts';
const OPTED_IN_UNPROTECTED = {
  StringEquals: { [`aws:ResourceTag/${TAGS.OPT_IN}`]: TAGS.OPT_IN_VALUE },
  Null: { [`aws:ResourceTag/${TAGS.PROTECT}`]: 'true' },
};
/**
 * Only on opted-in resources, and tag keys must be present (a DeleteTags without keys deletes every tag) and
 * all be the mark tag.
 */
const ONLY_THE_MARK_TAG_ON_OPTED_IN = {
  StringEquals: { [`aws:ResourceTag/${TAGS.OPT_IN}`]: TAGS.OPT_IN_VALUE },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.RELEASE_AFTER] },
  Null: { 'aws:TagKeys': 'false' },
};
/** Verbs that change something. */
const CHANGES = /:(Create|Delete|Put|Stop|Terminate|Release|Tag|Untag|Modify|Update|Detach|Disassociate)/;
/** The backup snapshot CreateSnapshot makes: a new resource, with no account in its ARN and no tags yet. */
const NEW_SNAPSHOT = /^arn:\$\{AWS::Partition\}:ec2:\$\{AWS::Region\}::snapshot\/\*$/;

describe('Plan (discovery)', () => {
  const statements = roleStatements(template, PLAN);
  const ownLogGroup = ownLogGroupArn(PLAN);
  const ledger = `\${${logicalIdOf(template, 'AWS::DynamoDB::Table', () => true)}.Arn}`;

  test('reads the account with Describe and List calls only', () => {
    const onTheAccount = statements.filter(
      (s) => !resourcesOf(s).some((r) => r === ownLogGroup || r.startsWith(ledger)),
    );
    const accountActions = onTheAccount.flatMap(actionsOf).filter((a) => /^(ec2|logs):/.test(a));
    expect(accountActions.sort()).toEqual([
      'ec2:DescribeAddresses',
      'ec2:DescribeImages',
      'ec2:DescribeInstances',
      'ec2:DescribeSnapshots',
      'ec2:DescribeVolumes',
      'logs:DescribeLogGroups',
      'logs:ListTagsForResource',
    ]);
    for (const action of accountActions) expect(action).toMatch(/^(ec2|logs):(Describe|List)[A-Za-z]+$/);
  });

  test('can change nothing but its own log streams and the ledger', () => {
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.NotAction).toBeUndefined();
      const changing = actionsOf(statement).filter((a) => CHANGES.test(a) && !a.startsWith('xray:'));
      if (changing.length === 0) continue;
      const where = resourcesOf(statement);
      const ownLogs = where.every((r) => r === ownLogGroup);
      const ledgerOnly = where.every((r) => r.startsWith(ledger));
      expect({ changing, where, allowed: ownLogs || ledgerOnly }).toEqual({
        changing,
        where,
        allowed: true,
      });
      if (ownLogs) expect(changing.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      if (ledgerOnly) for (const action of changing) expect(action).toMatch(/^dynamodb:/);
    }
    const all = statements.flatMap(actionsOf);
    expect(all.filter((a) => /^(ec2|logs):(Stop|Terminate|Delete|Release|Put|Tag|Untag)/.test(a))).toEqual([
      'logs:PutLogEvents',
    ]);
  });
});

describe('ApplyBatch (changes)', () => {
  const statements = roleStatements(template, APPLY_BATCH);
  const granting = (action: string) => statements.filter((s) => actionsOf(s).includes(action));

  test.each([
    'ec2:StopInstances',
    'ec2:DeleteVolume',
    'ec2:DeleteSnapshot',
    'ec2:ReleaseAddress',
    'ec2:CreateSnapshot',
    'logs:PutRetentionPolicy',
  ])('%s on existing resources needs the opt-in tag and no protect tag', (action) => {
    const onExisting = granting(action).filter((s) => !resourcesOf(s).every((r) => NEW_SNAPSHOT.test(r)));
    expect(onExisting.length).toBeGreaterThan(0);
    for (const statement of onExisting) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Condition).toEqual(OPTED_IN_UNPROTECTED);
      for (const resource of resourcesOf(statement)) {
        expect(resource).not.toBe('*');
        expect(resource).toMatch(
          /^arn:\$\{AWS::Partition\}:(ec2|logs):\$\{AWS::Region\}:\$\{AWS::AccountId\}:(instance\/|volume\/|snapshot\/|elastic-ip\/|log-group:)\*$/,
        );
      }
    }
  });

  test('CreateSnapshot reads only opted-in, unprotected volumes, and makes only snapshots tagged as their backups', () => {
    const statementsOf = granting('ec2:CreateSnapshot');
    expect(statementsOf.every((s) => actionsOf(s).join() === 'ec2:CreateSnapshot')).toBe(true);
    const onVolumes = statementsOf.filter((s) => resourcesOf(s).some((r) => r.endsWith(':volume/*')));
    expect(onVolumes.map((s) => [resourcesOf(s).length, s.Condition])).toEqual([[1, OPTED_IN_UNPROTECTED]]);
    const onNew = statementsOf.filter((s) => resourcesOf(s).every((r) => NEW_SNAPSHOT.test(r)));
    expect(onNew.map((s) => s.Condition)).toEqual([
      { Null: { [`aws:RequestTag/${SOURCE_VOLUME_TAG}`]: 'false' } },
    ]);
    expect(onVolumes.length + onNew.length).toBe(statementsOf.length);
  });

  test('grants no TerminateInstances while the deployment does not allow terminate', () => {
    expect(RELEASE_ALLOWS_TERMINATE).toBe(false);
    expect(granting('ec2:TerminateInstances')).toEqual([]);
  });

  test.each(['ec2:CreateTags', 'ec2:DeleteTags', 'logs:TagResource', 'logs:UntagResource'])(
    `%s on existing resources may write only the ${TAGS.RELEASE_AFTER} key`,
    (action) => {
      const onExisting = granting(action).filter((s) => !resourcesOf(s).every((r) => NEW_SNAPSHOT.test(r)));
      expect(onExisting.length).toBeGreaterThan(0);
      for (const statement of onExisting) expect(statement.Condition).toEqual(ONLY_THE_MARK_TAG_ON_OPTED_IN);
    },
  );

  test('tags on the new backup snapshot can be written only while CreateSnapshot makes it', () => {
    const onNew = granting('ec2:CreateTags').filter((s) => resourcesOf(s).every((r) => NEW_SNAPSHOT.test(r)));
    expect(onNew).toHaveLength(1);
    expect(onNew[0]?.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } });
  });

  test('every statement that changes EC2 or Logs resources carries a condition', () => {
    const ownLogGroupActions = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const changing = statements.filter((s) =>
      actionsOf(s).some((a) => /^(ec2|logs):/.test(a) && CHANGES.test(a) && !ownLogGroupActions.includes(a)),
    );
    expect(changing.length).toBeGreaterThan(0);
    for (const statement of changing) expect(statement.Condition).toBeDefined();
  });
});

describe('the whole template', () => {
  const statements = allStatements(template.toJSON());

  const wildcard = (action: string) => action === '*' || /^[a-z0-9-]+:\*$/i.test(action);
  const wildcardActions = (statement: Statement) =>
    [...list(statement.Action), ...list(statement.NotAction)].filter(wildcard);

  /**
   * A KMS key policy's default statement: the account itself may administer the key (kms:*), which is what
   * lets IAM policies in the account grant use of it at all; without it the key would be unmanageable.
   */
  const isKeyAdministrationByTheAccount = (statement: Statement & { Principal?: { AWS?: unknown } }) =>
    list(statement.Action).join() === 'kms:*' &&
    /^arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:root$/.test(render(statement.Principal?.AWS ?? ''));

  test('allows no action * or <service>:* (but the account’s administration of its two keys: logs and topics)', () => {
    expect(statements.length).toBeGreaterThan(20);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows.filter(isKeyAdministrationByTheAccount)).toHaveLength(2);
    for (const statement of allows.filter((s) => !isKeyAdministrationByTheAccount(s))) {
      expect({ sid: statement.Sid, wildcards: wildcardActions(statement) }).toEqual({
        sid: statement.Sid,
        wildcards: [],
      });
      expect(statement.NotAction).toBeUndefined();
    }
  });

  test('has a <service>:* only in Deny statements that refuse requests without TLS (enforceSSL)', () => {
    const withWildcards = statements.filter(
      (s) => wildcardActions(s).length > 0 && !isKeyAdministrationByTheAccount(s),
    );
    expect(withWildcards.length).toBeGreaterThan(0);
    for (const statement of withWildcards) {
      expect(statement).toMatchObject({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      expect(wildcardActions(statement)).not.toContain('*');
    }
  });

  test('uses no AWS managed policy', () => {
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      expect({ id, managed: resource.Properties?.ManagedPolicyArns }).toEqual({ id, managed: undefined });
    }
    expect(JSON.stringify(template.toJSON())).not.toMatch(/:iam::aws:policy\//);
  });
});

describe('synth refuses', () => {
  const Input = z.object({});
  const wildJob = (wildcardReason?: string): JobDefinition =>
    defineJob({
      id: 'wild-job',
      description: 'A job that asks for a wildcard',
      schedule: { expression: 'rate(1 day)' },
      timeout: Duration.minutes(5),
      input: Input,
      steps: (b) =>
        b.task('ListEverything', {
          entry: 'tasks/heartbeat/heartbeat.ts',
          policies: [
            {
              statement: new iam.PolicyStatement({
                sid: 'ReadAll',
                actions: ['ec2:DescribeInstances'],
                resources: ['*'],
              }),
              ...(wildcardReason === undefined ? {} : { wildcardReason }),
            },
          ],
        }),
    });
  const build = (job: JobDefinition) =>
    synth({ jobs: [job], jobInputs: { [job.id]: job.input }, nag: false });

  test('a wildcard resource without a wildcardReason, naming the job, the task and the statement', () => {
    expect(() => build(wildJob())).toThrow(
      'Job "wild-job": task "ListEverything" policy ReadAll has wildcard resources (*) but no wildcardReason',
    );
  });

  test('but accepts the same statement with its reason', () => {
    expect(() => build(wildJob('EC2 Describe calls support no resource-level permissions.'))).not.toThrow();
  });
});
