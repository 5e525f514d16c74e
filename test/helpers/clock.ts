/** A clock a test moves by hand. Each test makes its own. */
export interface TestClock {
  now: () => Date;
  /** The current reading as ISO. */
  iso(): string;
  set(iso: string): void;
  advance(ms: number): void;
}

export function clockAt(iso: string): TestClock {
  let current = Date.parse(iso);
  if (Number.isNaN(current)) throw new Error(`Not a date: ${iso}`);
  return {
    now: () => new Date(current),
    iso: () => new Date(current).toISOString(),
    set: (next) => {
      current = Date.parse(next);
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
