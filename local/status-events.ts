/**
 * EventBridge "Step Functions Execution Status Change" emulation: after a local execution ends, build the
 * event AWS would emit and deliver it to every rule in the template whose pattern matches, as the real
 * reconciler rule would.
 */
import { resolve, resourcesOfType, type CfnTemplate } from './template';

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface StatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate: number;
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
}

export function statusChangeEvent(detail: StatusChangeDetail): Record<string, unknown> {
  return {
    version: '0',
    id: `local-${detail.name}-${detail.status}`,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '000000000000',
    time: new Date(detail.stopDate).toISOString(),
    region: 'us-east-1',
    resources: [detail.executionArn],
    detail,
  };
}

/** Does an EventBridge pattern (the subset our rules use: exact-value arrays, nested) match the event? */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((candidate) => candidate === event);
  if (pattern && typeof pattern === 'object') {
    if (!event || typeof event !== 'object') return false;
    return Object.entries(pattern).every(([key, sub]) =>
      matchesPattern(sub, (event as Record<string, unknown>)[key]),
    );
  }
  return pattern === event;
}

/** Logical ids of the Lambda functions that rules in the template would invoke for this event. */
export function ruleTargetsFor(template: CfnTemplate, event: Record<string, unknown>): string[] {
  const targets: string[] = [];
  for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
    const props = rule.Properties ?? {};
    if (props.State === 'DISABLED' || !props.EventPattern) continue;
    const pattern = resolve(template, props.EventPattern);
    if (!matchesPattern(pattern, event)) continue;
    for (const target of (props.Targets ?? []) as Array<{ Arn?: unknown }>) {
      const arn = target.Arn as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const id = arn?.['Fn::GetAtt']?.[0];
      if (id) targets.push(id);
    }
  }
  return targets;
}
