/**
 * The `stepjobs` CLI: start jobs and read the audit trail, locally (default, embedded runtime) or on the
 * deployed stack (`--aws`). Bad input gets one clear line on stderr and a non-zero exit, never a stack trace.
 */
// Must stay the first import: see the module.
import '../local/process-defaults';
import { Command, CommanderError, Option } from 'commander';
import path from 'node:path';
import { jobs, MAIN_JOB_ID } from '../workflows';
import { LOCAL_DATA_DIR, LocalTarget } from './cli/local-target';
import { AwsTarget } from './cli/aws-target';
import {
  historyCommand,
  jobDefinition,
  jobsCommand,
  NO_WAIT_LOCALLY,
  pauseCommand,
  runCommand,
  showCommand,
  unlockCommand,
  type Output,
} from './cli/commands';
import { recoveryLine } from './cli/format';
import { CliError, ExitCode } from './cli/errors';
import { actionsCommand, resourceCommand } from './cli/action-commands';
import { simulatedAccountCommand } from './cli/simulated-account-command';
import { outboxCommand, parseChannel } from './cli/outbox-command';
import { noRedriveLocally, redriveCommand, rerunCommand } from './cli/rerun-command';
import { auditCommand } from './cli/audit-command';
import { localReportStore, registerReportsCommand } from './cli/reports-command';
import { jobPreview, previewCommand } from './cli/preview-command';
import {
  parseCount,
  parseLimit,
  parseRunInput,
  parseStatus,
  parseTime,
  parseDuration,
  parseReason,
  parseHolidays,
  parseWhole,
  parseTrigger,
  parseWindow,
} from './cli/parse';
import { scheduleCommand, sweepText } from './cli/schedule-command';
import { backfillCommand } from './cli/backfill-command';
import type { Target } from './cli/target';

interface GlobalOptions {
  aws?: boolean;
  stack: string;
  verbose?: boolean;
}

/** What the CLI takes from the environment, read once in {@link main} and passed down. */
interface CliSettings {
  /** Where local mode keeps its DynamoDB data (`STEPJOBS_DATA_DIR`). @default .stepjobs/dynamodb */
  dataDir: string;
  /** Print the stack trace of an unexpected error (`STEPJOBS_DEBUG`). */
  debug: boolean;
}

function readSettings(env: NodeJS.ProcessEnv): CliSettings {
  const dataDir = env.STEPJOBS_DATA_DIR?.trim();
  return {
    dataDir: dataDir ? path.resolve(dataDir) : LOCAL_DATA_DIR,
    debug: Boolean(env.STEPJOBS_DEBUG),
  };
}

/** A path relative to the working directory when it is inside it (`.stepjobs/dynamodb`), else absolute. */
function displayPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

const io: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
};

async function openTarget(global: GlobalOptions, settings: CliSettings): Promise<Target> {
  if (global.aws) return AwsTarget.open({ stackName: global.stack });
  const target = await LocalTarget.open({
    dataDir: settings.dataDir,
    logLevel: global.verbose ? 'INFO' : 'SILENT',
  });
  reportRecovery(target);
  return target;
}

/** One line on stderr when the start-up recovery repaired what an earlier, vanished process left behind. */
function reportRecovery(target: LocalTarget): void {
  const line = recoveryLine(target.recovery);
  if (line) process.stderr.write(`stepjobs: ${line}\n`);
}

