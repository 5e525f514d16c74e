import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config';
import type { LogLevel } from '../app-config';
import { acknowledgeGrantWildcards, STAR_RESOURCE_FINDING } from '../nag';

/** The repository root: entries are relative to it, and it is the esbuild project root. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** CloudFormation metadata keys the local runtime reads to run a function's handler in-process. */
export const FUNCTION_METADATA = {
  ENTRY: 'stepjobs:entry',
  HANDLER: 'stepjobs:handler',
} as const;

/**
 * How every task is bundled (esbuild through NodejsFunction; bench/bundles.ts builds with the same settings).
 * The AWS SDK v3 is left to the Lambda runtime, which ships it: bundling it would add about 0.5 MB per
 * function. Packages' ES module builds come first, so esbuild can tree-shake them.
 */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  // Line mappings are enough for stack traces; embedding the sources would only grow the bundle.
  sourcesContent: false,
  target: 'node24',
  externalModules: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
} as const;

/** The exported name every handler file uses (see shared/handler.ts). */
const HANDLER_EXPORT = 'handler';

/** Settings every task function of the app shares; built once from the app config. */
export interface TaskFunctionDefaults {
  /** POWERTOOLS_SERVICE_NAME. */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE. */
  readonly metricsNamespace: string;
  /** Powertools log level, and Lambda's application log level so the two filter alike. */
  readonly logLevel: LogLevel;
  readonly logRetention: logs.RetentionDays;
  /** The customer-managed key every log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /** The run ledger; every function may read and write it. */
  readonly ledgerTable: ITable;
}

export interface TaskFunctionProps {
  readonly defaults: TaskFunctionDefaults;
  /** The handler file relative to the repository root, e.g. `tasks/heartbeat/heartbeat.ts`; it exports `handler`. */
  readonly entry: string;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Added to the standard environment. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default the entry path */
  readonly description?: string;
  /**
   * How a failed asynchronous invocation is handled, for a function something invokes asynchronously (an
   * EventBridge rule). cdk-nag's Serverless-LambdaDLQ asks each function for a dead-letter queue; this is
   * the recorded answer. @default invoked synchronously by Step Functions, which needs no DLQ
   */
  readonly asyncFailureHandling?: string;
}

/**
 * A Lambda function with the project's defaults: Node.js 24 on ARM64, active tracing, JSON logs into its own
 * log group with retention, the Powertools environment, the ledger table, and local esbuild bundling (never
 * Docker) with the AWS SDK left to the runtime.
 *
 * Its role is our own, with write access to its log group only, instead of the managed
 * AWSLambdaBasicExecutionRole (which allows any log group).
 */
export class TaskFunction extends Construct {
  readonly fn: lambda.IFunction;
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: TaskFunctionProps) {
    super(scope, id);
    const { defaults, entry } = props;
    const entryPath = path.resolve(REPO_ROOT, entry);
    if (path.isAbsolute(entry) || !entryPath.startsWith(REPO_ROOT + path.sep)) {
      throw new Error(
        `${this.node.path}: entry "${entry}" must be a path inside the repository, relative to its root`,
      );
    }
    if (!fs.existsSync(entryPath)) {
      throw new Error(
        `${this.node.path}: entry "${entry}" does not exist (it must export "${HANDLER_EXPORT}")`,
      );
    }

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${entry}`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: defaults.logRetention,
      encryptionKey: defaults.logEncryptionKey,
    });
    logGroup.grantWrite(role);

    const fn = new nodejs.NodejsFunction(this, 'Function', {
      description: props.description ?? entry,
      entry: entryPath,
      handler: HANDLER_EXPORT,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[defaults.logLevel],
      environment: {
        POWERTOOLS_SERVICE_NAME: defaults.serviceName,
        POWERTOOLS_LOG_LEVEL: defaults.logLevel,
        POWERTOOLS_METRICS_NAMESPACE: defaults.metricsNamespace,
        [ENV.TABLE_NAME]: defaults.ledgerTable.tableName,
        // Stack traces point into the TypeScript sources through the bundled source map.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        ...BUNDLING,
        externalModules: [...BUNDLING.externalModules],
        mainFields: [...BUNDLING.mainFields],
        forceDockerBundling: false,
      },
    });

    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    cfn.addMetadata(FUNCTION_METADATA.ENTRY, path.relative(REPO_ROOT, entryPath).split(path.sep).join('/'));
    cfn.addMetadata(FUNCTION_METADATA.HANDLER, HANDLER_EXPORT);

    acknowledgeGrantWildcards(
      defaults.ledgerTable.grantReadWriteData(fn),
      role,
      'The ledger is queried through its GSIs (gsi1 by job/resource, gsi2 by day); the wildcard covers the indexes of this one table only.',
    );
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        props.asyncFailureHandling ??
        'Invoked synchronously by Step Functions (a Task state): a failure returns to the state machine, which retries and catches it into the run lifecycle. A dead-letter queue applies only to asynchronous invocations.',
    });
    Validations.of(role).acknowledge({
      id: STAR_RESOURCE_FINDING,
      reason:
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });

    this.fn = fn;
    this.role = role;
    this.logGroup = logGroup;
  }
}
