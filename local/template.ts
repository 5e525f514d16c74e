/**
 * Reading a synthesized CloudFormation template for local mode: resolve the intrinsic functions the
 * stack uses into local placeholder values, and pick out what the local runtime needs (state machine
 * definitions, Lambda entries with their own environment, tables, schedules).
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export type CfnTemplate = {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
};
export type CfnResource = {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
};

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Physical names the local runtime gives to resources: the logical id, which is unique and readable. */
export function localArn(template: CfnTemplate, logicalId: string): string {
  const resource = template.Resources[logicalId];
  if (!resource) throw new TemplateError(`The template has no resource ${logicalId}`);
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${logicalId}`;
    case 'AWS::Scheduler::Schedule':
      return `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/default/${logicalId}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${localBucketName(logicalId)}`;
    default:
      return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource.Type}/${logicalId}`;
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'StepJobsLocal',
  'AWS::NoValue': '',
};

/** Resolve `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` (simple form) into local placeholder values. */
export function resolve(template: CfnTemplate, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(template, v));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = obj[key];
    if (key === 'Ref') return resolveRef(template, String(arg));
    if (key === 'Fn::GetAtt') {
      const [id, attr] = (Array.isArray(arg) ? arg : String(arg).split('.')) as [string, string];
      return resolveGetAtt(template, id, attr);
    }
    if (key === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(resolve(template, p))).join(sep);
    }
    if (key === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
        if (name.startsWith('!')) return `\${${name.slice(1)}}`;
        return String(
          name.includes('.')
            ? resolveGetAtt(template, ...(name.split('.') as [string, string]))
            : resolveRef(template, name),
        );
      });
    }
    if (key.startsWith('Fn::')) throw new TemplateError(`Local mode cannot resolve ${key}`);
  }
  return Object.fromEntries(keys.map((k) => [k, resolve(template, obj[k])]));
}

function resolveRef(template: CfnTemplate, id: string): string {
  if (id in PSEUDO) return PSEUDO[id] ?? '';
  const resource = template.Resources[id];
  if (!resource) throw new TemplateError(`Ref to unknown resource ${id}`);
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
    case 'AWS::Scheduler::Schedule':
    case 'AWS::Logs::LogGroup':
      return id;
    case 'AWS::S3::Bucket':
      return localBucketName(id);
    default:
      return localArn(template, id);
  }
}

function resolveGetAtt(template: CfnTemplate, id: string, attr: string): string {
  if (attr === 'Arn') return localArn(template, id);
  if (attr === 'Name') return id;
  if (attr === 'StreamArn') return `${localArn(template, id)}/stream/local`;
  return `${localArn(template, id)}/${attr}`;
}

/**
 * A bucket's local name: its logical id in lower case, a valid S3 bucket name (3-63 letters, digits and
 * dashes); a longer id keeps its start and its hash suffix.
 */
export function localBucketName(logicalId: string): string {
  const name = logicalId.toLowerCase().replace(/[^a-z0-9-]/g, '');
  return name.length <= 63 ? name.padEnd(3, '0') : `${name.slice(0, 54)}-${name.slice(-8)}`;
}

/** The local names of every S3 bucket in the template. */
export function buckets(template: CfnTemplate): string[] {
  return resourcesOfType(template, 'AWS::S3::Bucket').map(([logicalId]) => localBucketName(logicalId));
}

export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** One Lambda function as local mode runs it. */
export interface LocalFunction {
  logicalId: string;
  arn: string;
  /** The handler source file, relative to the repository root (from the `stepjobs:entry` metadata). */
  entry: string;
  handler: string;
  /** The function's own environment from the template, tokens resolved. */
  environment: Record<string, string>;
  timeoutSeconds: number;
}

export function lambdaFunctions(template: CfnTemplate): LocalFunction[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').flatMap(([logicalId, resource]) => {
    const entry = resource.Metadata?.['stepjobs:entry'];
    // Functions CDK adds itself (custom resources, log retention) have no entry; local mode never runs them.
    if (typeof entry !== 'string') return [];
    const variables =
      (resource.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {};
    const environment = resolve(template, variables) as Record<string, unknown>;
    return [
      {
        logicalId,
        arn: localArn(template, logicalId),
        entry,
        handler: String(resource.Metadata?.['stepjobs:handler'] ?? 'handler'),
        environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])),
        timeoutSeconds: Number(resource.Properties?.Timeout ?? 3),
      },
    ];
  });
}

/** Each state machine's definition, parsed, with its logical id and local ARN. */
export function stateMachines(
  template: CfnTemplate,
): Array<{ logicalId: string; arn: string; definition: Record<string, unknown> }> {
  return resourcesOfType(template, 'AWS::StepFunctions::StateMachine').map(([logicalId, resource]) => {
    const props = resource.Properties ?? {};
    const raw = props.DefinitionString ?? props.Definition;
    const resolved = resolve(template, raw);
    const definition = (typeof resolved === 'string' ? JSON.parse(resolved) : resolved) as Record<
      string,
      unknown
    >;
    return { logicalId, arn: localArn(template, logicalId), definition };
  });
}

/** CreateTable inputs for every DynamoDB table in the template (TTL and PITR have no local equivalent). */
export function tableInputs(template: CfnTemplate): CreateTableCommandInput[] {
  return resourcesOfType(template, 'AWS::DynamoDB::Table')
    .concat(resourcesOfType(template, 'AWS::DynamoDB::GlobalTable'))
    .map(([logicalId, resource]) => {
      const p = resource.Properties ?? {};
      const gsis = (p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes']) ?? [];
      return {
        TableName: logicalId,
        AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
        KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
        BillingMode: 'PAY_PER_REQUEST',
        ...(gsis.length > 0
          ? {
              GlobalSecondaryIndexes: gsis.map((g) => ({
                IndexName: g.IndexName,
                KeySchema: g.KeySchema,
                Projection: g.Projection,
              })),
            }
          : {}),
      };
    });
}

/** The schedules: which state machine each targets and the exact input template the Scheduler sends. */
export interface LocalSchedule {
  logicalId: string;
  arn: string;
  expression: string;
  timeZone: string;
  /** The schedule's StartDate (rate() counts from it), when it has one. */
  startDate?: string;
  enabled: boolean;
  /** The flexible time window in minutes; 0 when off. */
  flexibleWindowMinutes: number;
  targetArn: string;
  /** The target input with `<aws.scheduler.*>` placeholders still in it. */
  inputTemplate: string;
}

export function schedules(template: CfnTemplate): LocalSchedule[] {
  return resourcesOfType(template, 'AWS::Scheduler::Schedule').map(([logicalId, resource]) => {
    const p = resolve(template, resource.Properties ?? {}) as Record<string, unknown>;
    const target = (p.Target ?? {}) as { Arn?: string; Input?: string };
    const window = (p.FlexibleTimeWindow ?? {}) as { Mode?: string; MaximumWindowInMinutes?: number };
    return {
      logicalId,
      arn: localArn(template, logicalId),
      expression: String(p.ScheduleExpression),
      timeZone: String(p.ScheduleExpressionTimezone ?? 'UTC'),
      ...(typeof p.StartDate === 'string' ? { startDate: p.StartDate } : {}),
      enabled: p.State !== 'DISABLED',
      flexibleWindowMinutes: window.Mode === 'FLEXIBLE' ? Number(window.MaximumWindowInMinutes ?? 0) : 0,
      targetArn: String(target.Arn ?? ''),
      inputTemplate: String(target.Input ?? '{}'),
    };
  });
}
