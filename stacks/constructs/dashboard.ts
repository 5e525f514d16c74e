import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FINAL_RUN_STATUSES, RunStatus } from '../../shared/constants';
import type { JobFigure, JobFigureMetric } from '../../workflows/job-definition';

export type { JobFigure, JobFigureMetric } from '../../workflows/job-definition';

/** What the dashboard shows of one job. */
export interface DashboardJob {
  readonly jobId: string;
  /** Linked from the job's section header. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where the Scheduler puts triggers it could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** The job's own task functions (not the lifecycle functions every job shares). */
  readonly functions: readonly lambda.IFunction[];
  /** Graphs of the job's own metrics, after the standard ones. @default none */
  readonly figures?: readonly JobFigure[];
}

export interface JobsDashboardProps {
  readonly jobs: readonly DashboardJob[];
  /** The namespace and service dimension the functions' Powertools metrics are emitted with. */
  readonly metrics: { readonly namespace: string; readonly serviceName: string };
  /**
   * Dashboard names are unique per account, not per region, so the default carries the region.
   * @default `<stack name>-<region>`
   */
  readonly dashboardName?: string;
  /** The time range the dashboard opens on. @default Duration.days(7) */
  readonly defaultInterval?: Duration;
}

/** The period of every graph but missed runs; the dashboard widens it for long ranges (period override auto). */
const PERIOD = Duration.minutes(5);
/** The sweep emits MissedRuns once per pass, zeros included, so one point per pass draws a continuous line. */
const SWEEP_PERIOD = Duration.minutes(15);
const GRAPH = { width: 8, height: 6 } as const;
const COUNT_AXIS: cloudwatch.YAxisProps = { min: 0, showUnits: false };

/** Fixed colours, so a status looks the same in every job's stack of runs. */
const STATUS_COLOR: Readonly<Partial<Record<RunStatus, string>>> = {
  [RunStatus.SUCCEEDED]: cloudwatch.Color.GREEN,
  [RunStatus.FAILED]: cloudwatch.Color.RED,
  [RunStatus.TIMED_OUT]: cloudwatch.Color.ORANGE,
  [RunStatus.ABORTED]: cloudwatch.Color.PINK,
  [RunStatus.MISSED]: cloudwatch.Color.BROWN,
  [RunStatus.SKIPPED]: cloudwatch.Color.GREY,
  [RunStatus.DUPLICATE]: cloudwatch.Color.BLUE,
};

/**
 * One CloudWatch dashboard for the stack: a header, then a section per job with its runs by final status,
 * run duration, missed slots, undelivered triggers, and its task functions' errors, throttles and cold
 * starts, then the job's own figures. It shows how runs went over time; the ledger (`stepjobs history`)
 * remains the record of each run, and the Alarms construct decides what pages someone.
 */
