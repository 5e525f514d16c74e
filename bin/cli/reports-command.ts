/**
 * `stepjobs reports`: the reports jobs wrote to the app's report bucket (the audit digest's JSON and CSV),
 * newest first, and `--show <key>` to print one. Locally they are in the embedded S3 (`<dataDir>-s3`); with
 * `--aws` in the deployed bucket the stack's `ReportBucketName` output names.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { STACK_OUTPUT } from '../../shared/constants';
import { resolve } from '../../local/template';
import { explainAwsError, stackOutputs } from './aws-target';
import { CliError, ExitCode } from './errors';
import { shortTime, table } from './format';
import type { LocalTarget } from './local-target';
import type { Output } from './output';
import { parseLimit } from './parse';

/** One report as a listing shows it. */
interface ReportObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** Where reports are read from: one bucket, locally or on AWS. */
export interface ReportStore {
  /** Says where, for messages: `s3://<bucket>` or the embedded S3's directory. */
  readonly where: string;
  /** Every report whose key starts with `prefix`, in key order (ListObjectsV2, page by page). */
  list(prefix: string): Promise<ReportObject[]>;
  /** One report's text; {@link CliError} when there is none by that key. */
  get(key: string): Promise<string>;
}

/** A {@link ReportStore} over `bucket` through `client`. */
function s3ReportStore(
  client: S3Client,
  bucket: string,
  where: string,
  explain: (error: unknown, action: string) => Error = (error) => error as Error,
): ReportStore {
  return {
    where,
    async list(prefix) {
      const found: ReportObject[] = [];
      let token: string | undefined;
      do {
        let res;
        try {
          res = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              ...(prefix ? { Prefix: prefix } : {}),
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
        } catch (error) {
          throw explain(error, 's3:ListBucket');
        }
        for (const object of res.Contents ?? []) {
          if (!object.Key) continue;
          found.push({
            key: object.Key,
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
          });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return found;
    },
    async get(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await res.Body?.transformToString('utf-8')) ?? '';
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'NoSuchKey' || name === 'NotFound')
          throw new CliError(`No report "${key}" in ${where}; list them with "stepjobs reports"`);
        throw explain(error, 's3:GetObject');
      }
    },
  };
}

/** The local runtime's report bucket in its embedded S3. */
export async function localReportStore(target: LocalTarget): Promise<ReportStore> {
  const { template } = target.runtime;
  const output = template.Outputs?.[STACK_OUTPUT.REPORT_BUCKET];
  if (!output) throw new CliError('No job of this app writes reports (the template has no report bucket)');
  const bucket = String(resolve(template, output.Value));
  const s3 = await target.runtime.s3();
  return s3ReportStore(s3.client, bucket, `the embedded S3 (${s3.directory}, bucket ${bucket})`);
}

/** The deployed stack's report bucket, from its `ReportBucketName` output. */
export async function awsReportStore(options: {
  stackName: string;
  clients?: { cloudFormation?: CloudFormationClient; s3?: S3Client };
}): Promise<ReportStore> {
  const { stackName } = options;
  const outputs = await stackOutputs(
    options.clients?.cloudFormation ?? new CloudFormationClient({}),
    stackName,
  );
  const bucket = outputs[STACK_OUTPUT.REPORT_BUCKET];
  if (!bucket) {
    throw new CliError(
      `Stack "${stackName}" has no ${STACK_OUTPUT.REPORT_BUCKET} output: deploy a version with the audit-digest job`,
    );
  }
  return s3ReportStore(options.clients?.s3 ?? new S3Client({}), bucket, `s3://${bucket}`, (error, action) =>
    explainAwsError(error, stackName, action),
  );
}

export interface ReportsOptions {
  /** Only the reports of this job (the first segment of their keys). */
  jobId?: string;
  limit: number;
  json?: boolean;
}

/**
 * List the reports, newest first: a run's files (`<runId>.json`, `<runId>.csv`) stay together, ordered by the
 * newest of them (the two are written within a moment, sometimes across a second of the store's clock), the
 * JSON first.
 */
