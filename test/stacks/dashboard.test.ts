import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { FINAL_RUN_STATUSES } from '../../shared/constants';
import { JobsDashboard, type JobFigure } from '../../stacks/constructs/dashboard';
import { jobs } from '../../workflows';
import { synth } from './synth';

const NAMESPACE = 'StepJobsTest';
const SERVICE = 'stepjobs-test';
const RELEASE = 'release-idle-resources';
const HEARTBEAT = 'heartbeat';

/** What the stack passes for the release job; the construct itself knows nothing of it. */
const RELEASE_FIGURES: JobFigure[] = [
  ...(['planned', 'applied'] as const).map((mode) => ({
    title: `Release actions ${mode}`,
    stacked: true,
    metrics: (['mark', 'release', 'cancel'] as const).map((action) => ({
      metricName: 'ReleaseActions',
      dimensions: { action, mode },
      unit: cloudwatch.Unit.COUNT,
      label: action,
    })),
  })),
  {
    title: 'Estimated monthly saving',
    axisLabel: 'USD',
    metrics: [
      {
        metricName: 'EstimatedMonthlySavingUsd',
        statistic: 'Maximum',
        unit: cloudwatch.Unit.NONE,
        label: 'USD/month',
      },
    ],
  },
];

/** A widget of the dashboard body, with CloudFormation tokens replaced by `<Ref id>` / `<GetAtt id.attr>`. */
interface Widget {
  type: 'text' | 'metric';
  properties: {
    markdown?: string;
    title?: string;
    stacked?: boolean;
    metrics?: unknown[][];
  };
}

/** One line of a graph: a metric (namespace, name, dimensions, options) or an expression. */
interface Line {
  namespace?: string;
  metricName?: string;
  dimensions: Record<string, string>;
  options: {
    stat?: string;
    period?: number;
    label?: string;
    id?: string;
    visible?: boolean;
    expression?: string;
  };
}

function placeholder(token: unknown): string {
  const t = token as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (t.Ref) return `<Ref ${t.Ref}>`;
  if (t['Fn::GetAtt']) return `<GetAtt ${t['Fn::GetAtt'].join('.')}>`;
  return '<token>';
}

