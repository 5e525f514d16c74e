/**
 * Test helpers: synthesize the app in-process with bundling skipped, and read what the tests assert on.
 * Every call builds a fresh app; nothing is shared between test files.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { STACK_OUTPUT } from '../../shared/constants';
import { buildApp, type BuildAppOptions, type BuiltApp } from '../../stacks/build-app';
import { pascalCase } from '../../stacks/outputs';

export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export interface Synthesized extends BuiltApp {
  readonly template: Template;
}

export function synth(options: BuildAppOptions = {}): Synthesized {
  const built = buildApp({ ...options, context: { ...SKIP_BUNDLING, ...options.context } });
  return { ...built, template: Template.fromStack(built.stack) };
}

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** The logical id of the one resource of `type` that satisfies `match`. */
export function logicalIdOf(template: Template, type: string, match: (r: Resource) => boolean): string {
  const found = Object.entries(template.findResources(type) as Record<string, Resource>).filter(([, r]) =>
    match(r),
  );
  if (found.length !== 1) throw new Error(`Expected one ${type}, found ${found.length}`);
  return (found[0] as [string, Resource])[0];
}

/** The logical id of the function built from `entry` (its `stepjobs:entry` metadata). */
export function functionIdOf(template: Template, entry: string): string {
  return logicalIdOf(template, 'AWS::Lambda::Function', (r) => r.Metadata?.['stepjobs:entry'] === entry);
}

/** Placeholder values for the tokens a definition holds, the way local mode resolves them. */
function placeholder(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  if (token['Fn::GetAtt']) return `arn:aws:lambda:us-east-1:000000000000:function:${token['Fn::GetAtt'][0]}`;
  if (token.Ref) return token.Ref;
  throw new Error(`Unexpected token in a definition: ${JSON.stringify(value)}`);
}

export interface StateJson {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Variable: string; StringEquals?: string; Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; ResultPath?: string; Next: string }>;
  Retry?: Array<{
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
    MaxDelaySeconds?: number;
  }>;
  TimeoutSeconds?: number;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  ErrorPath?: string;
  CausePath?: string;
  Result?: unknown;
  ItemProcessor?: { StartAt: string; States: Record<string, StateJson> };
}

export interface DefinitionJson {
  StartAt: string;
  States: Record<string, StateJson>;
  TimeoutSeconds?: number;
  Comment?: string;
}

/** The logical id of the state machine of `jobId`, found through its `StateMachineArn<JobId>` output. */
export function stateMachineIdOf(template: Template, jobId: string): string {
  const outputs = (template.toJSON() as { Outputs: Record<string, { Value: { Ref?: string } }> }).Outputs;
  const ref = outputs[`${STACK_OUTPUT.STATE_MACHINE_ARN_PREFIX}${pascalCase(jobId)}`]?.Value.Ref;
  if (!ref) throw new Error(`No state machine output for job ${jobId}`);
  return ref;
}

/** The definition string of the state machine of `jobId`, tokens replaced by placeholder ARNs. */
export function definitionStringOf(template: Template, jobId: string): string {
  const machine = (template.toJSON() as { Resources: Record<string, Resource> }).Resources[
    stateMachineIdOf(template, jobId)
  ];
  const definition = machine?.Properties?.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof definition === 'string') return definition;
  const [separator, parts] = definition['Fn::Join'];
  return parts.map(placeholder).join(separator);
}

export function definitionOf(template: Template, jobId: string): DefinitionJson {
  return JSON.parse(definitionStringOf(template, jobId)) as DefinitionJson;
}

/** The states a run passes through when StartRun decides `decision` and no step fails. */
export function happyPath(def: DefinitionJson, decision: string): string[] {
  const path: string[] = [];
  let name: string | undefined = def.StartAt;
  while (name) {
    if (path.includes(name)) throw new Error(`Loop at ${name}`);
    path.push(name);
    const current: StateJson | undefined = def.States[name];
    if (!current) throw new Error(`Dangling transition to ${name}`);
    name =
      current.Type === 'Choice'
        ? (current.Choices?.find((c) => c.Variable === '$.decision' && c.StringEquals === decision)?.Next ??
          current.Default)
        : current.Next;
  }
  return path;
}

/**
 * The failure path of a caught state, shaped for redrive: its catch goes through `<state>Caught`, which names it
 * for FailRun; FailRun (which fails the execution itself, so a redrive restarts there) goes on to Resume, whose
 * branch for the state leads back to it.
 */
export function expectRedrivableCatch(def: DefinitionJson, name: string): void {
  expect(def.States[name]?.Catch).toEqual([
    { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${name}Caught` },
  ]);
  expect(def.States[`${name}Caught`]).toEqual({
    Type: 'Pass',
    Result: name,
    ResultPath: '$.failedState',
    Next: 'FailRun',
  });
  expect(def.States.FailRun).toMatchObject({ Type: 'Task', Next: 'Resume', ResultPath: '$.redrive' });
  expect(def.States.Resume?.Choices).toContainEqual({
    Variable: '$.redrive.resume',
    StringEquals: name,
    Next: name,
  });
  expect(def.States.Resume?.Default).toBe('Failed');
}

/** The handler entries of an app with the heartbeat job only: its step, every lifecycle function and the notifier. */
export const HEARTBEAT_APP_ENTRIES = [
  'tasks/heartbeat/heartbeat.ts',
  'tasks/lifecycle/fail-run.ts',
  'tasks/lifecycle/finish-run.ts',
  'tasks/lifecycle/reconcile.ts',
  'tasks/lifecycle/record-caller.ts',
  'tasks/lifecycle/start-run.ts',
  'tasks/lifecycle/sweep.ts',
  'tasks/notify/run-finished.ts',
];

/** An IAM policy statement as it stands in the template. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export type CfnResource = { Type: string; Properties?: Record<string, unknown> };

/** A template value that may be one item or a list of them, as a list. */
export const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The statements of every policy attached to the role of the function built from `entry`. */
export function roleStatements(template: Template, entry: string): Statement[] {
  const resources = (template.toJSON() as { Resources: Record<string, CfnResource> }).Resources;
  const fn = resources[functionIdOf(template, entry)];
  const role = (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const inline = list(
    resources[role]?.Properties?.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>,
  );
  const attached = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::IAM::Policy' &&
      list(r.Properties?.Roles as Array<{ Ref?: string }>).some((ref) => ref.Ref === role),
  );
  return [
    ...inline.flatMap((p) => p.PolicyDocument.Statement),
    ...attached.flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement),
  ];
}

/** A CloudFormation value as text: `Ref`s and `GetAtt`s become `${...}` placeholders, joins are joined. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
  if (token.Ref) return `\${${token.Ref}}`;
  if (token['Fn::GetAtt']) return `\${${token['Fn::GetAtt'].join('.')}}`;
  if (token['Fn::Join']) return token['Fn::Join'][1].map(render).join(token['Fn::Join'][0]);
  throw new Error(`Unexpected value in the template: ${JSON.stringify(value)}`);
}
