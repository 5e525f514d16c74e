/**
 * `stepjobs reports` against the deployed bucket (`--aws`) at the SDK level: the bucket comes from the stack's
 * output, the listing follows ListObjectsV2's continuation tokens and is sorted newest first, `--show` prints
 * one object; and the usage errors, which are refused before anything is opened.
 */
import '../helpers/quiet';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { CliError } from '../../bin/cli/errors';
import type { Output } from '../../bin/cli/output';
import { awsReportStore, reportsCommand, showReportCommand } from '../../bin/cli/reports-command';
import { awsError, TEST_CLIENT_CONFIG } from '../helpers/aws';
import { expectOneLineUsageError, runCli } from '../helpers/cli';

const STACK = 'StepJobs';
const BUCKET = 'stepjobs-auditdigestjobreportsbucket-abc123';

/** Real clients with mocks (each test its own), and the stack deployed with a report bucket unless told not. */
function mocked(outputs = [{ OutputKey: 'ReportBucketName', OutputValue: BUCKET }]) {
  const clients = {
    cloudFormation: new CloudFormationClient(TEST_CLIENT_CONFIG),
    s3: new S3Client(TEST_CLIENT_CONFIG),
  };
  const cfn = mockClient(clients.cloudFormation);
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      { StackName: STACK, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: outputs },
    ],
  });
  return { clients, cfn, s3: mockClient(clients.s3) };
}

function captured(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (text) => lines.push(text), note: () => undefined };
}

const object = (Key: string, at: string, Size = 100) => ({ Key, Size, LastModified: new Date(at) });

describe('reports --aws', () => {
  it('lists the bucket of the stack output page by page, newest first, up to the limit', async () => {
    const { clients, s3 } = mocked();
    const pages = {
      first: {
        IsTruncated: true,
        NextContinuationToken: 'page-2',
        Contents: [
          object('audit-digest/2027/01/09/run-a.csv', '2027-01-09T05:00:03Z', 900),
          object('audit-digest/2027/01/09/run-a.json', '2027-01-09T05:00:03Z', 6000),
        ],
      },
      second: {
        IsTruncated: false,
        Contents: [
          object('audit-digest/2027/01/10/run-b.csv', '2027-01-10T05:00:02Z', 910),
          object('audit-digest/2027/01/10/run-b.json', '2027-01-10T05:00:02Z', 6100),
        ],
      },
    };
    s3.on(ListObjectsV2Command).resolves(pages.first);
    s3.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves(pages.second);
    const store = await awsReportStore({ stackName: STACK, clients });
    const io = captured();
    await reportsCommand(store, io, { jobId: 'audit-digest', limit: 3, json: true });
    expect(JSON.parse(io.lines.join('\n'))).toEqual([
      { key: 'audit-digest/2027/01/10/run-b.json', size: 6100, lastModified: '2027-01-10T05:00:02.000Z' },
      { key: 'audit-digest/2027/01/10/run-b.csv', size: 910, lastModified: '2027-01-10T05:00:02.000Z' },
      { key: 'audit-digest/2027/01/09/run-a.json', size: 6000, lastModified: '2027-01-09T05:00:03.000Z' },
    ]);
    const calls = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(calls.slice(0, 2)).toEqual([
      { Bucket: BUCKET, Prefix: 'audit-digest/' },
      { Bucket: BUCKET, Prefix: 'audit-digest/', ContinuationToken: 'page-2' },
    ]);

    const table = captured();
    await reportsCommand(store, table, { limit: 20 });
    expect(table.lines[0]).toBe(`Reports in s3://${BUCKET}, newest first: 4 of 4`);
    expect(table.lines[1]).toMatch(
      /audit-digest\/2027\/01\/10\/run-b\.json +│ 6\.0 KiB +│ 2027-01-10 05:00:02Z/,
    );
  });

  it('says so when there is no report', async () => {
    const { clients, s3 } = mocked();
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });
    const io = captured();
    await reportsCommand(await awsReportStore({ stackName: STACK, clients }), io, { limit: 20 });
    expect(io.lines).toEqual([`No reports in s3://${BUCKET}.`]);
  });

  it('--show prints a JSON report pretty-printed and a CSV as it is', async () => {
    const { clients, s3 } = mocked();
    const body = (text: string) => ({ Body: { transformToString: async () => text } as never });
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'audit-digest/x.json' }).resolves(
      body('{"kind":"k","n":[1]}'),
    );
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'audit-digest/x.csv' }).resolves(body('a,b\n1,2\n'));
    const store = await awsReportStore({ stackName: STACK, clients });
    const json = captured();
    await showReportCommand(store, json, 'audit-digest/x.json');
    expect(json.lines).toEqual([JSON.stringify({ kind: 'k', n: [1] }, null, 2)]);
    const csv = captured();
    await showReportCommand(store, csv, 'audit-digest/x.csv');
    expect(csv.lines).toEqual(['a,b\n1,2']);
  });

  it('names a missing key, a stack without the output, and a refused call in one line each', async () => {
    const { clients, s3 } = mocked();
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 'The specified key does not exist.'));
    s3.on(ListObjectsV2Command).rejects(awsError('AccessDenied', 'not allowed'));
    const store = await awsReportStore({ stackName: STACK, clients });
    await expect(showReportCommand(store, captured(), 'audit-digest/nope.json')).rejects.toThrow(
      new CliError(`No report "audit-digest/nope.json" in s3://${BUCKET}; list them with "stepjobs reports"`),
    );
    await expect(reportsCommand(store, captured(), { limit: 5 })).rejects.toThrow(
      /AWS refused s3:ListBucket \(AccessDenied\)/,
    );
    const bare = mocked([]);
    await expect(awsReportStore({ stackName: STACK, clients: bare.clients })).rejects.toThrow(
      /Stack "StepJobs" has no ReportBucketName output/,
    );
    const missing = mocked();
    missing.cfn
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id Nope does not exist'));
    await expect(awsReportStore({ stackName: 'Nope', clients: missing.clients })).rejects.toThrow(
      /No deployed stack "Nope"/,
    );
  });
});

