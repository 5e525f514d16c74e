/** How handlers read requests: their shape, typed field readers, pagination tokens and tag key checks. */
import { fail } from './errors';

/** Requests are plain objects; each handler reads the fields it needs. */
export type Input = Record<string, unknown>;
export type Handler = (input: Input) => Promise<Record<string, unknown>>;

export const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.map((v) => String(v)) : undefined;
export const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function encodeToken(id: string | undefined): string | undefined {
  return id === undefined ? undefined : Buffer.from(id).toString('base64url');
}

export function decodeToken(token: string | undefined, errorName: string): string | undefined {
  if (!token) return undefined;
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!id || encodeToken(id) !== token) throw fail(errorName, `Invalid pagination token: ${token}`);
  return id;
}

export function checkTagKeys(keys: readonly string[], errorName: string): void {
  const reserved = keys.find((key) => key.toLowerCase().startsWith('aws:'));
  if (reserved !== undefined)
    throw fail(errorName, `Tag keys starting with 'aws:' are reserved: ${reserved}`);
}
