/**
 * Builds the CDK app: `stacks/app.ts` for the CLI, and tests and the local runtime to synthesize in-process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type * as z from '../shared/zod';
import { jobInputs as registeredJobInputs } from '../tasks/lifecycle/job-inputs';
import { jobs as allJobs } from '../workflows';
import type { JobDefinition } from '../workflows/job-definition';
import { APP_CONFIG_CONTEXT_KEY, parseAppConfig, type AppConfig } from './app-config';
import { REPO_ROOT } from './constructs/task-function';
import { StepJobsStack } from './stepjobs-stack';

export interface BuildAppOptions {
  /**
   * Context that wins over cdk.json and the CLI, e.g. `{ 'aws:cdk:bundling-stacks': [] }` to skip bundling, or
   * a `stepjobs` object to replace the app config.
   * @default none
   */
  readonly context?: Record<string, unknown>;
  /** Where to write the cloud assembly. @default the CLI's output directory, or a temporary one */
  readonly outdir?: string;
  /** @default every job in workflows/index.ts */
  readonly jobs?: readonly JobDefinition[];
  /** @default the schemas in tasks/lifecycle/job-inputs.ts */
  readonly jobInputs?: Readonly<Record<string, z.ZodMiniType>>;
  /** Run the cdk-nag AwsSolutions and Serverless checks when the app is synthesized. @default true */
  readonly nag?: boolean;
  /**
   * Run CDK's built-in CloudFormation template validation at synth (about 1.5 s here). Local mode turns it
   * off: it runs the template, and `cdk synth` and the tests validate it. @default true
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * The day calendars are resolved from: holidays of its year and the `holidayYears` after it go into the
   * template. Tests and the docs' picture fix it, so their templates do not change with the year.
   * @default today
   */
  readonly calendarDate?: Date;
}

export interface BuiltApp {
  readonly app: App;
  readonly stack: StepJobsStack;
  readonly config: AppConfig;
}

/** cdk.json's context. The CLI passes it in; an in-process synth has to read it itself. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: object;
  };
  return { ...cdkJson.context };
}

export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const app = new App({
    context: cdkJsonContext(),
    postCliContext: options.context,
    outdir: options.outdir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
  });
  // Read once, here; constructs get what they need as props.
  const config = parseAppConfig(app.node.tryGetContext(APP_CONFIG_CONTEXT_KEY));
  const stack = new StepJobsStack(app, config.stackName, {
    description:
      'stepjobs: scheduled operational jobs (Step Functions, EventBridge Scheduler, DynamoDB run ledger)',
    config,
    jobs: options.jobs ?? allJobs,
    jobInputs: options.jobInputs ?? registeredJobInputs,
    ...(options.calendarDate ? { calendarDate: options.calendarDate } : {}),
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  }
  return { app, stack, config };
}
