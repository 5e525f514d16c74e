/**
 * Where run summaries go: SNS topics, the EventBridge bus, and a Slack incoming webhook whose URL is a Secrets
 * Manager secret. On AWS these are traced SDK clients, created on first use; in local mode nothing may reach
 * AWS, so the local runtime fills the seam below with channels that write to its outbox (local/outbox.ts) and
 * task code never imports local mode. The choice is configuration: local mode alone sets
 * {@link LOCAL_OUTBOX_TABLE} in every function's environment.
 */
import type * as EventBridge from '@aws-sdk/client-eventbridge';
import type * as SecretsManager from '@aws-sdk/client-secrets-manager';
import type * as SNS from '@aws-sdk/client-sns';
import type * as Secrets from '@aws-lambda-powertools/parameters/secrets';
import type { Env } from '../../shared/config';
import { ConfigError, StepJobsError } from '../../shared/errors';
import { tracing } from '../../shared/powertools';

function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}

/**
 * The notifier's SDK packages, each loaded when first used: a heartbeat that succeeded only puts an event, and
 * never needs SNS, Secrets Manager or Powertools Parameters (the SDK is left to the Lambda runtime, so every
 * client package required is paid for).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a lazy require is the point (see above) */
export const notifySdk = {
  events: once(() => require('@aws-sdk/client-eventbridge') as typeof EventBridge),
  sns: once(() => require('@aws-sdk/client-sns') as typeof SNS),
  secretsManager: once(() => require('@aws-sdk/client-secrets-manager') as typeof SecretsManager),
  secrets: once(() => require('@aws-lambda-powertools/parameters/secrets') as typeof Secrets),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Set (by local mode only) to the table of its outbox. */
export const LOCAL_OUTBOX_TABLE = 'STEPJOBS_LOCAL_OUTBOX_TABLE';

/** How long a webhook URL read from Secrets Manager is reused, in seconds: a rotated URL is used within 5 min. */
export const WEBHOOK_CACHE_SECONDS = 300;
/** A webhook that has not answered in this long has failed (the notifier has a budget for the whole batch). */
const WEBHOOK_TIMEOUT_MS = 5_000;

export interface NotificationChannels {
  sns: Pick<SNS.SNSClient, 'send'>;
  events: Pick<EventBridge.EventBridgeClient, 'send'>;
  /**
   * POST a JSON body to the Slack webhook whose URL the secret holds, about `run`. Throws
   * {@link WebhookFailed}.
   */
  postToWebhook(secretId: string, body: unknown, run: WebhookRun): Promise<void>;
}

/** A webhook answered with an error or not at all. The message never holds the URL (it is the credential). */
export class WebhookFailed extends StepJobsError {
  constructor(secretId: string, problem: string) {
    super(`The Slack webhook of secret ${secretId} ${problem}`);
    this.name = 'WebhookFailed';
  }
}

/** Which run a webhook message is about (local mode's outbox lists it by run). */
export interface WebhookRun {
  runId: string;
  jobId: string;
  status: string;
  outcome: string;
}

export type NotificationChannelsProvider = (env: Env) => NotificationChannels;

let localChannels: NotificationChannelsProvider | undefined;

/** Local mode's seam: where the notifier sends when {@link LOCAL_OUTBOX_TABLE} is set. */
export function provideNotificationChannels(provider: NotificationChannelsProvider): void {
  localChannels = provider;
}

let aws: NotificationChannels | undefined;

/** The channels `env` names: local mode's outbox, or AWS. */
export function notificationChannels(env: Env): NotificationChannels {
  if (env[LOCAL_OUTBOX_TABLE]) {
    if (!localChannels) {
      throw new ConfigError(
        `${LOCAL_OUTBOX_TABLE} is set, but no local channels are provided: only local mode has an outbox`,
      );
    }
    return localChannels(env);
  }
  aws ??= awsChannels();
  return aws;
}

function awsChannels(): NotificationChannels {
  let sns: SNS.SNSClient | undefined;
  let events: EventBridge.EventBridgeClient | undefined;
  let secrets: Secrets.SecretsProvider | undefined;
  return {
    sns: {
      send: (command) =>
        (sns ??= tracing.instrument(new (notifySdk.sns().SNSClient)({ maxAttempts: 4 }), 'SNS')).send(
          command,
        ),
    },
    events: {
      send: (command) =>
        (events ??= tracing.instrument(
          new (notifySdk.events().EventBridgeClient)({ maxAttempts: 4 }),
          'EventBridge',
        )).send(command),
    } as Pick<EventBridge.EventBridgeClient, 'send'>,
    postToWebhook: async (secretId, body) => {
      secrets ??= new (notifySdk.secrets().SecretsProvider)({
        awsSdkV3Client: tracing.instrument(
          new (notifySdk.secretsManager().SecretsManagerClient)({ maxAttempts: 4 }),
          'SecretsManager',
        ),
      });
      const url = await secrets.get(secretId, { maxAge: WEBHOOK_CACHE_SECONDS });
      if (typeof url !== 'string' || !/^https:\/\//.test(url.trim()))
        throw new WebhookFailed(secretId, 'is not an https URL');
      await postJson(url.trim(), body, secretId);
    },
  } as NotificationChannels;
}

async function postJson(url: string, body: unknown, secretId: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (error) {
    throw new WebhookFailed(secretId, `did not answer: ${(error as Error).name}`);
  }
  if (!response.ok) throw new WebhookFailed(secretId, `answered HTTP ${response.status}`);
}