export class JobsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  private readonly props: JobsDashboardProps;

  constructor(scope: Construct, id: string, props: JobsDashboardProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `${stack.stackName}-${stack.region}`,
      defaultInterval: props.defaultInterval ?? Duration.days(7),
    });
    this.dashboard.addWidgets(this.header());
    for (const job of props.jobs) this.dashboard.addWidgets(...this.section(job));
  }

  /** The CLI command prefix for this deployed stack (`--stack` matters when it is not the default name). */
  private get cli(): string {
    return `npx stepjobs --aws --stack ${Stack.of(this).stackName}`;
  }

  private header(): cloudwatch.IWidget {
    return new cloudwatch.TextWidget({
      width: 24,
      height: 3,
      markdown: [
        `# ${Stack.of(this).stackName}: scheduled jobs`,
        "One section per job: runs by final status, run duration, scheduled slots that did not run, triggers the Scheduler could not deliver, and the errors, throttles and cold starts of the job's task functions.",
        `The run history (trigger, input, steps, durations, error of every run) is in the DynamoDB run ledger: \`${this.cli} history <job>\`, then \`${this.cli} show <runId>\`.`,
      ].join('\n\n'),
    });
  }

  private section(job: DashboardJob): cloudwatch.IWidget[] {
    const stack = Stack.of(this);
    const consoleUrl = `https://${stack.region}.console.aws.amazon.com/states/home?region=${stack.region}#/statemachines/view/${job.stateMachine.stateMachineArn}`;
    const machineName = Arn.split(
      job.stateMachine.stateMachineArn,
      ArnFormat.COLON_RESOURCE_NAME,
    ).resourceName;
    return [
      new cloudwatch.TextWidget({
        width: 24,
        height: 2,
        markdown: `## ${job.jobId}\nState machine [${machineName}](${consoleUrl}) · run history: \`${this.cli} history ${job.jobId}\``,
      }),
      this.runsByStatus(job.jobId),
      this.runDuration(job.jobId),
      this.missedRuns(job.jobId),
      this.undeliveredTriggers(job),
      ...this.functionWidgets(job.functions),
      ...(job.figures ?? []).map((figure) => this.figure(job.jobId, figure)),
    ];
  }

  /** RunFinished, emitted once per final run record by the run notifier. */
  private runsByStatus(jobId: string): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      ...GRAPH,
      title: 'Runs by final status',
      stacked: true,
      left: FINAL_RUN_STATUSES.map((status) =>
        this.jobMetric(jobId, 'RunFinished', {
          dimensions: { status },
          statistic: 'Sum',
          unit: cloudwatch.Unit.COUNT,
          label: status,
          color: STATUS_COLOR[status],
        }),
      ),
      leftYAxis: COUNT_AXIS,
    });
  }

  private runDuration(jobId: string): cloudwatch.IWidget {
    const duration = (statistic: string) =>
      this.jobMetric(jobId, 'RunDuration', {
        statistic,
        unit: cloudwatch.Unit.MILLISECONDS,
        label: statistic === 'Maximum' ? 'max' : statistic,
      });
    return new cloudwatch.GraphWidget({
      ...GRAPH,
      title: 'Run duration',
      left: [duration('p50'), duration('p90'), duration('Maximum')],
      leftYAxis: { min: 0, label: 'ms', showUnits: false },
    });
  }

  private missedRuns(jobId: string): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      ...GRAPH,
      title: 'Missed slots (recorded by the sweep)',
      left: [
        this.jobMetric(jobId, 'MissedRuns', {
          statistic: 'Sum',
          unit: cloudwatch.Unit.COUNT,
          label: 'missed',
          period: SWEEP_PERIOD,
          color: STATUS_COLOR[RunStatus.MISSED],
        }),
      ],
      leftYAxis: COUNT_AXIS,
    });
  }

  private undeliveredTriggers(job: DashboardJob): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      ...GRAPH,
      title: 'Undelivered triggers (schedule dead-letter queue)',
      left: [
        job.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: PERIOD,
          label: 'messages waiting',
        }),
      ],
      leftYAxis: COUNT_AXIS,
    });
  }

  /** Errors and throttles summed over the job's functions; cold starts per function, since each pays its own. */
  private functionWidgets(functions: readonly lambda.IFunction[]): cloudwatch.IWidget[] {
    if (functions.length === 0) return [];
    const options = { statistic: 'Sum', period: PERIOD };
    const { namespace, serviceName } = this.props.metrics;
    return [
      new cloudwatch.GraphWidget({
        ...GRAPH,
        title: 'Task function errors and throttles',
        left: [
          sumOf(
            'errors',
            functions.map((fn) => fn.metricErrors(options)),
            cloudwatch.Color.RED,
          ),
          sumOf(
            'throttles',
            functions.map((fn) => fn.metricThrottles(options)),
            cloudwatch.Color.ORANGE,
          ),
        ],
        leftYAxis: COUNT_AXIS,
      }),
      new cloudwatch.GraphWidget({
        ...GRAPH,
        title: 'Task function cold starts',
        left: functions.map(
          (fn) =>
            new cloudwatch.Metric({
              namespace,
              metricName: 'ColdStart',
              dimensionsMap: { service: serviceName, function_name: fn.functionName },
              unit: cloudwatch.Unit.COUNT,
              ...options,
              // A CloudWatch dynamic label: the function's name, which exists only once deployed.
              label: "${PROP('Dim.function_name')}",
            }),
        ),
        leftYAxis: COUNT_AXIS,
      }),
    ];
  }

  private figure(jobId: string, figure: JobFigure): cloudwatch.IWidget {
    return new cloudwatch.GraphWidget({
      ...GRAPH,
      title: figure.title,
      stacked: figure.stacked ?? false,
      left: figure.metrics.map(({ metricName, dimensions, statistic, unit, label }) =>
        this.jobMetric(jobId, metricName, {
          ...(dimensions ? { dimensions } : {}),
          statistic: statistic ?? 'Sum',
          ...(unit ? { unit } : {}),
          label: label ?? [metricName, ...Object.values(dimensions ?? {})].join(' '),
        }),
      ),
      leftYAxis: { min: 0, showUnits: false, ...(figure.axisLabel ? { label: figure.axisLabel } : {}) },
    });
  }

  /** A metric of the app's namespace with the job's `service` and `job` dimensions. */
  private jobMetric(
    jobId: string,
    metricName: string,
    options: Omit<JobFigureMetric, 'metricName' | 'statistic'> & {
      readonly statistic: string;
      readonly period?: Duration;
      readonly color?: string;
    },
  ): cloudwatch.Metric {
    const { namespace, serviceName } = this.props.metrics;
    return new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { ...options.dimensions, service: serviceName, job: jobId },
      statistic: options.statistic,
      period: options.period ?? PERIOD,
      ...(options.unit ? { unit: options.unit } : {}),
      ...(options.label ? { label: options.label } : {}),
      ...(options.color ? { color: options.color } : {}),
    });
  }
}

/**
 * One line for the sum of the same metric over several functions. FILL makes a function that was not invoked
 * in a period count as zero: without it, the sum would have no point whenever one function had none.
 */
function sumOf(label: string, metrics: readonly cloudwatch.Metric[], color: string): cloudwatch.IMetric {
  const [only] = metrics;
  if (metrics.length === 1 && only) return only.with({ label, color });
  const usingMetrics = Object.fromEntries(metrics.map((metric, i) => [`${label}${i}`, metric]));
  return new cloudwatch.MathExpression({
    label,
    color,
    expression: `SUM([${Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(', ')}])`,
    usingMetrics,
    period: PERIOD,
  });
}