function buildProgram(setExit: (code: number) => void, settings: CliSettings): Command {
  const program = new Command('stepjobs')
    .description('Run scheduled operational jobs and read their audit trail, locally or on AWS.')
    .option(
      '--aws',
      'act on the deployed stack (standard AWS env, profile and region) instead of the local runtime',
    )
    .option('--stack <name>', 'the deployed stack name (with --aws)', 'StepJobs')
    .option('-v, --verbose', "show the handlers' logs (local)")
    .exitOverride()
    .showHelpAfterError('(see stepjobs --help)')
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  STEPJOBS_DATA_DIR  where local mode keeps its DynamoDB data (default: .stepjobs/dynamodb in the project)',
        '  STEPJOBS_DEBUG     set to 1 to print the stack trace of an unexpected error',
        '  With --aws, the standard AWS settings apply (AWS_PROFILE, AWS_REGION, ...).',
      ].join('\n'),
    );
  const global = () => program.opts<GlobalOptions>();
  const withTarget = async (
    options: GlobalOptions,
    work: (target: Target) => Promise<number>,
  ): Promise<number> => {
    const target = await openTarget(options, settings);
    try {
      return await work(target);
    } finally {
      await target.close();
    }
  };
  const run = (fn: () => Promise<number>) => async () => setExit(await fn());

  program
    .command('jobs')
    .description('list every job: schedule, time zone, next fire times, paused state and last run')
    .option('--count <n>', 'how many next fire times to show', '3')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean; count: string }) =>
      run(() => {
        const count = parseCount(opts.count);
        return withTarget(global(), (t) => jobsCommand(t, jobs, io, { json: opts.json, count }));
      })(),
    );

  program
    .command('preview')
    .argument('[expression]', 'a schedule expression: rate(...), cron(...) or at(...)')
    .description(
      'when a schedule fires, in UTC and local time; slots that will not run are listed with the reason',
    )
    .option('--job <id>', "preview a job's schedule: its expression, time zone, start date and pause")
    .option('--tz <zone>', 'IANA time zone of the expression (default UTC; not with --job)')
    .option('--from <time>', 'list fires from this time on (ISO; default now)')
    .option('--count <n>', 'how many fires that run to list', '10')
    .option(
      '--holidays <CC[-SUB]>',
      'skip the public holidays of a country or subdivision (DE, DE-BY, US-CA)',
    )
    .option('--json', 'machine-readable output: {"fires":[{"time","local","skipped"?}]}')
    .action(
      async (
        expression: string | undefined,
        opts: { job?: string; tz?: string; from?: string; count: string; holidays?: string; json?: boolean },
      ) =>
        run(async () => {
          if ((expression === undefined) === (opts.job === undefined))
            throw new CliError('Give a schedule expression or --job <id>, not both');
          if (opts.job !== undefined && opts.tz !== undefined)
            throw new CliError(`--tz: a job's schedule has its own time zone; drop --tz with --job`);
          if (opts.job !== undefined && opts.holidays !== undefined)
            throw new CliError(`--holidays: a job's calendar is its own; drop --holidays with --job`);
          const options = {
            from: opts.from === undefined ? new Date() : parseTime('--from', opts.from),
            count: parseCount(opts.count),
            json: opts.json,
          };
          if (expression !== undefined) {
            const timeZone = opts.tz ?? 'UTC';
            const calendar =
              opts.holidays === undefined ? undefined : parseHolidays(opts.holidays, timeZone, options.from);
            return previewCommand(io, {
              ...options,
              expression,
              timeZone,
              ...(calendar ? { calendar, calendarLabel: `${opts.holidays} public holidays` } : {}),
            });
          }
          const job = jobs.find((j) => j.id === opts.job);
          if (!job)
            throw new CliError(`Unknown job "${opts.job}". Known jobs: ${jobs.map((j) => j.id).join(', ')}`);
          return withTarget(global(), async (t) =>
            previewCommand(io, jobPreview(job, await t.ledger.jobs.getState(job.id), options)),
          );
        })(),
    );

  program
    .command('run')
    .argument('<job>', 'job id (see stepjobs jobs)')
    .description('start a run, show live progress, then the run summary')
    .option('--input <json>', 'the run input as a JSON object')
    .option('--input-file <file>', 'read the run input from a JSON file')
    .addOption(new Option('--dry-run', 'plan only, change nothing (jobs with a dry-run mode)'))
    .addOption(new Option('--no-dry-run', 'really act (jobs with a dry-run mode)'))
    // Following is the default; --wait stays accepted (it was needed before) and changes nothing.
    .addOption(new Option('--wait', 'follow the run until it ends (the default)').hideHelp())
    .option('--no-wait', 'with --aws: return once the execution has started, printing how to follow it')
    .option('--record', "also print the run's ledger record")
    .option('--json', 'machine-readable output')
    .action(
      async (
        jobId: string,
        opts: {
          input?: string;
          inputFile?: string;
          dryRun?: boolean;
          wait?: boolean;
          record?: boolean;
          json?: boolean;
        },
      ) =>
        run(() => {
          const input = parseRunInput(opts);
          if (opts.wait === false && !global().aws) throw new CliError(NO_WAIT_LOCALLY);
          return withTarget(global(), (t) =>
            runCommand(t, jobs, io, {
              jobId,
              input,
              wait: opts.wait !== false,
              json: opts.json,
              showRecord: opts.record,
            }),
          );
        })(),
    );

  program
    .command('rerun')
    .argument('<runId>', 'the run to run again (stepjobs history <job> lists runs)')
    .description('start a new run with the same input as an earlier one (trigger "rerun", naming that run)')
    .option('--input <json>', 'a different input, as a JSON object')
    .option('--input-file <file>', 'a different input, from a JSON file')
    .option('--no-wait', 'with --aws: return once the execution has started')
    .option('--record', "also print the run's ledger record")
    .option('--json', 'machine-readable output')
    .action(
      async (
        runId: string,
        opts: { input?: string; inputFile?: string; wait?: boolean; record?: boolean; json?: boolean },
      ) =>
        run(() => {
          const given = opts.input !== undefined || opts.inputFile !== undefined;
          const input = given ? parseRunInput(opts) : undefined;
          if (opts.wait === false && !global().aws) throw new CliError(NO_WAIT_LOCALLY);
          return withTarget(global(), (t) =>
            rerunCommand(t, jobs, io, {
              runId,
              ...(input ? { input } : {}),
              wait: opts.wait !== false,
              json: opts.json,
              showRecord: opts.record,
            }),
          );
        })(),
    );

  program
    .command('redrive')
    .argument('<runId>', 'a FAILED, ABORTED or TIMED_OUT run of the last 14 days')
    .description('--aws: restart the run’s execution from the state that failed (Step Functions redrive)')
    .option('--no-wait', 'return once the redrive has started')
    .option('--record', "also print the run's ledger record")
    .option('--json', 'machine-readable output')
    .action(async (runId: string, opts: { wait?: boolean; record?: boolean; json?: boolean }) =>
      run(() => {
        if (!global().aws) throw new CliError(noRedriveLocally(runId));
        return withTarget(global(), (t) =>
          redriveCommand(t, jobs, io, {
            runId,
            wait: opts.wait !== false,
            json: opts.json,
            showRecord: opts.record,
          }),
        );
      })(),
    );

  program
    .command('history')
    .argument('<job>', 'job id')
    .description('runs of a job, newest first, from the ledger')
    .option('--status <status>', 'only runs with this status (SUCCEEDED, FAILED, SKIPPED, ...)')
    .option('--trigger <trigger>', 'only runs started by this trigger (schedule, manual, cli)')
    .option('--since <when>', 'only runs started since (30m, 12h, 7d, 2w, or an ISO date)')
    .option('--until <when>', 'only runs started before (a duration back from now, or an ISO date)')
    .option('--limit <n>', 'page size', '20')
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'machine-readable output')
    .action(
      async (
        jobId: string,
        opts: {
          status?: string;
          trigger?: string;
          since?: string;
          until?: string;
          limit: string;
          cursor?: string;
          json?: boolean;
        },
      ) =>
        run(() => {
          const parsed = {
            jobId,
            status: opts.status === undefined ? undefined : parseStatus(opts.status),
            trigger: opts.trigger === undefined ? undefined : parseTrigger(opts.trigger),
            ...parseWindow(opts),
            limit: parseLimit(opts.limit),
            cursor: opts.cursor,
            json: opts.json,
          };
          return withTarget(global(), (t) => historyCommand(t, jobs, io, parsed));
        })(),
    );

  program
    .command('audit')
    .description(
      'runs of every job, newest first: who or what triggered each, how it ended, who finalized it',
    )
    .option('--since <when>', 'only runs started since (30m, 12h, 7d, 2w, or an ISO date)')
    .option('--until <when>', 'only runs started before (a duration back from now, or an ISO date)')
    .option('--status <status>', 'only runs with this status')
    .option('--job <job>', 'only runs of this job')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'machine-readable output')
    .option('--csv', 'comma-separated values, one run per row, with a header')
    .action(
      async (opts: {
        since?: string;
        until?: string;
        status?: string;
        job?: string;
        limit: string;
        cursor?: string;
        json?: boolean;
        csv?: boolean;
      }) =>
        run(() => {
          if (opts.json && opts.csv) throw new CliError('--json and --csv cannot be used together');
          const parsed = {
            status: opts.status === undefined ? undefined : parseStatus(opts.status),
            ...parseWindow(opts),
            jobId: opts.job,
            limit: parseLimit(opts.limit),
            cursor: opts.cursor,
            format: opts.json ? ('json' as const) : opts.csv ? ('csv' as const) : ('table' as const),
          };
          return withTarget(global(), (t) => auditCommand(t, jobs, io, parsed));
        })(),
    );

  registerReportsCommand(program, {
    io,
    jobIds: jobs.map((job) => job.id),
    aws: () => (global().aws ? global().stack : undefined),
    local: (work) =>
      withTarget({ ...global(), aws: false }, async (t) => work(await localReportStore(t as LocalTarget))),
    run,
  });

  program
    .command('show')
    .argument('<runId>', 'run id (the execution name)')
    .description('one run: trigger, input, steps, durations and error')
    .option('--json', 'machine-readable output')
    .action(async (runId: string, opts: { json?: boolean }) =>
      run(() => withTarget(global(), (t) => showCommand(t, io, { runId, json: opts.json })))(),
    );

  program
    .command('pause')
    .argument('<job>', 'job id')
    .description('pause a job: scheduled runs are recorded as SKIPPED (paused), until resumed or --until')
    .requiredOption('--reason <text>', 'why (recorded with the pause, shown on every skipped run)')
    .option('--until <time>', 'resume by itself at this time (ISO)')
    .option('--for <duration>', 'resume by itself after this long (30m, 2h, 7d, 2w)')
    .option('--disable-schedule', 'with --aws: also disable the Scheduler schedule (resume enables it)')
    .action(
      async (
        jobId: string,
        opts: { reason: string; until?: string; for?: string; disableSchedule?: boolean },
      ) =>
        run(() => {
          if (opts.until !== undefined && opts.for !== undefined)
            throw new CliError('Give --until or --for, not both');
          const now = new Date();
          const until =
            opts.until !== undefined
              ? parseTime('--until', opts.until)
              : opts.for !== undefined
                ? new Date(now.getTime() + parseDuration('--for', opts.for))
                : undefined;
          const reason = parseReason('--reason', opts.reason);
          return withTarget(global(), (t) =>
            pauseCommand(t, jobs, io, {
              jobId,
              paused: true,
              reason,
              now,
              ...(until ? { until } : {}),
              ...(opts.disableSchedule ? { disableSchedule: true } : {}),
            }),
          );
        })(),
    );

  program
    .command('resume')
    .argument('<job>', 'job id')
    .description('resume a paused job')
    .option('--reason <text>', 'why (recorded with the resume)')
    .action(async (jobId: string, opts: { reason?: string }) =>
      run(() => {
        const reason = opts.reason === undefined ? undefined : parseReason('--reason', opts.reason);
        return withTarget(global(), (t) => pauseCommand(t, jobs, io, { jobId, paused: false, reason }));
      })(),
    );

  program
    .command('unlock')
    .argument('<job>', 'job id')
    .description(
      'release the job lock whoever holds it, recorded in the ledger with who and why (local or --aws)',
    )
    .requiredOption('--reason <text>', 'why the lock is released (recorded)')
    .action(async (jobId: string, opts: { reason: string }) =>
      run(() => withTarget(global(), (t) => unlockCommand(t, jobs, io, { jobId, reason: opts.reason })))(),
    );

  program
    .command('schedule')
    .description(
      'simulate the schedules locally: every slot in [--from, --to] on a simulated clock, or in real time',
    )
    .requiredOption('--local', 'simulate locally (the only mode: on AWS the Scheduler fires the jobs)')
    .option('--from <time>', 'simulated clock start (ISO time)')
    .option('--to <time>', 'simulated clock end (ISO time)')
    .option('--job <id...>', 'only these jobs')
    .option('--deliver-twice', 'deliver every slot twice, to watch the deduplication')
    .option('--drop <n>', 'drop n deliveries of the window (never delivered), to watch missed-run detection')
    .option('--seed <s>', 'which deliveries --drop drops: the same seed drops the same slots', '1')
    .action(
      async (opts: {
        from?: string;
        to?: string;
        job?: string[];
        deliverTwice?: boolean;
        drop?: string;
        seed: string;
      }) =>
        run(async () => {
          if (global().aws)
            throw new CliError(
              'schedule simulates locally; drop --aws (on AWS the Scheduler fires the jobs)',
            );
          if ((opts.from === undefined) !== (opts.to === undefined)) {
            throw new CliError('Give both --from and --to for the simulated clock, or neither for real time');
          }
          const window =
            opts.from !== undefined && opts.to !== undefined
              ? { from: parseTime('--from', opts.from), to: parseTime('--to', opts.to) }
              : undefined;
          if (window && window.to <= window.from) throw new CliError('--to must be after --from');
          if (opts.drop !== undefined && !window)
            throw new CliError('--drop: give a simulated window (--from and --to) to drop deliveries from');
          const drop = opts.drop === undefined ? undefined : parseWhole('--drop', opts.drop, 1, 100_000);
          const seed = parseWhole('--seed', opts.seed, 0, 2 ** 32 - 1);
          for (const id of opts.job ?? []) {
            if (!jobs.some((j) => j.id === id))
              throw new CliError(`Unknown job "${id}". Known jobs: ${jobs.map((j) => j.id).join(', ')}`);
          }
          return withTarget(global(), (t) =>
            scheduleCommand(t as LocalTarget, io, {
              window,
              jobIds: opts.job,
              deliverTwice: opts.deliverTwice,
              ...(drop ? { drop, seed } : {}),
            }),
          );
        })(),
    );

  program
    .command('sweep')
    .description(
      "check the jobs' slots locally: expected slots no delivery claimed become MISSED runs, caught up if the job says so",
    )
    .option('--from <time>', 'first slot time to check (ISO; default 24 hours ago)')
    .option('--to <time>', 'last slot time to check (ISO; default now)')
    .option('--job <id...>', 'only these jobs')
    .action(async (opts: { from?: string; to?: string; job?: string[] }) =>
      run(async () => {
        if (global().aws)
          throw new CliError(
            'sweep runs locally; on AWS the stack runs it every 15 minutes (see "stepjobs history <job> --status MISSED")',
          );
        const to = opts.to === undefined ? new Date() : parseTime('--to', opts.to);
        const from =
          opts.from === undefined ? new Date(to.getTime() - 86_400_000) : parseTime('--from', opts.from);
        if (to < from) throw new CliError('--to must not be before --from');
        for (const id of opts.job ?? []) jobDefinition(jobs, id);
        return withTarget(global(), async (t) => {
          const result = await (t as LocalTarget).runtime.sweep({
            from,
            to,
            ...(opts.job ? { jobIds: opts.job } : {}),
          });
          io.out(sweepText(result));
          return ExitCode.OK;
        });
      })(),
    );

  program
    .command('backfill')
    .argument('<job>', 'job id')
    .description(
      'run a job once for each expected slot in [--from, --to] (calendar-aware); slots that already ran are reported, not run again',
    )
    .requiredOption('--from <time>', 'first slot (ISO time)')
    .requiredOption('--to <time>', 'last slot (ISO time, included)')
    .option('--dry-run', 'list the slots and what would happen; start nothing')
    .option('--concurrency <n>', 'runs at a time (more than 1 only for jobs with overlap: allow)', '1')
    .option('--input <json>', "merged over the schedule's input for every run")
    .option('--json', 'machine-readable output')
    .action(
      async (
        jobId: string,
        opts: {
          from: string;
          to: string;
          dryRun?: boolean;
          concurrency: string;
          input?: string;
          json?: boolean;
        },
      ) =>
        run(async () => {
          const job = jobDefinition(jobs, jobId);
          const from = parseTime('--from', opts.from);
          const to = parseTime('--to', opts.to);
          const concurrency = parseWhole('--concurrency', opts.concurrency, 1, 100);
          const input = opts.input === undefined ? undefined : parseRunInput({ input: opts.input });
          return withTarget(global(), (t) =>
            backfillCommand(t, job, io, {
              from,
              to,
              concurrency,
              ...(opts.dryRun ? { dryRun: true } : {}),
              ...(input ? { input } : {}),
              ...(opts.json ? { json: true } : {}),
            }),
          );
        })(),
    );

  program
    .command('actions')
    .argument('<runId>', 'run id')
    .description('every action a run planned or took: resource, action, outcome, reason, estimated saving')
    .option(
      '--outcome <outcome>',
      'only this outcome (PLANNED, DONE, MARKED, CANCELLED, ALREADY_GONE, FAILED)',
    )
    .option('--json', 'machine-readable output')
    .action(async (runId: string, opts: { outcome?: string; json?: boolean }) =>
      run(() => withTarget(global(), (t) => actionsCommand(t, io, { runId, ...opts })))(),
    );

  program
    .command('resource')
    .argument('<id>', 'resource id (vol-…, i-…, snap-…, eipalloc-…, or a log group name)')
    .description('every action on one resource across runs, newest first')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (resourceId: string, opts: { limit: string; json?: boolean }) =>
      run(() => {
        const limit = parseLimit(opts.limit);
        return withTarget(global(), (t) => resourceCommand(t, io, { resourceId, limit, json: opts.json }));
      })(),
    );

  program
    .command('simulated-account')
    .description('local only: list the simulated account the release job acts on (--reset seeds it again)')
    .option('--reset', 'drop the simulated inventory and seed it again')
    .option('--json', 'machine-readable output')
    .action(async (opts: { reset?: boolean; json?: boolean }) =>
      run(async () => {
        if (global().aws) throw new CliError('simulated-account is local only; drop --aws');
        const target = await LocalTarget.open({
          dataDir: settings.dataDir,
          logLevel: 'SILENT',
          simulatedAccount: { reset: Boolean(opts.reset) },
        });
        reportRecovery(target);
        try {
          return await simulatedAccountCommand(target, io, { json: opts.json, reset: opts.reset });
        } finally {
          await target.close();
        }
      })(),
    );

  program
    .command('outbox')
    .description(
      'local only: what the run notifier would have sent (topic messages, bus events, Slack posts)',
    )
    .option('--limit <n>', 'how many messages, newest first', '20')
    .option('--run <runId>', 'only the messages about this run')
    .option('--channel <channel>', 'only topic, events or slack')
    .option('--full', 'print each whole message (email text, chat notification, event detail)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { limit: string; run?: string; channel?: string; full?: boolean; json?: boolean }) =>
      run(async () => {
        if (global().aws)
          throw new CliError(
            'outbox is local only; drop --aws (on AWS the messages went to SNS and EventBridge)',
          );
        const limit = parseLimit(opts.limit);
        const channel = opts.channel === undefined ? undefined : parseChannel(opts.channel);
        return withTarget({ ...global(), aws: false }, (t) =>
          outboxCommand(t as LocalTarget, io, {
            limit,
            ...(opts.run ? { runId: opts.run } : {}),
            ...(channel ? { channel } : {}),
            full: opts.full,
            json: opts.json,
          }),
        );
      })(),
    );

  program
    .command('start')
    .description(`run the main job (${MAIN_JOB_ID}) locally and print the run summary and its ledger record`)
    .action(async () =>
      run(async () => {
        io.out(
          `stepjobs local mode: embedded Step Functions engine + embedded DynamoDB (data in ${displayPath(settings.dataDir)}). No AWS is called.\n`,
        );
        const code = await withTarget({ ...global(), aws: false }, (t) =>
          runCommand(t, jobs, io, { jobId: MAIN_JOB_ID, input: {}, wait: true, showRecord: true }),
        );
        io.out(
          [
            '',
            'Next:',
            `  npx stepjobs run ${MAIN_JOB_ID} --no-dry-run   apply it to the simulated account`,
            '  npm start                                              look again: marked ones are in grace, released ones gone',
            `  npx stepjobs actions <runId>   ·   npx stepjobs resource <id>   ·   npx stepjobs history ${MAIN_JOB_ID}`,
            '  npx stepjobs simulated-account --reset                 start the simulated account over',
          ].join('\n'),
        );
        return code;
      })(),
    );
  return program;
}

