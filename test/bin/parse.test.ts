import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliError, ExitCode } from '../../bin/cli/errors';
import { parseLimit, parseRunInput, parseSince, parseStatus, parseTime } from '../../bin/cli/parse';
import { RunStatus } from '../../shared/constants';

const NOW = new Date('2026-11-30T12:00:00.000Z');

/** The CliError `fn` throws; fails the test when it throws something else or nothing. */
function cliErrorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected a CliError, nothing was thrown');
}

describe('parseSince', () => {
  it.each([
    ['30m', '2026-11-30T11:30:00.000Z'],
    ['12h', '2026-11-30T00:00:00.000Z'],
    ['7d', '2026-11-23T12:00:00.000Z'],
    ['2w', '2026-11-16T12:00:00.000Z'],
    [' 1d ', '2026-11-29T12:00:00.000Z'],
  ])('reads the relative duration %j back from now', (value, expected) => {
    expect(parseSince(value, NOW)).toBe(expected);
  });

  it('takes an ISO date or time as is, normalized to UTC', () => {
    expect(parseSince('2026-11-01', NOW)).toBe('2026-11-01T00:00:00.000Z');
    expect(parseSince('2026-11-01T10:00:00+02:00', NOW)).toBe('2026-11-01T08:00:00.000Z');
  });

  it.each(['yesterday', '7x', 'd7', '', '-3d', '7', 'Dec 25'])(
    'rejects %j with an error naming --since',
    (value) => {
      const error = cliErrorOf(() => parseSince(value, NOW));
      expect(error.message).toContain('--since');
      expect(error.exitCode).toBe(ExitCode.USAGE);
    },
  );
});

describe('parseTime', () => {
  it('parses an ISO time and names the option when it cannot', () => {
    expect(parseTime('--from', '2026-01-01T00:00:00Z').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(cliErrorOf(() => parseTime('--to', 'soon')).message).toMatch(/^--to "soon"/);
    // Date.parse alone would read this as 2001-12-01.
    expect(cliErrorOf(() => parseTime('--from', '12')).message).toMatch(/^--from "12"/);
  });
});

describe('parseLimit', () => {
  it.each([
    ['1', 1],
    ['20', 20],
    ['1000', 1000],
  ])('accepts %j', (value, expected) => {
    expect(parseLimit(value)).toBe(expected);
  });

  it.each(['0', '1001', '2.5', 'ten', '-1', ''])('rejects %j with an error naming --limit', (value) => {
    expect(cliErrorOf(() => parseLimit(value)).message).toContain('--limit');
  });
});

describe('parseStatus', () => {
  it('accepts every run status in any case', () => {
    expect(parseStatus('failed')).toBe(RunStatus.FAILED);
    expect(parseStatus('Succeeded')).toBe(RunStatus.SUCCEEDED);
    expect(parseStatus('TIMED_OUT')).toBe(RunStatus.TIMED_OUT);
  });

  it('rejects an unknown status and lists the valid ones', () => {
    const error = cliErrorOf(() => parseStatus('done'));
    expect(error.message).toContain('--status "done"');
    for (const status of Object.values(RunStatus)) expect(error.message).toContain(status);
  });
});

describe('parseRunInput', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'stepjobs-parse-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, text: string): string => {
    const filePath = path.join(dir, name);
    writeFileSync(filePath, text);
    return filePath;
  };

  it('is an empty object without --input', () => {
    expect(parseRunInput({})).toEqual({});
  });

  it('parses a JSON object from --input', () => {
    expect(parseRunInput({ input: '{"message":"hi","n":2}' })).toEqual({ message: 'hi', n: 2 });
  });

  it('names --input when the JSON is malformed', () => {
    const error = cliErrorOf(() => parseRunInput({ input: '{bad' }));
    expect(error.message).toMatch(/^--input is not valid JSON/);
    expect(error.exitCode).toBe(ExitCode.USAGE);
  });

  it.each(['[1,2]', '"text"', '42', 'null', 'true'])('rejects %s, which is not a JSON object', (input) => {
    expect(cliErrorOf(() => parseRunInput({ input })).message).toContain('must be a JSON object');
  });

  it('reads --input-file', () => {
    expect(parseRunInput({ inputFile: file('in.json', '{"message":"from a file"}') })).toEqual({
      message: 'from a file',
    });
  });

  it('names the file when --input-file holds malformed JSON', () => {
    const filePath = file('bad.json', '{"message":');
    expect(cliErrorOf(() => parseRunInput({ inputFile: filePath })).message).toContain(
      `--input-file ${filePath} is not valid JSON`,
    );
  });

  it('names the file when --input-file is missing', () => {
    const missing = path.join(dir, 'missing.json');
    const error = cliErrorOf(() => parseRunInput({ inputFile: missing }));
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
  });

  it('refuses --input and --input-file together', () => {
    const filePath = file('in.json', '{}');
    expect(cliErrorOf(() => parseRunInput({ input: '{}', inputFile: filePath })).message).toMatch(
      /either --input or --input-file/,
    );
  });

  it('rejects a "trigger" key: stepjobs sets the trigger', () => {
    expect(cliErrorOf(() => parseRunInput({ input: '{"trigger":{"type":"schedule"}}' })).message).toContain(
      '"trigger"',
    );
  });

  it('sets dryRun from --dry-run and --no-dry-run, over the input', () => {
    expect(parseRunInput({ input: '{"a":1}', dryRun: true })).toEqual({ a: 1, dryRun: true });
    expect(parseRunInput({ input: '{"a":1,"dryRun":true}', dryRun: false })).toEqual({
      a: 1,
      dryRun: false,
    });
    expect(parseRunInput({ input: '{"a":1}' })).not.toHaveProperty('dryRun');
  });
});
