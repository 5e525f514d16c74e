/**
 * cfn-lint (AWS's CloudFormation linter, which also checks the state machine definitions) over the template
 * `cdk synth` writes, with the repository's .cfnlintrc.yaml: no error and no warning, apart from the checks
 * that file turns off, each with its reason there.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../stacks/constructs/task-function';
import { buildApp } from '../../stacks/build-app';

test('cfn-lint finds nothing in the synthesized template', () => {
  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  expect(version.status === 0 ? 'installed' : 'cfn-lint is not on the PATH').toBe('installed');
  const outdir = mkdtempSync(path.join(tmpdir(), 'stepjobs-cfn-lint-'));
  try {
    const { app, stack } = buildApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const template = path.join(outdir, app.synth().getStackArtifact(stack.artifactId).templateFile);
    const run = spawnSync(
      'cfn-lint',
      ['--config-file', path.join(REPO_ROOT, '.cfnlintrc.yaml'), '--', template],
      {
        encoding: 'utf8',
      },
    );
    expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: '' });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