function build() {
  const stack = new Stack(new App(), 'StepJobs');
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
  const job = (id: string, functions: lambda.IFunction[]) => ({
    jobId: id,
    stateMachine: new sfn.StateMachine(stack, `${id}Machine`, {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Pass`)),
    }),
    scheduleDeadLetterQueue: new sqs.Queue(stack, `${id}Dlq`),
    functions,
  });
  const heartbeat = job(HEARTBEAT, [fn('Beat')]);
  const release = { ...job(RELEASE, [fn('Plan'), fn('ApplyBatch')]), figures: RELEASE_FIGURES };
  new JobsDashboard(stack, 'Dashboard', {
    jobs: [heartbeat, release],
    metrics: { namespace: NAMESPACE, serviceName: SERVICE },
  });
  const logicalId = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  return { template: Template.fromStack(stack), heartbeat, release, logicalId };
}

const { template, heartbeat, release, logicalId } = build();

function dashboard(): { name: unknown; widgets: Widget[] } {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const props = (dashboards[0] as { Properties: { DashboardBody: unknown; DashboardName: unknown } })
    .Properties;
  const body = props.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : placeholder(part))).join('');
  return { name: props.DashboardName, widgets: (JSON.parse(text) as { widgets: Widget[] }).widgets };
}

/** The widgets under each `## <job>` header, by job id. */
function sections(): Map<string, Widget[]> {
  const result = new Map<string, Widget[]>();
  let current: Widget[] | undefined;
  for (const widget of dashboard().widgets) {
    const heading = /^## (\S+)/.exec(widget.properties.markdown ?? '');
    if (widget.type === 'text' && heading?.[1]) result.set(heading[1], (current = []));
    else current?.push(widget);
  }
  return result;
}

function section(jobId: string): Widget[] {
  const widgets = sections().get(jobId);
  if (!widgets) throw new Error(`no section for ${jobId}`);
  return widgets;
}

function widget(jobId: string, title: string): Widget {
  const found = section(jobId).filter((w) => w.properties.title === title);
  expect(found).toHaveLength(1);
  return found[0] as Widget;
}

function lines(w: Widget): Line[] {
  return (w.properties.metrics ?? []).map((entry) => {
    const last = entry[entry.length - 1];
    const options = (typeof last === 'object' ? last : {}) as Line['options'];
    const parts = (typeof last === 'object' ? entry.slice(0, -1) : entry) as string[];
    const [namespace, metricName, ...dims] = parts;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < dims.length; i += 2) dimensions[dims[i] as string] = dims[i + 1] as string;
    return { ...(namespace ? { namespace, metricName } : {}), dimensions, options };
  });
}

const jobDims = (jobId: string) => ({ service: SERVICE, job: jobId });
const fnRef = (fn: lambda.IFunction) => `<Ref ${logicalId(fn)}>`;

test('one dashboard: a header that says where the run history is, then a section per job, in order', () => {
  const { name, widgets } = dashboard();
  expect(widgets[0]?.type).toBe('text');
  expect(widgets[0]?.properties.markdown).toContain('npx stepjobs --aws --stack StepJobs history <job>');
  expect([...sections().keys()]).toEqual([HEARTBEAT, RELEASE]);
  expect(section(RELEASE)).not.toHaveLength(0);
  // Dashboard names are unique per account: the default carries the region.
  expect(name).toEqual({ 'Fn::Join': ['', ['StepJobs-', { Ref: 'AWS::Region' }]] });
});

describe.each([HEARTBEAT, RELEASE])('the %s section', (jobId) => {
  const job = jobId === RELEASE ? release : heartbeat;

  test('links its state machine and its run history', () => {
    const header = dashboard().widgets.find((w) => w.properties.markdown?.startsWith(`## ${jobId}\n`));
    expect(header?.properties.markdown).toContain(
      `#/statemachines/view/${`<Ref ${logicalId(job.stateMachine)}>`}`,
    );
    expect(header?.properties.markdown).toContain(`history ${jobId}`);
  });

  test('runs by final status: RunFinished stacked, one line per status', () => {
    const w = widget(jobId, 'Runs by final status');
    expect(w.properties.stacked).toBe(true);
    expect(lines(w)).toEqual(
      FINAL_RUN_STATUSES.map((status) => ({
        namespace: NAMESPACE,
        metricName: 'RunFinished',
        dimensions: { ...jobDims(jobId), status },
        options: expect.objectContaining({ stat: 'Sum', label: status }),
      })),
    );
    expect([...FINAL_RUN_STATUSES].sort()).toEqual([
      'ABORTED',
      'DUPLICATE',
      'FAILED',
      'MISSED',
      'SKIPPED',
      'SUCCEEDED',
      'TIMED_OUT',
    ]);
  });

  test('run duration: p50, p90 and maximum of RunDuration', () => {
    const found = lines(widget(jobId, 'Run duration'));
    expect(found.map((l) => [l.metricName, l.dimensions, l.options.stat])).toEqual([
      ['RunDuration', jobDims(jobId), 'p50'],
      ['RunDuration', jobDims(jobId), 'p90'],
      ['RunDuration', jobDims(jobId), 'Maximum'],
    ]);
  });

  test('missed slots: MissedRuns summed over the sweep period', () => {
    expect(lines(widget(jobId, 'Missed slots (recorded by the sweep)'))).toEqual([
      {
        namespace: NAMESPACE,
        metricName: 'MissedRuns',
        dimensions: jobDims(jobId),
        options: expect.objectContaining({ stat: 'Sum', period: 900 }),
      },
    ]);
  });

  test("the dead-letter queue widget watches this job's queue", () => {
    expect(lines(widget(jobId, 'Undelivered triggers (schedule dead-letter queue)'))).toEqual([
      {
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: `<GetAtt ${logicalId(job.scheduleDeadLetterQueue)}.QueueName>` },
        options: expect.objectContaining({ stat: 'Maximum' }),
      },
    ]);
  });

  test("cold starts: Powertools' ColdStart of each task function", () => {
    expect(lines(widget(jobId, 'Task function cold starts'))).toEqual(
      job.functions.map((fn) => ({
        namespace: NAMESPACE,
        metricName: 'ColdStart',
        dimensions: { service: SERVICE, function_name: fnRef(fn) },
        options: expect.objectContaining({ stat: 'Sum' }),
      })),
    );
  });
});

test("a job's only function: its own Errors and Throttles", () => {
  const [beat] = heartbeat.functions as [lambda.IFunction];
  expect(lines(widget(HEARTBEAT, 'Task function errors and throttles'))).toEqual([
    {
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: fnRef(beat) },
      options: expect.objectContaining({ stat: 'Sum', label: 'errors' }),
    },
    {
      namespace: 'AWS/Lambda',
      metricName: 'Throttles',
      dimensions: { FunctionName: fnRef(beat) },
      options: expect.objectContaining({ stat: 'Sum', label: 'throttles' }),
    },
  ]);
});

test('several functions: one line each for the sum of their Errors and of their Throttles', () => {
  const found = lines(widget(RELEASE, 'Task function errors and throttles'));
  const visible = found.filter((l) => l.options.visible !== false);
  expect(visible.map((l) => [l.options.label, l.options.expression])).toEqual([
    ['errors', 'SUM([FILL(errors0, 0), FILL(errors1, 0)])'],
    ['throttles', 'SUM([FILL(throttles0, 0), FILL(throttles1, 0)])'],
  ]);
  const hidden = Object.fromEntries(
    found.filter((l) => l.options.visible === false).map((l) => [l.options.id, [l.metricName, l.dimensions]]),
  );
  const [plan, apply] = release.functions as [lambda.IFunction, lambda.IFunction];
  expect(hidden).toEqual({
    errors0: ['Errors', { FunctionName: fnRef(plan) }],
    errors1: ['Errors', { FunctionName: fnRef(apply) }],
    throttles0: ['Throttles', { FunctionName: fnRef(plan) }],
    throttles1: ['Throttles', { FunctionName: fnRef(apply) }],
  });
});

test('the release figures: actions by mode and the estimated saving, with the job dimensions added', () => {
  for (const mode of ['planned', 'applied']) {
    const w = widget(RELEASE, `Release actions ${mode}`);
    expect(w.properties.stacked).toBe(true);
    expect(lines(w)).toEqual(
      ['mark', 'release', 'cancel'].map((action) => ({
        namespace: NAMESPACE,
        metricName: 'ReleaseActions',
        dimensions: { ...jobDims(RELEASE), action, mode },
        options: expect.objectContaining({ stat: 'Sum', label: action }),
      })),
    );
  }
  expect(lines(widget(RELEASE, 'Estimated monthly saving'))).toEqual([
    {
      namespace: NAMESPACE,
      metricName: 'EstimatedMonthlySavingUsd',
      dimensions: jobDims(RELEASE),
      options: expect.objectContaining({ stat: 'Maximum' }),
    },
  ]);
});

test('only the release job shows the release figures', () => {
  const metricNames = (jobId: string) => section(jobId).flatMap((w) => lines(w).map((l) => l.metricName));
  expect(metricNames(RELEASE)).toEqual(
    expect.arrayContaining(['ReleaseActions', 'EstimatedMonthlySavingUsd']),
  );
  expect(metricNames(HEARTBEAT)).not.toContain('ReleaseActions');
  expect(metricNames(HEARTBEAT)).not.toContain('EstimatedMonthlySavingUsd');
  expect(section(HEARTBEAT)).toHaveLength(section(RELEASE).length - RELEASE_FIGURES.length);
});

test('a job without task functions gets no Lambda widgets', () => {
  const stack = new Stack(new App(), 'Bare');
  new JobsDashboard(stack, 'Dashboard', {
    metrics: { namespace: NAMESPACE, serviceName: SERVICE },
    jobs: [
      {
        jobId: 'bare',
        stateMachine: sfn.StateMachine.fromStateMachineName(stack, 'Machine', 'bare'),
        scheduleDeadLetterQueue: sqs.Queue.fromQueueArn(
          stack,
          'Dlq',
          'arn:aws:sqs:us-east-1:111111111111:dlq',
        ),
        functions: [],
      },
    ],
  });
  const body = JSON.stringify(Template.fromStack(stack).toJSON());
  expect(body).toContain('Runs by final status');
  expect(body).not.toContain('Task function');
});

test('the stack has one dashboard, with a section for each of its jobs', () => {
  const { template } = synth({ nag: false });
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
  for (const job of jobs) expect(body).toContain(`## ${job.id}`);
  expect(body).toContain('RunFinished');
  expect(body).toContain('ReleaseActions');
});
