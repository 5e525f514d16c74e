import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { TaskFunction, type TaskFunctionDefaults } from './task-function';

export interface LifecycleFunctionsProps {
  readonly defaults: TaskFunctionDefaults;
}

/** How long a lifecycle handler may take: a few conditional writes to the ledger, with SDK retries. */
export const LIFECYCLE_TIMEOUT = Duration.seconds(30);

/**
 * The run lifecycle's functions, one of each for all jobs: every job's StartRun, FinishRun and FailRun states
 * invoke these, and the job's own settings travel in the payload.
 */
export class LifecycleFunctions extends Construct {
  readonly startRun: lambda.IFunction;
  readonly finishRun: lambda.IFunction;
  readonly failRun: lambda.IFunction;

  constructor(scope: Construct, id: string, props: LifecycleFunctionsProps) {
    super(scope, id);
    const make = (name: string, entry: string) =>
      new TaskFunction(this, name, { defaults: props.defaults, entry, timeout: LIFECYCLE_TIMEOUT }).fn;
    this.startRun = make('StartRun', 'tasks/lifecycle/start-run.ts');
    this.finishRun = make('FinishRun', 'tasks/lifecycle/finish-run.ts');
    this.failRun = make('FailRun', 'tasks/lifecycle/fail-run.ts');
  }
}
