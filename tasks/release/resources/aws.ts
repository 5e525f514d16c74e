/**
 * What the resource adapters share: ARNs, tags, the account id, bounded concurrency, and the one place that
 * decides what an AWS error means for the job (gone, throttled, or a real failure).
 */
import type { Tag } from '@aws-sdk/client-ec2';
import type { STSClient } from '@aws-sdk/client-sts';
import { StepJobsError, TransientError } from '../../../shared/errors';
import type { ApplyOutcome } from '../model';
import { sdk } from '../sdk';

/** Error names AWS uses for throttling; the SDK has retried these already when the adapters see them. */
const THROTTLING = new Set([
  'RequestLimitExceeded',
  'EC2ThrottledException',
  'ThrottlingException',
  'ThrottledException',
  'Throttling',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
]);

/** A described resource lacks a field AWS always returns: the response is not what the adapter understands. */
export class UnexpectedResponse extends StepJobsError {
  constructor(what: string, field: string) {
    super(`${what} has no ${field}`);
    this.name = 'UnexpectedResponse';
  }
}

/**
 * The resource changed since the plan and is no longer what the plan released (a volume attached again). The
 * action fails rather than act on a resource the policy would not pick now.
 */
export class ResourceStateChanged extends StepJobsError {
  constructor(
    readonly resourceId: string,
    readonly state: string,
  ) {
    super(`${resourceId} is ${state} now; it was planned for release when idle`);
    this.name = 'ResourceStateChanged';
  }
}

/** A planned action lacks what its kind needs (a mark without its release date): a bug in the plan. */
export class InvalidAction extends StepJobsError {
  constructor(
    readonly resourceId: string,
    problem: string,
  ) {
    super(`Action on ${resourceId}: ${problem}`);
    this.name = 'InvalidAction';
  }
}

export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { $retryable, $metadata } = error as {
    $retryable?: { throttling?: boolean };
    $metadata?: { httpStatusCode?: number };
  };
  return THROTTLING.has(error.name) || $retryable?.throttling === true || $metadata?.httpStatusCode === 429;
}

export function hasName(error: unknown, names: readonly string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** A throttling error becomes a TransientError naming the call (the step is retried); anything else is kept. */
export function classify(error: unknown, call: string): unknown {
  if (isThrottling(error)) {
    return new TransientError(`${call} was still throttled after the SDK's retries`, { cause: error });
  }
  return error;
}

/**
 * Run one mutating call: DONE when it succeeds, ALREADY_GONE when AWS answers with one of `notFound`. Every
 * other error is thrown, throttling as a TransientError.
 */
export async function mutate(
  call: string,
  notFound: readonly string[],
  send: () => Promise<unknown>,
): Promise<ApplyOutcome> {
  try {
    await send();
    return 'DONE';
  } catch (error) {
    if (hasName(error, notFound)) return 'ALREADY_GONE';
    throw classify(error, call);
  }
}

/** The pages of a paginator, with throttling that outlasts the SDK's retries thrown as a TransientError. */
export async function* pages<T>(call: string, paginator: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    for await (const page of paginator) yield page;
  } catch (error) {
    throw classify(error, call);
  }
}

/** One call, with throttling classified. */
export async function call<T>(name: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw classify(error, name);
  }
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** `arn:aws:ec2:<region>:<account>:<kind>/<id>`, the form the Resource Groups Tagging API reports. */
export function ec2Arn(region: string, account: string, kind: string, id: string): string {
  return `arn:${partitionOf(region)}:ec2:${region}:${account}:${kind}/${id}`;
}

export function tagRecord(tags: readonly Tag[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { Key, Value } of tags ?? []) if (Key !== undefined) record[Key] = Value ?? '';
  return record;
}

export function isoOf(date: Date | undefined, what: string, field: string): string {
  if (!date) throw new UnexpectedResponse(what, field);
  return date.toISOString();
}

export function required<T>(value: T | undefined, what: string, field: string): T {
  if (value === undefined) throw new UnexpectedResponse(what, field);
  return value;
}

/**
 * The caller's account id, asked of STS at most once per instance (one per discovery): for ARNs of resources
 * whose describe call names no owner.
 */
export class CallerAccount {
  private account?: Promise<string>;

  constructor(private readonly sts: STSClient) {}

  get(): Promise<string> {
    this.account ??= call('GetCallerIdentity', () =>
      this.sts.send(new (sdk.sts().GetCallerIdentityCommand)({})),
    ).then(({ Account }) => required(Account, 'GetCallerIdentity', 'Account'));
    return this.account;
  }
}
