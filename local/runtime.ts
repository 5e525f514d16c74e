/**
 * The embedded local runtime: the CDK-synthesized definitions run in-process by aws-local-stepfunctions,
 * Lambda handlers called in-process with their own environment, DynamoDB served by dynalite. Nothing reaches
 * AWS: every Task is overridden (see task-overrides.ts) and every other AWS endpoint points at a closed port.
 */
// First: Powertools reads these settings when its singletons are built (see the module).
import './process-defaults';
import { GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TaskHandler } from '../shared/handler';
import { describeError } from '../shared/errors';
import { fieldPath, pathDeeperThan } from '../shared/json';
import { provideDynamoDbTransport } from '../shared/aws-clients';
import { keys } from '../shared/ledger/keys';
import { Ledger } from '../shared/ledger/ledger';
import { logger } from '../shared/powertools';
import { MAX_EXECUTION_INPUT_BYTES, MAX_EXECUTION_INPUT_DEPTH, STACK_OUTPUT } from '../shared/constants';
import { EXECUTION_TEXT } from '../stacks/constructs/job-workflow';
import { sweep, type SweepResult } from '../tasks/lifecycle/sweep';
import { localSchedulerClient } from './local-scheduler';
import {
  connectEmbeddedDynamoDb,
  createTables,
  startEmbeddedDynamoDb,
  type EmbeddedDynamoDb,
} from './embedded-dynamodb';
import type { EmbeddedS3 } from './embedded-s3';
import { LocalExecutionStore } from './execution-store';
import { prepareOutbox } from './outbox';
import { insertRecord, mappingMatches, streamMappings, type StreamMapping } from './run-stream';
import { connectSharedDynamoDb } from './shared-dynamodb';
import { prepareSimulatedAccount, type SimulatedAccountSetup } from './simulated-account';
import { statusChangeEvent, ruleTargetsFor, type ExecutionStatus } from './status-events';
import { buildOverrides, lambdaContext } from './task-overrides';
import {
  buckets,
  lambdaFunctions,
  resolve,
  schedules,
  stateMachines,
  tableInputs,
  TemplateError,
  type CfnTemplate,
  type LocalFunction,
  type LocalSchedule,
} from './template';

const REPO_ROOT = path.resolve(__dirname, '..');

/** The engine's own event type, as `eventLogs` yields it. */
export type EngineEvent = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'];

export interface LocalJob {
  jobId: string;
  stateMachineArn: string;
  stateMachineLogicalId: string;
  definition: Record<string, unknown>;
  schedule?: LocalSchedule;
}

export interface ExecutionResult {
  jobId: string;
  runId: string;
  executionArn: string;
  status: ExecutionStatus;
  output?: unknown;
  error?: string;
  cause?: string;
  startedAt: string;
  stoppedAt: string;
  /**
   * Set when the status-change event could not be delivered to the reconciler, even after retries (the
   * ledger was unavailable): the next local command's recovery pass finalizes the run instead.
   */
  statusEventError?: string;
  /** Set when the run notifier could not be given the run's end, even after retries. */
  notifyError?: string;
}

/** The sweep's result, and what the run notifier could not be told about the runs it ended. */
export interface LocalSweepResult extends SweepResult {
  /** Set when the run notifier could not be given the end of a run the pass recorded, even after retries. */
  notifyError?: string;
}

/** StartExecution's refusal of an input (too large, nested too deep), as Step Functions names it. */
export class InvalidExecutionInput extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidExecutionInput';
  }
}

export interface StartOptions {
  /** Execution name (= run id). @default a new `local-<time>-<random>` name */
  name?: string;
  /** Called with every engine event (state entered/exited/failed/retried/caught, map iterations). */
  onEvent?: (event: NonNullable<EngineEvent>) => void;
  /** Retry pauses in ms by state name (tests set 0). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /**
   * Tests only: what Step Functions does on a redrive, which the local engine lacks (so `stepjobs redrive`
   * refuses locally): run execution `name` again from state `from` with that state's original input, and
   * `$$.Execution.RedriveCount` = `count`. The workflow tests use it to show where a redrive resumes.
   */
  redrive?: { from: string; input: unknown; count: number };
}

export interface ExecutionHandle {
  name: string;
  executionArn: string;
  abort(): void;
  result: Promise<ExecutionResult>;
}

