/**
 * Adapter tests run against real SDK clients whose `send` is stubbed by aws-sdk-client-mock: each test builds
 * its own clients, so no stub outlives its test. The clients retry once at most (maxAttempts 1), so a throttling
 * error reaches the adapter at once, as it would after the real clients' retries ran out.
 *
 * {@link adapterAccount} is what every adapter test sets up first: the mocked account, one adapter and the
 * action the test acts on, with the adapter's calls bound to them.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTagsCommand, DeleteTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ReleasePolicy } from '../../../../tasks/release/input';
import {
  TAGS,
  type ApplyOutcome,
  type Clients,
  type PlannedAction,
  type DiscoveredPage,
  type Resource,
  type ResourceAdapter,
} from '../../../../tasks/release/model';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const SELECTOR = { tagKeys: [TAGS.OPT_IN, TAGS.RELEASE_AFTER] };
/** The tag a mark writes, and the date the tests' marks carry. */
export const MARK_TAG = TAGS.RELEASE_AFTER;
export const RELEASE_AFTER = '2026-03-01T00:00:00.000Z';

export function mockAccount() {
  const config = { region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
  const clients: Clients = {
    ec2: new EC2Client(config),
    logs: new CloudWatchLogsClient(config),
    sts: new STSClient(config),
    tagging: new ResourceGroupsTaggingAPIClient(config),
  };
  return {
    clients,
    ec2: mockClient(clients.ec2),
    logs: mockClient(clients.logs),
    sts: mockClient(clients.sts),
    tagging: mockClient(clients.tagging),
  };
}

export type MockAccount = ReturnType<typeof mockAccount>;

/** An error as the SDK throws it for an AWS error code. */
export function awsError(name: string, message = `${name} (test)`): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** Every resource of every page a discovery yields. */
export async function collect(pages: AsyncIterable<DiscoveredPage>): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const page of pages) out.push(...page.resources);
  return out;
}

export function plannedAction(
  overrides: Partial<PlannedAction> & Pick<PlannedAction, 'type' | 'resourceId'>,
): PlannedAction {
  return {
    arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:resource/${overrides.resourceId}`,
    kind: 'release',
    operation: 'release',
    reason: 'test',
    estimatedMonthlySavingUsd: null,
    ...overrides,
  };
}

export function policy(input: unknown = {}): ReleasePolicy {
  return ReleasePolicy.parse(input);
}

export interface AdapterAccount extends MockAccount {
  /** The test's action (a release), new on every call; `overrides` change it. */
  action(overrides?: Partial<PlannedAction>): PlannedAction;
  /** Everything the adapter discovers with the selector of the default policy. */
  discover(): Promise<Resource[]>;
  /** Release the test's resource under `policy` (@default the default policy). */
  release(releasePolicy?: ReleasePolicy): Promise<ApplyOutcome>;
  /** Mark the test's resource until {@link RELEASE_AFTER} (or with `action`, as given). */
  mark(action?: PlannedAction): Promise<ApplyOutcome>;
  /** Remove the test's resource's mark. */
  unmark(): Promise<ApplyOutcome>;
}

/** A new mocked account, with `adapter`'s calls bound to its clients and to the action `base` describes. */
export function adapterAccount(
  adapter: ResourceAdapter,
  base: Partial<PlannedAction> & Pick<PlannedAction, 'resourceId'>,
): AdapterAccount {
  const account = mockAccount();
  const action = (overrides: Partial<PlannedAction> = {}) =>
    plannedAction({ type: adapter.id, ...base, ...overrides });
  const marked = () => action({ kind: 'mark', releaseAfter: RELEASE_AFTER });
  return {
    ...account,
    action,
    discover: () => collect(adapter.discover(account.clients, SELECTOR)),
    release: (releasePolicy = policy()) => adapter.release(account.clients, action(), releasePolicy),
    mark: (mark = marked()) => adapter.mark(account.clients, mark, MARK_TAG),
    unmark: () => adapter.unmark(account.clients, marked(), MARK_TAG),
  };
}

/**
 * Mark, then unmark, through an EC2 adapter: CreateTags writes only the mark with its date, DeleteTags removes
 * only the mark's key, both on the resource's id and nothing else.
 */
export async function expectEc2MarkAndUnmark(account: AdapterAccount, resourceId: string): Promise<void> {
  account.ec2.on(CreateTagsCommand).resolves({});
  account.ec2.on(DeleteTagsCommand).resolves({});

  await expect(account.mark()).resolves.toBe('DONE');
  await expect(account.unmark()).resolves.toBe('DONE');

  expect(account.ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
    { Resources: [resourceId], Tags: [{ Key: MARK_TAG, Value: RELEASE_AFTER }] },
  ]);
  expect(account.ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual([
    { Resources: [resourceId], Tags: [{ Key: MARK_TAG }] },
  ]);
}
