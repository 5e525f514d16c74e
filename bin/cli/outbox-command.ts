/**
 * `stepjobs outbox`: what the run notifier would have sent, in local mode (topic messages in the chat format
 * with their email text, bus events, Slack posts). Local only, and it says so.
 */
import { readOutbox, type OutboxChannel, type OutboxEntry } from '../../local/outbox';
import { tryParseJson } from '../../shared/json';
import type { Output } from './commands';
import { CliError, ExitCode } from './errors';
import { shortTime, table, truncate } from './format';
import type { LocalTarget } from './local-target';

const OUTBOX_CHANNELS: readonly OutboxChannel[] = ['topic', 'events', 'slack'];

export function parseChannel(value: string): OutboxChannel {
  if (!(OUTBOX_CHANNELS as readonly string[]).includes(value))
    throw new CliError(`--channel must be one of ${OUTBOX_CHANNELS.join(', ')} (got "${value}")`);
  return value as OutboxChannel;
}

export async function outboxCommand(
  target: LocalTarget,
  io: Output,
  options: { json?: boolean; full?: boolean; limit: number; runId?: string; channel?: OutboxChannel },
): Promise<number> {
  const entries = await readOutbox(target.runtime.dynamoClient, {
    limit: options.limit,
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.channel ? { channel: options.channel } : {}),
  });
  if (options.json) {
    io.out(
      JSON.stringify(
        entries.map((entry) => ({ ...entry, message: parsed(entry.message) })),
        null,
        2,
      ),
    );
    return ExitCode.OK;
  }
  if (entries.length === 0) {
    io.out(
      'The outbox is empty: no run has ended since it was created (local mode only; nothing is sent to AWS).',
    );
    return ExitCode.OK;
  }
  io.out(
    `Outbox (local mode: what would have been sent; nothing left this machine), newest first: ${entries.length}`,
  );
  if (options.full) {
    for (const entry of entries)
      io.out(['', `${shortTime(entry.at)}  ${entry.channel} → ${entry.target}`, body(entry)].join('\n'));
    return ExitCode.OK;
  }
  io.out(
    table(
      ['sent (UTC)', 'channel', 'job', 'run', 'outcome', 'subject'],
      entries.map((e) => [
        shortTime(e.at),
        e.channel,
        e.jobId,
        e.runId,
        e.outcome,
        truncate(e.subject ?? '', 50),
      ]),
    ),
  );
  io.out('Whole messages: stepjobs outbox --full (or --json); one run: --run <runId>.');
  return ExitCode.OK;
}

/** A message as its JSON value, or as the text it is when it is not JSON. */
function parsed(text: string): unknown {
  return tryParseJson(text)?.value ?? text;
}

/** The message as its reader would see it: the email text of a topic message, the event detail, the Slack text. */
function body(entry: OutboxEntry): string {
  const message = parsed(entry.message) as Record<string, unknown>;
  if (entry.channel === 'topic') {
    const chat = JSON.stringify(parsed(String(message.default ?? '')), null, 2);
    return `Subject: ${entry.subject ?? ''}\n${String(message.email ?? '')}\n\nChat notification (default):\n${chat}`;
  }
  if (entry.channel === 'slack') return String(message.text ?? entry.message);
  return JSON.stringify(message, null, 2);
}