export interface LocalRuntimeOptions {
  /** The synthesized stack template. */
  template: CfnTemplate;
  /**
   * Directory for persistent DynamoDB data, served to every stepjobs process on it by its ledger server
   * (local/ledger-server.ts); `undefined` keeps everything in memory, in this process.
   */
  dataDir?: string;
  /**
   * Use the DynamoDB already served at this endpoint (another process's, or a test's) instead of starting one.
   * @default start an embedded DynamoDB (in memory, or on `dataDir`)
   */
  dynamoEndpoint?: string;
  /**
   * The DynamoDB endpoint the handlers use, when it is not the runtime's own: the fault suite puts a proxy
   * here. The runtime's record of executions (Step Functions' part) always uses its own endpoint.
   * @default the runtime's endpoint
   */
  handlerDynamoEndpoint?: string;
  /**
   * Pauses between deliveries of a status-change event to the reconciler, after the first. @default
   * [200, 1000, 3000] ms (tests pass shorter ones)
   */
  statusEventRetryMs?: readonly number[];
  /** Powertools log level for handlers. @default 'WARN' */
  logLevel?: string;
  /**
   * The simulated account the release job acts on locally (it must never reach a real one), or `false` for
   * none. @default seeded with the built-in inventory when empty
   */
  simulatedAccount?: SimulatedAccountSetup | false;
  /**
   * Called after every Lambda invocation (task states, rule targets, the sweep) with its duration in ms, as
   * Lambda bills it (warm: the handler's module is loaded once per process). bench/cost reads it.
   */
  onInvoke?: (fn: LocalFunction, durationMs: number) => void;
}

/** How many sweep passes one local slot check may make to start catch-ups one at a time. */
const MAX_LOCAL_CATCHUP_PASSES = 1000;

export class LocalRuntime {
  readonly jobs: ReadonlyMap<string, LocalJob>;
  readonly ledger: Ledger;
  readonly tableName: string;
  private readonly functions: LocalFunction[];
  private readonly machines = new Map<string, StateMachine>();
  private readonly handlers = new Map<string, TaskHandler<unknown>>();

  private constructor(
    readonly template: CfnTemplate,
    private readonly dynamo: EmbeddedDynamoDb,
    /** Local-mode settings added to every function's own environment. */
    private readonly localEnvironment: Readonly<Record<string, string>>,
    /** What Step Functions knows about executions, locally. */
    readonly executions: LocalExecutionStore,
    private readonly statusEventRetryMs: readonly number[],
    private readonly onInvoke: LocalRuntimeOptions['onInvoke'],
    /** Where the embedded S3 keeps its files when it is started: `<dataDir>-s3`, or a temporary directory. */
    private readonly dataDir: string | undefined,
  ) {
    this.functions = lambdaFunctions(template);
    this.jobs = discoverJobs(template);
    this.tableName = ledgerTableName(template);
    this.bucketNames = new Set(buckets(template));
    this.ledger = Ledger.fromClient(dynamo.client, this.tableName);
    // Resolved once: a template whose stream target is not a local function is refused before any run.
    this.runStream = streamMappings(template, this.tableName).map((mapping) => {
      const fn = this.functions.find((f) => f.logicalId === mapping.functionLogicalId);
      if (!fn) throw new TemplateError(`Stream target ${mapping.functionLogicalId} is not a local function`);
      return { mapping, fn };
    });
  }

  /** The template's buckets, by their local names. */
  private readonly bucketNames: ReadonlySet<string>;

  /** The event source mappings on the ledger's stream (the run notifier's), each with its function. */
  private readonly runStream: Array<{ mapping: StreamMapping; fn: LocalFunction }>;

