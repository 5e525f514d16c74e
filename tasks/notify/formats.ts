/**
 * A run summary in each channel's format:
 * - the custom notification of Amazon Q Developer in chat applications (formerly AWS Chatbot), the SNS
 *   message's `default`, which Slack and Teams channels subscribed through it show with no code of ours;
 * - plain text, the SNS message's `email`;
 * - a Slack incoming-webhook body (mrkdwn);
 * - the EventBridge entry ("stepjobs Run Finished", the summary as its detail).
 */
import { duration, truncate } from '../../shared/run-text';
import type { RunFinishedSummary } from './summary';

export const EVENT_SOURCE = 'stepjobs';
export const EVENT_DETAIL_TYPE = 'stepjobs Run Finished';
/** SNS subjects are at most 100 characters. */
const MAX_SUBJECT = 100;

const ICONS: Record<string, string> = {
  FAILED: ':x:',
  TIMED_OUT: ':hourglass:',
  ABORTED: ':octagonal_sign:',
  MISSED: ':warning:',
  SKIPPED: ':fast_forward:',
  DUPLICATE: ':twisted_rightwards_arrows:',
  CHANGED: ':white_check_mark:',
  SUCCEEDED: ':white_check_mark:',
};

/** `heartbeat FAILED`, `release-idle-resources SUCCEEDED (changed 3)`. */
export function headline(summary: RunFinishedSummary): string {
  const changed = summary.outcome === 'CHANGED' ? ` (changed ${summary.changed})` : '';
  return `${summary.jobId} ${summary.statusText}${changed}`;
}

/** The facts, one per line, as `[label, value]`. */
function facts(summary: RunFinishedSummary): Array<[string, string]> {
  const lines: Array<[string, string]> = [
    ['Run', summary.runId],
    ['Trigger', summary.trigger.text],
    ['Started by', summary.trigger.principal],
  ];
  if (summary.trigger.scheduledTime) lines.push(['Slot', summary.trigger.scheduledTime]);
  lines.push(['Started', summary.startedAt]);
  if (summary.durationMs !== undefined) lines.push(['Duration', duration(summary.durationMs)]);
  if (summary.error)
    lines.push(['Error', `${summary.error.name}${summary.error.cause ? `: ${summary.error.cause}` : ''}`]);
  if (summary.redriveCount)
    lines.push(['Redriven', `${summary.redriveCount} time${summary.redriveCount > 1 ? 's' : ''}`]);
  if (summary.finalizedBy) lines.push(['Recorded by', `the ${summary.finalizedBy}`]);
  if (summary.hint) lines.push(['What to do', summary.hint]);
  for (const [label, value] of Object.entries(summary.figures ?? {})) lines.push([label, String(value)]);
  if (summary.figuresUnavailable) lines.push(['Figures', summary.figuresUnavailable]);
  return lines;
}

/** What to do next, with the command and the console link. */
function nextSteps(summary: RunFinishedSummary): string[] {
  return [
    `Show the run: ${summary.cliCommand}`,
    ...(summary.consoleUrl ? [`Open the execution: ${summary.consoleUrl}`] : []),
  ];
}

/** The custom notification envelope of Amazon Q Developer in chat applications. */
export function chatNotification(summary: RunFinishedSummary): Record<string, unknown> {
  return {
    version: '1.0',
    source: 'custom',
    id: `${summary.runId}#${summary.status}`,
    content: {
      textType: 'client-markdown',
      title: `${ICONS[summary.outcome] ?? ''} ${headline(summary)}`.trim(),
      description: facts(summary)
        .map(([label, value]) => `*${label}:* ${value}`)
        .join('\n'),
      nextSteps: nextSteps(summary),
      keywords: [summary.jobId, summary.outcome, summary.trigger.type],
    },
    metadata: {
      threadId: `stepjobs-${summary.jobId}`,
      summary: headline(summary),
      eventType: EVENT_DETAIL_TYPE,
      relatedResources: summary.executionArn ? [summary.executionArn] : [],
      additionalContext: {
        runId: summary.runId,
        jobId: summary.jobId,
        status: summary.status,
        outcome: summary.outcome,
      },
    },
  };
}

/** The plain-text body email subscribers get. */
export function plainText(summary: RunFinishedSummary): string {
  const width = Math.max(...facts(summary).map(([label]) => label.length));
  return [
    headline(summary),
    '',
    ...facts(summary).map(([label, value]) => `${label.padEnd(width)}  ${value}`),
    '',
    ...nextSteps(summary),
  ].join('\n');
}

/** The SNS email subject. */
export function subject(summary: RunFinishedSummary): string {
  return truncate(`stepjobs: ${headline(summary)}`, MAX_SUBJECT);
}

/** The SNS Publish message: per-protocol bodies (`MessageStructure: 'json'`). */
export function topicMessage(summary: RunFinishedSummary): string {
  return JSON.stringify({
    default: JSON.stringify(chatNotification(summary)),
    email: plainText(summary),
  });
}

/** A Slack incoming-webhook body. */
export function slackMessage(summary: RunFinishedSummary): Record<string, unknown> {
  const link = summary.consoleUrl ? ` · <${summary.consoleUrl}|execution>` : '';
  return {
    text: `${ICONS[summary.outcome] ?? ''} *${headline(summary)}*${link}\n${facts(summary)
      .map(([label, value]) => `*${label}:* ${value}`)
      .join('\n')}\n\`${summary.cliCommand}\``,
  };
}
