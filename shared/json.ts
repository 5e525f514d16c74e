/**
 * JSON as the ledger keeps it. Inputs are stored as JSON **text**, never as DynamoDB maps: a map cannot hold
 * every JSON value (the document marshaller rejects numbers beyond 2^53, objects with a `constructor` key and
 * prototype-named keys, DynamoDB nests maps at most 32 deep), while a string attribute holds any JSON text that
 * fits the item. Nothing here recurses, so an input nested thousands of levels deep is measured, cut and
 * stored like any other.
 */
import { createHash } from 'node:crypto';

/**
 * A JSON text kept within a byte bound: whole, or its first bytes with the size and hash of the whole. A whole
 * text carries nothing else: its size and hash are its own, and leaving them out keeps a run item within one
 * write unit.
 */
export type StoredJson =
  | { text: string; truncated?: undefined; bytes?: undefined; sha256?: undefined }
  | {
      /** The first bytes of the JSON text. */
      text: string;
      truncated: true;
      /** UTF-8 size of the whole text. */
      bytes: number;
      /** SHA-256 (hex) of the whole text, to match it against another copy (Step Functions keeps one 90 days). */
      sha256: string;
    };

/** Keep `text` whole when it fits `maxBytes`, else its first `maxBytes` (cut at a character boundary). */
export function storedJson(text: string, maxBytes: number): StoredJson {
  return cutStoredJson({ text }, maxBytes);
}

/** UTF-8 size of the whole text a stored copy was made of. */
export function storedBytes(stored: StoredJson): number {
  return stored.truncated ? stored.bytes : Buffer.byteLength(stored.text, 'utf8');
}

/** The first `maxBytes` bytes of a UTF-8 buffer as a string, without a split character at the end. */
export function utf8Prefix(buffer: Buffer, maxBytes: number): string {
  let end = Math.min(maxBytes, buffer.length);
  // Step back over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  if (end < buffer.length) while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return buffer.subarray(0, end).toString('utf8');
}

/** Cut a stored copy down to `maxBytes` (keeping the size and hash of the whole). */
export function cutStoredJson(stored: StoredJson, maxBytes: number): StoredJson {
  const buffer = Buffer.from(stored.text, 'utf8');
  if (buffer.length <= maxBytes) return stored;
  const whole = stored.truncated
    ? { bytes: stored.bytes, sha256: stored.sha256 }
    : { bytes: buffer.length, sha256: createHash('sha256').update(buffer).digest('hex') };
  return { text: utf8Prefix(buffer, maxBytes), truncated: true, ...whole };
}

/**
 * The exact text of the value of member `key` of the JSON object in `objectText`, or `undefined` when the
 * object has no such member. It scans rather than parses, so the member's text comes back byte for byte: a
 * number with more digits than a double holds keeps them all, and no depth is too deep.
 * `objectText` must be valid JSON (it is what Step Functions' `States.JsonToString` produced).
 */
export function jsonMemberText(objectText: string, key: string): string | undefined {
  let i = skipSpace(objectText, 0);
  if (objectText[i] !== '{') return undefined;
  i = skipSpace(objectText, i + 1);
  while (i < objectText.length && objectText[i] !== '}') {
    const keyEnd = skipString(objectText, i);
    const name = JSON.parse(objectText.slice(i, keyEnd)) as string;
    i = skipSpace(objectText, keyEnd);
    if (objectText[i] !== ':') return undefined;
    const start = skipSpace(objectText, i + 1);
    const end = skipValue(objectText, start);
    if (name === key) return objectText.slice(start, end);
    i = skipSpace(objectText, end);
    if (objectText[i] === ',') i = skipSpace(objectText, i + 1);
  }
  return undefined;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i += 1;
  return i;
}

/** `i` is at an opening quote; returns the index after the closing one. */
function skipString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') j += 2;
    else if (c === '"') return j + 1;
    else j += 1;
  }
  return j;
}

function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first !== '{' && first !== '[') {
    let j = i;
    while (j < text.length && !',}] \t\n\r'.includes(text[j] ?? '')) j += 1;
    return j;
  }
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const c = text[j];
    if (c === '"') {
      j = skipString(text, j);
      continue;
    }
    if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return j + 1;
    }
    j += 1;
  }
  return j;
}

/**
 * The path to the first object or array nested deeper than `maxDepth` levels (the root object is level 1), or
 * `undefined` when none is. Iterative, so any depth is measured without exhausting the stack.
 */
export function pathDeeperThan(value: unknown, maxDepth: number): string[] | undefined {
  interface Frame {
    value: unknown;
    depth: number;
    parent?: Frame;
    key?: string;
  }
  const stack: Frame[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    if (frame.value === null || typeof frame.value !== 'object') continue;
    if (frame.depth > maxDepth) {
      const path: string[] = [];
      for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) path.push(f.key);
      return path.reverse();
    }
    const entries = Array.isArray(frame.value)
      ? frame.value.map((child, index) => [String(index), child] as const)
      : Object.entries(frame.value);
    for (const [key, child] of entries) {
      if (child !== null && typeof child === 'object')
        stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
    }
  }
  return undefined;
}

/** A field path for messages: `a.b.0.c`, cut to its first `max` segments. */
export function fieldPath(path: readonly string[], max = 8): string {
  if (path.length === 0) return '(root)';
  const shown = path.slice(0, max).join('.');
  return path.length > max ? `${shown}.… (${path.length} levels)` : shown;
}

/** Parse JSON text whose validity is already known; `undefined` for text that is not JSON. */
export function tryParseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
