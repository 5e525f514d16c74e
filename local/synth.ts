/**
 * Synthesize the CDK app in-process for local mode: the same app `cdk synth` builds, with asset bundling
 * skipped (local mode runs the TypeScript handlers directly), and cdk-nag and CDK's template validation off
 * (the tests and `cdk synth` run both).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type BuildAppOptions } from '../stacks/build-app';
import type { CfnTemplate } from './template';

export function synthesizeTemplate(
  options: Pick<BuildAppOptions, 'jobs' | 'jobInputs' | 'context' | 'calendarDate'> = {},
): CfnTemplate {
  const outdir = mkdtempSync(path.join(tmpdir(), 'stepjobs-synth-'));
  try {
    const { app, stack } = buildApp({
      ...options,
      outdir,
      nag: false,
      cloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [], ...options.context },
    });
    return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
