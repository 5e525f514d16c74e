/** Small helpers shared by the repositories: the table client, paging cursors and conditional-write detection. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { LedgerUnavailable } from '../errors';

/** What the repositories send commands with. */
export type LedgerDoc = Pick<DynamoDBDocumentClient, 'send'>;

export interface TableRef {
  doc: LedgerDoc;
  tableName: string;
}

/**
 * Throttling, a 5xx answer, a timeout or a dropped connection: a failure that says nothing about the request,
 * so the same request may succeed later.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

/**
 * The document client with transient failures (after the SDK's own attempts) turned into
 * {@link LedgerUnavailable}, the one name the state machine retries on. Every other error, a failed condition
 * among them, passes unchanged.
 */
export function ledgerDoc(doc: DynamoDBDocumentClient): LedgerDoc {
  const send = async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
    try {
      return await doc.send(command);
    } catch (error) {
      throw isTransientAwsError(error) ? new LedgerUnavailable(error) : error;
    }
  };
  return { send: send as DynamoDBDocumentClient['send'] };
}

export function isConditionFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** Cursors are opaque to callers: the LastEvaluatedKey as base64url JSON. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Invalid page cursor "${cursor}"`, { cause: error });
  }
  throw new Error(`Invalid page cursor "${cursor}"`);
}

/** Remove the key and index attributes so callers get the domain record only. */
const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi3pk', 'type']);

export function stripKeys<T>(item: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !KEY_ATTRIBUTES.has(name))) as T;
}

export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * 86_400_000).toISOString();
}