describe('reports usage errors (one line, exit 2, nothing opened)', () => {
  it.each([
    [['reports', '--limit', 'lots'], /--limit "lots" must be a whole number from 1 to 1000/],
    [['reports', '--job', 'nope'], /Unknown job "nope"\. Known jobs: .*audit-digest/],
    [['reports', '--show', 'a.json', '--job', 'audit-digest'], /--show prints one report by its key/],
    [['reports', '--show', 'a.json', '--limit', '3'], /--show prints one report by its key/],
    [['reports', '--show', ' '], /--show needs a report key/],
    [['reports', '--bogus'], /unknown option '--bogus'/],
  ])('%j', async (args, message) => {
    expectOneLineUsageError(await runCli(args), message);
  });
});

test('a run’s two files stay together, JSON first, even when the store’s clock ticked between them', async () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 6, 0, s));
  const objects = [
    { key: 'audit-digest/2026/12/06/sched-a.csv', size: 1, lastModified: at(1) },
    { key: 'audit-digest/2026/12/06/sched-a.json', size: 1, lastModified: at(0) },
    { key: 'audit-digest/2026/12/07/sched-b.json', size: 1, lastModified: at(30) },
    { key: 'audit-digest/2026/12/07/sched-b.csv', size: 1, lastModified: at(31) },
  ];
  const out: string[] = [];
  await reportsCommand(
    { where: 'test', list: async () => [...objects], get: async () => '' },
    { out: (t) => out.push(t), note: () => undefined },
    { limit: 10, json: true },
  );
  expect((JSON.parse(out.join('')) as Array<{ key: string }>).map((r) => r.key)).toEqual([
    'audit-digest/2026/12/07/sched-b.json',
    'audit-digest/2026/12/07/sched-b.csv',
    'audit-digest/2026/12/06/sched-a.json',
    'audit-digest/2026/12/06/sched-a.csv',
  ]);
});
