/** Parsing of CLI option values, each with an error that names the option and what is wrong. */
import { readFileSync } from 'node:fs';
import {
  MAX_EXECUTION_INPUT_BYTES,
  MAX_EXECUTION_INPUT_DEPTH,
  RunStatus,
  TriggerType,
} from '../../shared/constants';
import type { ResolvedCalendar } from '../../shared/calendar';
import { fieldPath, pathDeeperThan } from '../../shared/json';
import { isValidTimeZone } from '../../shared/schedule-expression';
import { CalendarError, resolveCalendar } from '../../workflows/calendar';
import { CliError } from './errors';

/** `--since 7d`, `12h`, `30m`, or an ISO date/time, into an ISO time. */
export function parseSince(value: string, now = new Date()): string {
  const relative = /^(\d+)([mhdw])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
      relative[2] as 'm' | 'h' | 'd' | 'w'
    ];
    return new Date(now.getTime() - Number(relative[1]) * unit).toISOString();
  }
  const parsed = isoTime(value);
  if (parsed === undefined) {
    throw new CliError(`--since "${value}" is not a duration (30m, 12h, 7d, 2w) or an ISO date`);
  }
  return parsed.toISOString();
}

export function parseTime(option: string, value: string): Date {
  const parsed = isoTime(value);
  if (parsed === undefined) throw new CliError(`${option} "${value}" is not an ISO date or time`);
  return parsed;
}

/** `2026-11-30`, `2026-11-30T14:00`, `2026-11-30T14:00:00.000+01:00`, ... */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO date or time, or `undefined` when `value` is not one. `Date.parse` alone is too lenient: it reads
 * `7` (a duration missing its unit) as July 2001.
 */
function isoTime(value: string): Date | undefined {
  const text = value.trim();
  if (!ISO_TIME.test(text)) return undefined;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : new Date(parsed);
}

export function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new CliError(`--limit "${value}" must be a whole number from 1 to 1000`);
  return n;
}

/** `--for 2h`: a duration (30m, 12h, 7d, 2w) in milliseconds. */
export function parseDuration(option: string, value: string): number {
  const relative = /^(\d+)([mhdw])$/.exec(value.trim());
  const n = Number(relative?.[1]);
  if (!relative || !(n > 0))
    throw new CliError(
      `${option} "${value}" is not a duration: a whole number and m, h, d or w (30m, 2h, 7d, 2w)`,
    );
  return n * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2] as 'm' | 'h' | 'd' | 'w'];
}

/** The longest pause or resume reason kept: it is shown on every skipped run. */
export const MAX_REASON_LENGTH = 200;

export function parseReason(option: string, value: string): string {
  const text = value.trim();
  if (text.length === 0) throw new CliError(`${option} is empty: say why`);
  if (text.length > MAX_REASON_LENGTH)
    throw new CliError(`${option} is ${text.length} characters; keep it within ${MAX_REASON_LENGTH}`);
  return text;
}

/** `--count N`: how many fires to list, 1 to 1000. */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new CliError(`--count "${value}" must be a whole number from 1 to 1000`);
  return n;
}

/** A whole number option from `min` to `max`, or an error naming the option and the range. */
export function parseWhole(option: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max)
    throw new CliError(`${option} "${value}" must be a whole number from ${min} to ${max}`);
  return n;
}

/** `value` as one of `choices` (after `normalize`), or an error naming the option and every choice. */
function oneOf<T extends string>(
  option: string,
  value: string,
  choices: readonly T[],
  normalize: (text: string) => string,
): T {
  const normalized = normalize(value);
  const found = choices.find((choice) => choice === normalized);
  if (found === undefined) throw new CliError(`${option} "${value}" must be one of ${choices.join(', ')}`);
  return found;
}

export function parseStatus(value: string): RunStatus {
  return oneOf('--status', value, Object.values(RunStatus), (v) => v.toUpperCase());
}

export function parseTrigger(value: string): TriggerType {
  return oneOf('--trigger', value, Object.values(TriggerType), (v) => v.toLowerCase());
}

