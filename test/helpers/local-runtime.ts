/**
 * One local runtime per test file: the app synthesized once (a CDK synth costs seconds) and run in memory
 * (dynalite, no data directory). Call {@link useLocalRuntime} at the top level of a test file; it registers
 * beforeAll/afterAll.
 */
import { LocalRuntime, type EngineEvent, type StartOptions } from '../../local/runtime';
import { synthesizeTemplate } from '../../local/synth';
import type { BuildAppOptions } from '../../stacks/build-app';

type Event = NonNullable<EngineEvent>;

export function useLocalRuntime(
  options: Pick<BuildAppOptions, 'jobs' | 'jobInputs' | 'calendarDate'> = {},
): () => LocalRuntime {
  let runtime: LocalRuntime | undefined;
  beforeAll(async () => {
    const template = synthesizeTemplate(options);
    runtime = await LocalRuntime.start({ template, logLevel: 'SILENT' });
  });
  afterAll(async () => {
    await runtime?.stop();
  });
  return () => {
    if (!runtime)
      throw new Error('The local runtime is not started: call useLocalRuntime() at the top level');
    return runtime;
  };
}

/** Collects a run's engine events; pass `onEvent` to run()/start(). Make one per execution. */
export interface EventRecorder {
  readonly events: Event[];
  readonly onEvent: NonNullable<StartOptions['onEvent']>;
  /** Names of the states entered, in order (one StateEntered is one state transition). */
  entered(): string[];
  /** How many events of `type` concern state `name`. */
  count(type: Event['type'], name: string): number;
}

export function recordEvents(): EventRecorder {
  const events: Event[] = [];
  const stateName = (event: Event) => ('state' in event ? event.state.name : undefined);
  return {
    events,
    onEvent: (event) => events.push(event),
    entered: () => events.filter((e) => e.type === 'StateEntered').map((e) => stateName(e) ?? ''),
    count: (type, name) => events.filter((e) => e.type === type && stateName(e) === name).length,
  };
}

/** Poll `check` until it returns something other than `undefined`, or fail after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 5_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