export async function reportsCommand(
  store: ReportStore,
  io: Output,
  options: ReportsOptions,
): Promise<number> {
  const all = await store.list(options.jobId ? `${options.jobId}/` : '');
  const stem = (key: string) => key.replace(/\.[^./]+$/, '');
  const newestOfStem = new Map<string, number>();
  for (const r of all)
    newestOfStem.set(stem(r.key), Math.max(newestOfStem.get(stem(r.key)) ?? 0, r.lastModified.getTime()));
  const time = (key: string) => newestOfStem.get(stem(key)) ?? 0;
  const newest = all
    .sort(
      (a, b) =>
        time(b.key) - time(a.key) ||
        (stem(a.key) === stem(b.key) ? 0 : stem(a.key) < stem(b.key) ? 1 : -1) ||
        (a.key < b.key ? 1 : -1),
    )
    .slice(0, options.limit);
  if (options.json) {
    io.out(
      JSON.stringify(
        newest.map((r) => ({ key: r.key, size: r.size, lastModified: r.lastModified.toISOString() })),
        null,
        2,
      ),
    );
    return ExitCode.OK;
  }
  if (newest.length === 0) {
    io.out(`No reports${options.jobId ? ` of job ${options.jobId}` : ''} in ${store.where}.`);
    return ExitCode.OK;
  }
  io.out(`Reports in ${store.where}, newest first: ${newest.length} of ${all.length}`);
  io.out(
    table(
      ['key', 'size', 'written (UTC)'],
      newest.map((r) => [r.key, bytes(r.size), shortTime(r.lastModified.toISOString())]),
    ),
  );
  io.out('One report: stepjobs reports --show <key>');
  return ExitCode.OK;
}

/** Print one report: JSON pretty-printed, anything else (the CSV) as it is. */
export async function showReportCommand(store: ReportStore, io: Output, key: string): Promise<number> {
  const text = await store.get(key);
  if (!key.endsWith('.json')) {
    io.out(text.replace(/\n$/, ''));
    return ExitCode.OK;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(
      `Report "${key}" is not valid JSON; its first bytes: ${text.slice(0, 80)}`,
      ExitCode.INTERNAL,
    );
  }
  io.out(JSON.stringify(parsed, null, 2));
  return ExitCode.OK;
}

function bytes(size: number): string {
  return size < 1024 ? `${size} B` : `${(size / 1024).toFixed(1)} KiB`;
}

/** What `stepjobs reports` needs from the program that registers it. */
export interface ReportsCommandContext {
  io: Output;
  /** The app's job ids, to check `--job`. */
  jobIds: readonly string[];
  /** The stack name when `--aws` is given; undefined locally. */
  aws(): string | undefined;
  /** Run `work` on the local runtime's report store, opening and closing the runtime around it. */
  local(work: (store: ReportStore) => Promise<number>): Promise<number>;
  /** Wrap an action: its result is the process's exit code, its CliError one line on stderr. */
  run(fn: () => Promise<number>): () => Promise<void>;
}

/** Register `reports` on the program (options beside their action, as commander's examples keep them). */
export function registerReportsCommand(program: Command, ctx: ReportsCommandContext): void {
  program
    .command('reports')
    .description('the reports jobs wrote (the audit digest), newest first; --show <key> prints one')
    .option('--job <id>', 'only the reports this job wrote')
    .option('--limit <n>', 'how many, newest first', '20')
    .option('--show <key>', 'print one report: the JSON pretty-printed, or the CSV')
    .option('--json', 'machine-readable listing: [{"key","size","lastModified"}]')
    .action(async (opts: { job?: string; limit: string; show?: string; json?: boolean }, command: Command) =>
      ctx.run(async () => {
        const limitGiven = command.getOptionValueSource('limit') === 'cli';
        if (opts.show !== undefined && (opts.job !== undefined || limitGiven || opts.json))
          throw new CliError('--show prints one report by its key: drop --job, --limit and --json');
        if (opts.show !== undefined && opts.show.trim() === '')
          throw new CliError('--show needs a report key (see stepjobs reports)');
        if (opts.job !== undefined && !ctx.jobIds.includes(opts.job))
          throw new CliError(`Unknown job "${opts.job}". Known jobs: ${ctx.jobIds.join(', ')}`);
        const limit = parseLimit(opts.limit);
        const work = (store: ReportStore) =>
          opts.show !== undefined
            ? showReportCommand(store, ctx.io, opts.show)
            : reportsCommand(store, ctx.io, {
                limit,
                ...(opts.job ? { jobId: opts.job } : {}),
                json: opts.json,
              });
        const stackName = ctx.aws();
        return stackName === undefined ? ctx.local(work) : work(await awsReportStore({ stackName }));
      })(),
    );
}
