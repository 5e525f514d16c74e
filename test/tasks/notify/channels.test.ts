import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { notificationChannels, WebhookFailed } from '../../../tasks/notify/channels';

const secrets = mockClient(SecretsManagerClient);
const WEBHOOK = 'https://hooks.slack.example/services/T000/B000/XXXX';
const run = { runId: 'r-1', jobId: 'heartbeat', status: 'FAILED', outcome: 'FAILED' };

let fetchSpy: jest.SpiedFunction<typeof fetch>;
beforeEach(() => {
  secrets.reset();
  fetchSpy = jest.spyOn(global, 'fetch').mockResolvedValue(new Response('ok', { status: 200 }));
});
afterEach(() => fetchSpy.mockRestore());

test('the Slack webhook URL is read from Secrets Manager once and cached, and the body is posted to it', async () => {
  secrets
    .on(GetSecretValueCommand, { SecretId: 'stepjobs/slack' })
    .resolves({ SecretString: `${WEBHOOK}\n` });
  const channels = notificationChannels({});

  await channels.postToWebhook('stepjobs/slack', { text: 'one' }, run);
  await channels.postToWebhook('stepjobs/slack', { text: 'two' }, run);

  expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  expect(fetchSpy.mock.calls.map(([url, init]) => [url, init?.method, init?.body])).toEqual([
    [WEBHOOK, 'POST', '{"text":"one"}'],
    [WEBHOOK, 'POST', '{"text":"two"}'],
  ]);
});

test('a webhook that answers with an error, or a secret that holds no https URL, is a WebhookFailed that never shows the URL', async () => {
  secrets.on(GetSecretValueCommand, { SecretId: 'stepjobs/slack-403' }).resolves({ SecretString: WEBHOOK });
  secrets
    .on(GetSecretValueCommand, { SecretId: 'stepjobs/not-a-url' })
    .resolves({ SecretString: 'http://plain' });
  fetchSpy.mockResolvedValue(new Response('invalid_token', { status: 403 }));
  const channels = notificationChannels({});

  const refused = await channels.postToWebhook('stepjobs/slack-403', {}, run).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(WebhookFailed);
  expect((refused as Error).message).toBe('The Slack webhook of secret stepjobs/slack-403 answered HTTP 403');

  const plain = await channels.postToWebhook('stepjobs/not-a-url', {}, run).catch((e: unknown) => e);
  expect((plain as Error).message).toBe('The Slack webhook of secret stepjobs/not-a-url is not an https URL');
  for (const error of [refused, plain]) expect(String((error as Error).message)).not.toContain('hooks.slack');
});