  /** Start the embedded DynamoDB, create the template's tables and point the SDK at them. */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const dynamo = options.dynamoEndpoint
      ? connectEmbeddedDynamoDb(options.dynamoEndpoint)
      : options.dataDir
        ? await connectSharedDynamoDb(options.dataDir)
        : await startEmbeddedDynamoDb();
    try {
      const handlerEndpoint = options.handlerDynamoEndpoint ?? dynamo.endpoint;
      isolateFromAws(handlerEndpoint, options.logLevel ?? 'WARN');
      // The handlers' clients take the same transport as this runtime's (a data directory's store).
      if (dynamo.requestHandler && handlerEndpoint === dynamo.endpoint) {
        provideDynamoDbTransport(handlerEndpoint, dynamo.requestHandler as never); // Smithy's type; see localDynamoDbClient
      }
      // The logger may have been built before this point (its module imported early); set its level directly.
      logger.setLogLevel((options.logLevel ?? 'WARN') as Parameters<typeof logger.setLogLevel>[0]);
      // Powertools singletons read these once from process.env; every function of the app shares them.
      const shared = lambdaFunctions(options.template)[0]?.environment ?? {};
      for (const name of ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE']) {
        if (shared[name]) process.env[name] = shared[name];
      }
      await createTables(dynamo.client, tableInputs(options.template));
      const executions = await LocalExecutionStore.open(dynamo.client);
      const localEnvironment = {
        ...(options.simulatedAccount === false
          ? {}
          : await prepareSimulatedAccount(dynamo.client, options.simulatedAccount)),
        ...(await prepareOutbox(dynamo.client)),
      };
      return new LocalRuntime(
        options.template,
        dynamo,
        localEnvironment,
        executions,
        options.statusEventRetryMs ?? STATUS_EVENT_RETRY_MS,
        options.onInvoke,
        options.dataDir,
      );
    } catch (error) {
      provideDynamoDbTransport(dynamo.endpoint, undefined);
      await dynamo.stop();
      throw error;
    }
  }

  get dynamoClient(): DynamoDBClient {
    return this.dynamo.client;
  }

  job(jobId: string): LocalJob {
    const job = this.jobs.get(jobId);
    if (!job)
      throw new TemplateError(`Unknown job "${jobId}". Known jobs: ${[...this.jobs.keys()].join(', ')}`);
    return job;
  }

  /**
   * Start an execution of a job's state machine, as StartExecution would: an input StartExecution refuses (over
   * 256 KiB, or nested deeper than its parser allows) throws {@link InvalidExecutionInput} and starts nothing.
   * The execution is written to the local execution store before it runs and when it ends.
   */
  start(jobId: string, input: unknown, options: StartOptions = {}): ExecutionHandle {
    const job = this.job(jobId);
    const inputText = executionInputText(input);
    const name = options.name ?? newExecutionName('local');
    const executionArn = job.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    // Build (and validate) the machine first: the first run of a job spends hundreds of ms here, and the
    // engine stamps `$$.Execution.StartTime` itself when the run begins, so the run record's startedAt and
    // the status-change event's startDate would otherwise disagree by that much.
    const machine = options.redrive ? this.machineFrom(job, options.redrive.from) : this.machine(job);
    let aborted = false;
    let abortEngine: (() => void) | undefined;
    const result = (async (): Promise<ExecutionResult> => {
      const startedAt = new Date();
      await this.executions.started({
        executionArn,
        stateMachineArn: job.stateMachineArn,
        name,
        startDate: startedAt,
        input: inputText,
      });
      const execution = machine.run(
        (options.redrive ? options.redrive.input : input) as never,
        this.runOptions(job, name, executionArn, startedAt, input, options),
      );
      abortEngine = execution.abort;
      if (aborted) execution.abort();
      const pump = options.onEvent ? pumpEvents(execution.eventLogs, options.onEvent) : Promise.resolve();
      let status: ExecutionStatus = 'SUCCEEDED';
      let output: unknown;
      let error: string | undefined;
      let cause: string | undefined;
      try {
        output = await execution.result;
      } catch (failure) {
        ({ status, error, cause } = describeFailure(failure));
      }
      await pump;
      const stoppedAt = new Date();
      const outputText = status === 'SUCCEEDED' ? JSON.stringify(output) : undefined;
      await this.executions.ended(executionArn, {
        status,
        stopDate: stoppedAt,
        ...(outputText === undefined ? {} : { output: outputText }),
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined ? {} : { cause }),
      });
      const statusEventError = await this.emitStatusChange(job, {
        executionArn,
        stateMachineArn: job.stateMachineArn,
        name,
        status,
        startDate: startedAt.getTime(),
        stopDate: stoppedAt.getTime(),
        input: inputText,
        output: outputText ?? null,
        error: error ?? null,
        cause: cause ?? null,
      });
      const notifyError = await this.announceEnds([name]);
      // Whatever this reports must outlive the process: the run's writes reach the disk first.
      await this.dynamo.flush?.();
      return {
        jobId,
        runId: name,
        executionArn,
        startedAt: startedAt.toISOString(),
        stoppedAt: stoppedAt.toISOString(),
        status,
        output,
        error,
        cause,
        ...(statusEventError ? { statusEventError } : {}),
        ...(notifyError ? { notifyError } : {}),
      };
    })();
    const abort = () => {
      aborted = true;
      abortEngine?.();
    };
    return { name, executionArn, abort, result };
  }

  private runOptions(
    job: LocalJob,
    name: string,
    executionArn: string,
    startedAt: Date,
    input: unknown,
    options: StartOptions,
  ): RunOptions {
    const execution = {
      Id: executionArn,
      Name: name,
      StartTime: startedAt.toISOString(),
      Input: input,
      RoleArn: `arn:aws:iam::000000000000:role/${job.stateMachineLogicalId}Role`,
      // Step Functions' count of redrives: 0 until an execution is redriven (local mode never redrives).
      RedriveCount: options.redrive?.count ?? 0,
    };
    return {
      overrides: {
        taskResourceLocalHandlers: buildOverrides(
          job.definition,
          this.functions,
          (fn, payload) => this.invoke(fn, payload),
          this.dynamo.client,
        ),
        retryIntervalOverrides: options.retryIntervalOverrides,
      },
      context: {
        Execution: execution as never,
        StateMachine: { Id: job.stateMachineArn, Name: job.stateMachineLogicalId },
        [LOCAL_CONTEXT]: { ExecutionText: JSON.stringify(execution) },
      },
    };
  }

  /**
   * The sweep's local pass (tasks/lifecycle/sweep.ts), with this runtime's execution store as Step Functions
   * and no grace period: runs left RUNNING by a stepjobs process that is gone end ABORTED, executions that
   * never got a run record get one, and locks that outlived their run are released. Every local command runs
   * it first.
   */
  async recover(): Promise<LocalSweepResult> {
    const fn = this.functionByEntry('tasks/lifecycle/sweep.ts');
    const result = await sweep(
      {},
      {
        ledger: this.ledger,
        env: fn.environment,
        now: () => new Date(),
        sfn: this.executions.stepFunctionsClient(),
        graceMs: 0,
      },
    );
    const notifyError = await this.announceEnds(result.repaired.map((r) => r.runId));
    return notifyError ? { ...result, notifyError } : result;
  }

  /**
   * The sweep with its slot check over `window` (both ends included), at the simulated time `now` (default
   * the window's end): slots of the window no delivery claimed become MISSED runs, and a job's `catchup`
   * starts executions here, as StartExecution, which this waits for. A local schedule does not run by itself,
   * so the slot check runs only when asked (the end of a `schedule --local` window, `stepjobs sweep`).
   */
  async sweep(
    window: { from: Date; to: Date; jobIds?: readonly string[] },
    now = window.to,
  ): Promise<LocalSweepResult> {
    const fn = this.functionByEntry('tasks/lifecycle/sweep.ts');
    const started: Array<Promise<ExecutionResult>> = [];
    const sfn = this.executions.stepFunctionsClient({
      StartExecution: async (input) => {
        const job = [...this.jobs.values()].find((j) => j.stateMachineArn === input.stateMachineArn);
        if (!job) throw new TemplateError(`No local job has state machine ${String(input.stateMachineArn)}`);
        const name = String(input.name ?? newExecutionName('local'));
        const executionArn = job.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
        if (await this.executions.describe(executionArn)) {
          const error = new Error(`Execution Already Exists: '${executionArn}'`);
          error.name = 'ExecutionAlreadyExists';
          throw error;
        }
        const handle = this.start(job.jobId, JSON.parse(String(input.input ?? '{}')), { name });
        started.push(handle.result);
        return { executionArn, startDate: new Date() };
      },
    });
    const deps = {
      ledger: this.ledger,
      env: fn.environment,
      now: () => now,
      sfn,
      scheduler: localSchedulerClient(
        [...this.jobs.values()].flatMap((j) => (j.schedule ? [j.schedule] : [])),
      ),
      graceMs: 0,
    };
    const event = {
      slots: {
        from: window.from.toISOString(),
        to: window.to.toISOString(),
        ...(window.jobIds ? { jobs: [...window.jobIds] } : {}),
      },
    };
    const result = await sweep(event, deps);
    // On AWS the next pass, 15 minutes on, starts the next catch-up of a job that runs one at a time; here the
    // runs have ended, so pass again until none is started.
    for (let pass = 0; pass < MAX_LOCAL_CATCHUP_PASSES && started.length > 0; pass++) {
      await Promise.all(started.splice(0));
      const next = await sweep(event, deps);
      result.missed.push(...next.missed);
      result.caughtUp.push(...next.caughtUp);
      result.repaired.push(...next.repaired);
    }
    const notifyError = await this.announceEnds([...result.repaired, ...result.missed].map((r) => r.runId));
    return notifyError ? { ...result, notifyError } : result;
  }

  /** Start and wait. */
  async run(jobId: string, input: unknown, options: StartOptions = {}): Promise<ExecutionResult> {
    return this.start(jobId, input, options).result;
  }

  private embeddedS3: Promise<EmbeddedS3> | undefined;

  /**
   * The embedded S3 with the template's buckets, started on first use (a job step that names a bucket, the
   * `reports` command): loading it costs a command that needs no S3 about 150 ms. Each process serves the data
   * directory's S3 files on a port of its own (local/embedded-s3.ts).
   */
  s3(): Promise<EmbeddedS3> {
    this.embeddedS3 ??= (async () => {
      // Loaded here, not at the top: s3rver and its web framework are what the first use costs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { s3DataDir, startEmbeddedS3 } = require('./embedded-s3') as typeof import('./embedded-s3');
      const s3 = await startEmbeddedS3({
        ...(this.dataDir ? { directory: s3DataDir(this.dataDir) } : {}),
        buckets: [...this.bucketNames],
      });
      process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
      return s3;
    })();
    return this.embeddedS3;
  }

  /** Functions whose environment names a bucket of the template: they need the embedded S3. */
  private usesS3(fn: LocalFunction): boolean {
    return Object.values(fn.environment).some((value) => this.bucketNames.has(value));
  }

  /** Invoke one Lambda function in-process, as Lambda would, with the function's own environment. */
  async invoke(fn: LocalFunction, payload: unknown): Promise<unknown> {
    if (this.usesS3(fn)) await this.s3();
    const handler = await this.loadHandler(fn);
    const invoke = handler.forEnv({ ...fn.environment, ...this.localEnvironment });
    if (!this.onInvoke) return invoke(payload, lambdaContext(fn));
    const started = performance.now();
    try {
      return await invoke(payload, lambdaContext(fn));
    } finally {
      this.onInvoke(fn, performance.now() - started);
    }
  }

  /** The function whose handler is `entry` (e.g. `tasks/lifecycle/sweep.ts`). */
  functionByEntry(entry: string): LocalFunction {
    const fn = this.functions.find((f) => f.entry === entry);
    if (!fn) throw new TemplateError(`No function in the template runs ${entry}`);
    return fn;
  }

  async stop(): Promise<void> {
    provideDynamoDbTransport(this.dynamo.endpoint, undefined);
    try {
      // An S3 that failed to start has nothing to stop; its failure was reported where it was needed.
      await this.embeddedS3?.then(
        (s3) => s3.stop(),
        () => undefined,
      );
    } finally {
      // The ledger's store must close whatever happened: a held store keeps the process alive and others out.
      await this.dynamo.stop();
    }
  }

  /** The job's machine started at another state (tests' redrive; not cached). */
  private machineFrom(job: LocalJob, from: string): StateMachine {
    const definition = withLocalExecutionText(job.definition) as { States: Record<string, unknown> };
    if (!definition.States[from]) throw new TemplateError(`Job ${job.jobId} has no state "${from}"`);
    // The states before `from` are now unreachable, which validation refuses; the definition itself is the
    // one `machine()` validates.
    return new StateMachine({ ...definition, StartAt: from } as never, {
      validationOptions: { noValidate: true },
    });
  }

  private machine(job: LocalJob): StateMachine {
    let machine = this.machines.get(job.jobId);
    if (!machine) {
      machine = new StateMachine(withLocalExecutionText(job.definition) as never, {
        validationOptions: { checkArn: true, checkPaths: true },
      });
      this.machines.set(job.jobId, machine);
    }
    return machine;
  }

  private async loadHandler(fn: LocalFunction): Promise<TaskHandler<unknown>> {
    const key = `${fn.entry}#${fn.handler}`;
    const cached = this.handlers.get(key);
    if (cached) return cached;
    // require, not import(): the project is CommonJS, and tsx / ts-jest hook require for TypeScript files.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(REPO_ROOT, fn.entry)) as Record<string, unknown>;
    const handler = mod[fn.handler] as TaskHandler<unknown> | undefined;
    if (typeof handler !== 'function' || typeof handler.forEnv !== 'function') {
      throw new TemplateError(
        `${fn.entry} must export "${fn.handler}" built with lifecycleHandler or jobStep (shared/handler.ts)`,
      );
    }
    this.handlers.set(key, handler);
    return handler;
  }

  /**
   * Deliver the status-change event to every rule target that matches, retrying a failed delivery a few times
   * (EventBridge retries for up to 24 hours; a local command cannot wait that long). Returns the error when
   * the last attempt failed; the run is then finalized by the next command's recovery pass.
   */
  private async emitStatusChange(
    job: LocalJob,
    detail: Parameters<typeof statusChangeEvent>[0],
  ): Promise<string | undefined> {
    const event = statusChangeEvent(detail);
    const undelivered: string[] = [];
    for (const logicalId of ruleTargetsFor(this.template, event)) {
      const fn = this.functions.find((f) => f.logicalId === logicalId);
      if (!fn)
        throw new TemplateError(`Rule target ${logicalId} of job ${job.jobId} is not a local function`);
      const error = await this.deliver(fn, event);
      if (error) undelivered.push(error);
    }
    return undelivered.length > 0 ? undelivered.join('; ') : undefined;
  }

  /**
   * What the ledger table's stream would carry for runs that ended: each run's final item, delivered to the
   * stream's event source mappings whose filters match (local/run-stream.ts). Returns the errors of runs
   * whose end could not be read or delivered after retries: the run itself is recorded either way, so neither
   * fails the run or the command.
   */
  private async announceEnds(runIds: readonly string[]): Promise<string | undefined> {
    if (this.runStream.length === 0) return undefined;
    const undelivered: string[] = [];
    for (const runId of new Set(runIds)) {
      let item: Record<string, AttributeValue> | undefined;
      try {
        ({ Item: item } = await this.dynamo.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: marshall(keys.run(runId)),
            ConsistentRead: true,
          }),
        ));
      } catch (error) {
        const { name, message } = describeError(error);
        undelivered.push(`${runId}: ${name}: ${message}`);
        continue;
      }
      if (!item) continue;
      const record = insertRecord(this.tableName, item);
      for (const { mapping, fn } of this.runStream) {
        if (!mappingMatches(mapping, record)) continue;
        const error = await this.deliver(fn, { Records: [record] });
        if (error) undelivered.push(`${runId}: ${error}`);
      }
    }
    return undelivered.length > 0 ? undelivered.join('; ') : undefined;
  }

  /** Invoke a rule target with retries; returns the last error when every attempt failed. */
  private async deliver(fn: LocalFunction, event: Record<string, unknown>): Promise<string | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = (await this.invoke(fn, event)) as { batchItemFailures?: unknown[] } | undefined;
        // A stream consumer reports the records it failed on instead of throwing.
        if (result?.batchItemFailures && result.batchItemFailures.length > 0) {
          const failure = new Error('the function reported the record as a batch item failure');
          failure.name = 'BatchItemFailure';
          throw failure;
        }
        return undefined;
      } catch (error) {
        const pause = this.statusEventRetryMs[attempt];
        if (pause === undefined) {
          const { name, message } = describeError(error);
          return `${name}: ${message}`;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}

/** Where local mode puts what it computes for the engine in the context object. */
const LOCAL_CONTEXT = 'StepJobsLocal';

/**
 * aws-local-stepfunctions 3.0.0 strips every backslash from an intrinsic function's string result, so its
 * `States.JsonToString` corrupts any input holding a quote, a newline or a `\u` escape. StartRun's one
 * intrinsic reads the execution's context object as text; local mode writes that text itself (exactly as
 * `JSON.stringify` gives it, as Step Functions does) into the context, and points the definition at it. The
 * workflows use no other intrinsic function.
 */
export function withLocalExecutionText(definition: Record<string, unknown>): Record<string, unknown> {
  const replace = (value: unknown): unknown => {
    if (value === EXECUTION_TEXT) return `$$.${LOCAL_CONTEXT}.ExecutionText`;
    if (Array.isArray(value)) return value.map(replace);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, replace(child)]));
    return value;
  };
  return replace(definition) as Record<string, unknown>;
}