/** Run the CLI; resolves to the exit code. The environment is read here, once (tests pass their own). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const settings = readSettings(env);
  let exitCode: number = ExitCode.OK;
  const program = buildProgram((code) => (exitCode = code), settings);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or the help / version, which exit 0).
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    return reportError(error, settings.debug);
  }
}

/** Errors that mean "what you asked for is wrong": one line, exit 2. */
const USAGE_ERRORS = new Set([
  'UnknownJob',
  'InvalidInput',
  'InvalidExecutionInput',
  'TemplateError',
  'JobDefinitionError',
  'AppConfigError',
  'ConfigError',
  'RunNotFound',
  'InvalidCursor',
  // A data directory left by another version: say what to do, in one line.
  'TableLayoutMismatch',
]);

/**
 * Known failures print one line with their own exit code; anything else prints its name and message as one
 * line, exit 70, and a stack only on request.
 */
export function reportError(error: unknown, debug: boolean): number {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err instanceof CliError) {
    process.stderr.write(`stepjobs: ${err.message}\n`);
    return err.exitCode;
  }
  if (USAGE_ERRORS.has(err.name)) {
    process.stderr.write(`stepjobs: ${err.message}\n`);
    return ExitCode.USAGE;
  }
  if (err.name === 'LedgerUnavailable') {
    process.stderr.write(`stepjobs: ${err.message}; nothing was lost, try again\n`);
    return ExitCode.UNAVAILABLE;
  }
  process.stderr.write(`stepjobs: unexpected ${err.name}: ${firstLine(err.message)}\n`);
  if (debug) process.stderr.write(`${err.stack ?? ''}\n`);
  else process.stderr.write('(set STEPJOBS_DEBUG=1 for the stack trace)\n');
  return ExitCode.INTERNAL;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** How long a finished command waits for its output to drain before it exits anyway. */
const EXIT_GRACE_MS = 3_000;

/**
 * Run as the `stepjobs` process. When the reader of stdout goes away (`stepjobs history x | head`), the rest
 * of the output is dropped and the command finishes, so a run still ends and is recorded; without this, Node
 * crashes with an EPIPE stack trace, possibly halfway through a run. An error nothing else caught (a library's
 * stray rejection) is reported like any unexpected error: one line and exit 70, never a stack trace.
 */
export function runAsProcess(argv: readonly string[]): void {
  const debug = Boolean(process.env.STEPJOBS_DEBUG);
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
  const fatal = (error: unknown) => {
    process.exitCode = reportError(error, debug);
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  void main(argv).then((code) => {
    process.exitCode = code;
    // Everything was closed; should anything still hold the event loop, the command ends all the same
    // (STEPJOBS_DEBUG names what held it: a handle some code opened and did not close).
    setTimeout(() => {
      if (debug)
        process.stderr.write(
          `stepjobs: exiting with ${process.getActiveResourcesInfo().join(', ')} still open\n`,
        );
      process.exit();
    }, EXIT_GRACE_MS).unref();
  }, fatal);
}

if (require.main === module) runAsProcess(process.argv.slice(2));
