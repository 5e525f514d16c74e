import { userInfo } from 'node:os';
import path from 'node:path';
import { TriggerType } from '../../shared/constants';
import { LocalRuntime, newExecutionName, type LocalSweepResult } from '../../local/runtime';
import { cachedTemplate } from '../../local/template-cache';
import type { SimulatedAccountSetup } from '../../local/simulated-account';
import { LedgerServerError } from '../../local/shared-dynamodb';
import { CliError, ExitCode } from './errors';
import { ProgressTracker } from './progress';
import type { RunRequest, StartedRun, Target } from './target';

/** Where local mode keeps its DynamoDB data, so history survives between commands. */
export const LOCAL_DATA_DIR = path.resolve(__dirname, '..', '..', '.stepjobs', 'dynamodb');

export class LocalTarget implements Target {
  readonly kind = 'local';

  private constructor(
    readonly runtime: LocalRuntime,
    /** What the recovery pass at start-up repaired (runs an earlier, vanished process left behind). */
    readonly recovery: LocalSweepResult,
  ) {}

  static async open(
    options: { dataDir?: string; logLevel?: string; simulatedAccount?: SimulatedAccountSetup } = {},
  ): Promise<LocalTarget> {
    // The synthesized template, reused while nothing it depends on has changed (local/template-cache.ts).
    const { template } = cachedTemplate();
    try {
      const runtime = await LocalRuntime.start({
        template,
        dataDir: options.dataDir ?? LOCAL_DATA_DIR,
        logLevel: options.logLevel,
        simulatedAccount: options.simulatedAccount,
      });
      try {
        return new LocalTarget(runtime, await runtime.recover());
      } catch (error) {
        await runtime.stop();
        throw error;
      }
    } catch (error) {
      if (error instanceof LedgerServerError) throw new CliError(error.message, ExitCode.UNAVAILABLE);
      throw error;
    }
  }

  get jobIds(): string[] {
    return [...this.runtime.jobs.keys()];
  }

  get ledger() {
    return this.runtime.ledger;
  }

  async principal(): Promise<string> {
    return localPrincipal();
  }

  async startRun(request: RunRequest): Promise<StartedRun> {
    const tracker = new ProgressTracker();
    const trigger = request.trigger ?? { type: TriggerType.CLI };
    const name = newExecutionName(trigger.type);
    const result = await this.runtime.run(
      request.jobId,
      { ...request.input, trigger: { ...trigger, principal: localPrincipal() } },
      {
        name,
        onEvent: (event) => {
          if (!request.onProgress) return;
          const state = 'state' in event ? event.state : undefined;
          if (!state) return;
          const index = 'index' in event && typeof event.index === 'number' ? { index: event.index } : {};
          const kinds = {
            StateEntered: 'entered',
            StateExited: 'exited',
            StateFailed: 'failed',
            StateRetried: 'retried',
            StateCaught: 'caught',
          } as const;
          const kind = kinds[event.type as keyof typeof kinds];
          if (!kind) return;
          const err =
            'Error' in event
              ? { error: String(event.Error), cause: String((event as { Cause?: unknown }).Cause ?? '') }
              : {};
          request.onProgress(tracker.event(kind, state.name, event.timestamp, { ...index, ...err }));
        },
      },
    );
    return {
      runId: result.runId,
      executionArn: result.executionArn,
      status: result.status,
      error: result.error,
      cause: result.cause,
      ...(result.statusEventError ? { statusEventError: result.statusEventError } : {}),
      ...(result.notifyError ? { notifyError: result.notifyError } : {}),
    };
  }

  async close(): Promise<void> {
    await this.runtime.stop();
  }
}

/** Locally the "who" of a CLI run is the OS user. */
function localPrincipal(): string {
  return `local:${userInfo().username}`;
}
