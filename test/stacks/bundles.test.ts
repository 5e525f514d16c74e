/**
 * The artifacts that deploy: synthesize with real esbuild bundling (no Docker), then load every bundled handler
 * and run the heartbeat bundle itself against the embedded DynamoDB. This catches what the in-process tests
 * cannot: a bundling setting that breaks a handler, a dependency left out, or the bundle size creeping back.
 */
import '../helpers/quiet';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TaskHandler } from '../../shared/handler';
import { buildApp } from '../../stacks/build-app';
import { REPO_ROOT } from '../../stacks/constructs/task-function';
import { Ledger } from '../../shared/ledger/ledger';
import { runRef, runningRecord } from '../helpers/builders';
import { useEmbeddedLedger } from '../helpers/ledger';
import { HEARTBEAT_APP_ENTRIES } from './synth';

const db = useEmbeddedLedger();
// Inside the repository (cdk.out is git-ignored): the bundles leave the AWS SDK to the Lambda runtime, and here
// `require` must find it in the project's node_modules.
const cdkOut = path.join(REPO_ROOT, 'cdk.out');
mkdirSync(cdkOut, { recursive: true });
const outdir = mkdtempSync(path.join(cdkOut, 'test-bundles-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

interface Bundle {
  entry: string;
  file: string;
}

/** Every task function's bundled index.js, by its handler entry. */
function bundles(): Bundle[] {
  const { app, stack } = buildApp({ outdir, nag: false });
  const artifact = app.synth().getStackArtifact(stack.artifactId);
  const assets = JSON.parse(readFileSync(path.join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string } }>;
  };
  const resources = (
    artifact.template as {
      Resources: Record<
        string,
        { Type: string; Properties: { Code?: { S3Key?: string } }; Metadata?: Record<string, string> }
      >;
    }
  ).Resources;
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['stepjobs:entry'])
    .map((r) => {
      const hash = String(r.Properties.Code?.S3Key).replace(/\.zip$/, '');
      const asset = assets.files[hash];
      if (!asset) throw new Error(`No asset ${hash} for ${r.Metadata?.['stepjobs:entry']}`);
      return {
        entry: String(r.Metadata?.['stepjobs:entry']),
        file: path.join(outdir, asset.source.path, 'index.js'),
      };
    });
}

const built = bundles();

test('every task function is bundled, with every job and lifecycle handler', () => {
  expect(built.map((b) => b.entry).sort()).toEqual(
    [
      ...HEARTBEAT_APP_ENTRIES,
      'tasks/audit-digest/digest.ts',
      'tasks/release/apply-batch.ts',
      'tasks/release/plan.ts',
      'tasks/release/report.ts',
    ].sort(),
  );
});

/** Strings only local mode's simulated account has (its error text, table and middleware names, its seed). */
const SIMULATED_ACCOUNT_MARKERS = [
  'does not implement',
  'StepJobsSimulatedAccount',
  'stepjobsSimulatedAccount',
  'load-test-runner',
  'vanishOnApply',
];
/** Strings only local mode's embedded S3 has (s3rver's file names, its module). */
const EMBEDDED_S3_MARKERS = ['_S3rver_', 's3rver'];

test.each(built.map((b) => [b.entry, b.file]))(
  '%s bundles into a loadable handler within the 150 KB budget, with no local-mode code',
  (_entry, file) => {
    // zod/mini, tracing without the X-Ray SDK and the SDK left to the runtime (bench/bundles.ts measures it).
    expect(statSync(file).size).toBeLessThanOrEqual(150 * 1000);
    const text = readFileSync(file, 'utf8');
    for (const marker of [...SIMULATED_ACCOUNT_MARKERS, ...EMBEDDED_S3_MARKERS])
      expect({ marker, found: text.includes(marker) }).toEqual({ marker, found: false });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as { handler?: TaskHandler<unknown> };
    expect(typeof mod.handler).toBe('function');
    expect(typeof mod.handler?.forEnv).toBe('function');
  },
);

test('the bundled heartbeat handler runs and records its step in DynamoDB', async () => {
  const file = built.find((b) => b.entry === 'tasks/heartbeat/heartbeat.ts')?.file ?? '';
  const tableName = await db.freshTable();
  const ledger = Ledger.fromClient(db.client(), tableName);
  const run = runRef({ runId: 'bundle-run-1', jobId: 'heartbeat' });
  await ledger.runs.create(runningRecord({ runId: run.runId, jobId: 'heartbeat' }));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(file) as { handler: TaskHandler<{ message: string; triggerType: string }> };
  const output = await handler.forEnv({ LEDGER_TABLE_NAME: tableName })({
    run,
    step: { name: 'Heartbeat' },
    data: { input: { message: 'from the bundle' }, results: {} },
  });
  expect(output).toMatchObject({ message: 'from the bundle', triggerType: run.trigger.type });
  const { steps } = await ledger.runs.detail(run.runId);
  expect(steps).toEqual([expect.objectContaining({ name: 'Heartbeat', status: 'SUCCEEDED', attempts: 1 })]);
});