/** Pauses between local deliveries of a status-change event, after the first. */
const STATUS_EVENT_RETRY_MS = [200, 1_000, 3_000];

/**
 * The execution input as StartExecution receives it: JSON text, at most 256 KiB, nested at most 1,000 deep.
 * Numbers kept as `JSON.rawJSON` (the CLI's lossless parse) are written with all their digits.
 */
export function executionInputText(input: unknown): string {
  const deep = pathDeeperThan(input, MAX_EXECUTION_INPUT_DEPTH);
  if (deep) {
    throw new InvalidExecutionInput(
      `The input nests objects or arrays deeper than ${MAX_EXECUTION_INPUT_DEPTH} levels (at ${fieldPath(deep)}); StartExecution refuses it`,
    );
  }
  const text = input === undefined ? '{}' : JSON.stringify(input);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_EXECUTION_INPUT_BYTES) {
    throw new InvalidExecutionInput(
      `The input is ${(bytes / 1024).toFixed(1)} KiB; StartExecution accepts at most ${MAX_EXECUTION_INPUT_BYTES / 1024} KiB`,
    );
  }
  return text;
}

/** `<prefix>-<yyyymmddThhmmss>-<8 hex>`: sortable, unique, within the 80-character execution name limit. */
export function newExecutionName(prefix: string, at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${prefix}-${stamp}-${randomUUID().slice(0, 8)}`;
}

function describeFailure(failure: unknown): { status: ExecutionStatus; error?: string; cause?: string } {
  const name = failure instanceof Error ? failure.constructor.name : '';
  if (name === 'ExecutionAbortedError') return { status: 'ABORTED' };
  if (name === 'ExecutionTimeoutError') return { status: 'TIMED_OUT', error: 'States.Timeout' };
  const err = failure as {
    name?: string;
    message?: string;
    cause?: { name?: string; message?: string; cause?: unknown };
  };
  const inner = err.cause;
  if (inner && typeof inner === 'object') {
    const innerCause = (inner as { cause?: unknown }).cause;
    return {
      status: 'FAILED',
      error: inner.name,
      cause: typeof innerCause === 'string' ? innerCause : inner.message,
    };
  }
  return { status: 'FAILED', error: err.name, cause: err.message };
}

async function pumpEvents(
  events: AsyncGenerator<NonNullable<EngineEvent>>,
  onEvent: (event: NonNullable<EngineEvent>) => void,
): Promise<void> {
  for await (const event of events) onEvent(event);
}

/** Job id -> state machine, from the stack's `Jobs` output: the same discovery the CLI uses on AWS. */
function discoverJobs(template: CfnTemplate): Map<string, LocalJob> {
  const output = template.Outputs?.[STACK_OUTPUT.JOBS];
  if (!output) throw new TemplateError(`The template has no ${STACK_OUTPUT.JOBS} output`);
  const list = JSON.parse(String(resolve(template, output.Value))) as Array<{
    id: string;
    stateMachineArn: string;
  }>;
  const machines = stateMachines(template);
  const scheduleList = schedules(template);
  return new Map(
    list.map((entry) => {
      const machine = machines.find((m) => m.arn === entry.stateMachineArn);
      if (!machine) throw new TemplateError(`Job ${entry.id}: no state machine ${entry.stateMachineArn}`);
      return [
        entry.id,
        {
          jobId: entry.id,
          stateMachineArn: machine.arn,
          stateMachineLogicalId: machine.logicalId,
          definition: machine.definition,
          schedule: scheduleList.find((s) => s.targetArn === machine.arn),
        },
      ];
    }),
  );
}

function ledgerTableName(template: CfnTemplate): string {
  const output = template.Outputs?.[STACK_OUTPUT.TABLE_NAME];
  if (!output) throw new TemplateError(`The template has no ${STACK_OUTPUT.TABLE_NAME} output`);
  return String(resolve(template, output.Value));
}

/**
 * Point the SDK at the embedded DynamoDB and every other service at a closed local port, with dummy
 * credentials, so a local run can never reach (or be billed by) real AWS.
 */
function isolateFromAws(dynamoEndpoint: string, logLevel: string): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: logLevel,
  });
  delete process.env.AWS_PROFILE;
}