/** `--since` and `--until` together: each a duration back from now or an ISO time, `since` before `until`. */
export function parseWindow(
  options: { since?: string; until?: string },
  now = new Date(),
): { since?: string; until?: string } {
  const since = options.since === undefined ? undefined : parseSince(options.since, now);
  const until = options.until === undefined ? undefined : parseUntil(options.until, now);
  if (since !== undefined && until !== undefined && since >= until)
    throw new CliError(`--since ${since} is not before --until ${until}`);
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/** `--until`: like `--since` (a duration back from now, or an ISO time), as an ISO time. */
export function parseUntil(value: string, now = new Date()): string {
  try {
    return parseSince(value, now);
  } catch {
    throw new CliError(`--until "${value}" is not a duration (30m, 12h, 7d, 2w) or an ISO date`);
  }
}

/** The run input from `--input <json>` or `--input-file <path>`, plus `--dry-run/--no-dry-run`. */
export function parseRunInput(options: {
  input?: string;
  inputFile?: string;
  dryRun?: boolean;
}): Record<string, unknown> {
  if (options.input !== undefined && options.inputFile !== undefined) {
    throw new CliError('Use either --input or --input-file, not both');
  }
  let text: string | undefined = options.input;
  let source = '--input';
  if (options.inputFile !== undefined) {
    source = `--input-file ${options.inputFile}`;
    try {
      text = readFileSync(options.inputFile, 'utf8');
    } catch (error) {
      throw new CliError(
        `${source}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  let input: unknown = {};
  if (text !== undefined) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_EXECUTION_INPUT_BYTES) {
      throw new CliError(
        `${source} is ${(bytes / 1024).toFixed(1)} KiB; Step Functions accepts an execution input of at most ${MAX_EXECUTION_INPUT_BYTES / 1024} KiB`,
      );
    }
    input = parseJsonLossless(text, source);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new CliError(`${source} must be a JSON object, like {"message": "hi"}`);
  }
  const record = input as Record<string, unknown>;
  if ('trigger' in record) throw new CliError(`${source}: "trigger" is set by stepjobs, not by the input`);
  return options.dryRun === undefined ? record : { ...record, dryRun: options.dryRun };
}

/** The parts of ES2025's JSON source-text access this module uses (Node 21+; TypeScript 5.9 lacks the types). */
interface JsonWithSource {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): unknown;
}

/**
 * Parse JSON text keeping every number exactly as written: a number that a double cannot hold as written
 * (`12345678901234567890`, `1.0000000000000000001`) stays its source text (`JSON.rawJSON`), which
 * `JSON.stringify` writes back unchanged, so the execution input carries the caller's digits. Input nested
 * deeper than StartExecution accepts is refused first, since a reviver recurses.
 */
export function parseJsonLossless(text: string, source: string): unknown {
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const deep = pathDeeperThan(plain, MAX_EXECUTION_INPUT_DEPTH);
  if (deep) {
    throw new CliError(
      `${source} nests objects or arrays deeper than ${MAX_EXECUTION_INPUT_DEPTH} levels (at ${fieldPath(deep)}); Step Functions refuses such an execution input`,
    );
  }
  const json = JSON as unknown as JsonWithSource;
  return json.parse(text, (_key, value, context) =>
    typeof value === 'number' && context.source !== undefined && String(value) !== context.source
      ? json.rawJSON(context.source)
      : value,
  );
}

/** `--holidays DE-BY`: the public holidays of a country or subdivision, as a calendar in `timeZone`. */
export function parseHolidays(code: string, timeZone: string, from: Date): ResolvedCalendar {
  if (!isValidTimeZone(timeZone)) throw new CliError(`--tz: unknown time zone "${timeZone}"`);
  try {
    return resolveCalendar({ holidays: code.toUpperCase() }, timeZone, from);
  } catch (error) {
    if (error instanceof CalendarError) throw new CliError(`--holidays: ${error.message}`);
    throw error;
  }
}
