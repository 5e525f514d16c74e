import * as fs from 'node:fs';
import * as path from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AppConfigError, parseAppConfig } from '../../stacks/app-config';
import { buildApp } from '../../stacks/build-app';
import { REPO_ROOT } from '../../stacks/constructs/task-function';

/** The `stepjobs` object of cdk.json, read fresh for each test. */
function cdkJsonConfig(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: { stepjobs: Record<string, unknown> };
  };
  return { ...cdkJson.context.stepjobs };
}

test('cdk.json holds a valid configuration', () => {
  const config = parseAppConfig(cdkJsonConfig());
  expect(config).toMatchObject({ stackName: 'StepJobs', logLevel: 'INFO', tableDeletionProtection: true });
  expect(config.logRetention).toBe(RetentionDays.THREE_MONTHS);
});

test.each([
  [
    'logRetentionDays',
    42,
    /"stepjobs\.logRetentionDays": must be one of the CloudWatch Logs retention periods/,
  ],
  ['logLevel', 'VERBOSE', /"stepjobs\.logLevel"/],
  ['tableDeletionProtection', 'yes', /"stepjobs\.tableDeletionProtection"/],
  ['alarmEmail', 'not-an-email', /"stepjobs\.alarmEmail"/],
  ['stackName', 'has spaces', /"stepjobs\.stackName": must be 1-64 letters/],
  ['logKmsKeyArn', 'alias/aws/logs', /"stepjobs\.logKmsKeyArn": must be the ARN of a KMS key/],
  ['reportRetentionDays', 0, /"stepjobs\.reportRetentionDays"/],
])('a bad %s is named in the error', (key, value, message) => {
  expect(() => parseAppConfig({ ...cdkJsonConfig(), [key]: value })).toThrow(message);
});

test('a missing key is named', () => {
  const { serviceName: _omitted, ...rest } = cdkJsonConfig();
  expect(() => parseAppConfig(rest)).toThrow(/"stepjobs\.serviceName"/);
});

test('an unknown key (a typo) is named', () => {
  expect(() => parseAppConfig({ ...cdkJsonConfig(), logRetentionDay: 30 })).toThrow(
    /"stepjobs\.logRetentionDay"/,
  );
});

test('a missing stepjobs object is an AppConfigError', () => {
  expect(() => parseAppConfig(undefined)).toThrow(AppConfigError);
});

test('buildApp reads the configuration from context, and context overrides win', () => {
  const { stack, config } = buildApp({
    context: {
      'aws:cdk:bundling-stacks': [],
      stepjobs: { ...cdkJsonConfig(), stackName: 'StepJobsTest', tableDeletionProtection: false },
    },
    nag: false,
  });
  expect(stack.stackName).toBe('StepJobsTest');
  expect(config.tableDeletionProtection).toBe(false);
  expect(() => buildApp({ context: { stepjobs: { ...cdkJsonConfig(), logLevel: 'LOUD' } } })).toThrow(
    /"stepjobs\.logLevel"/,
  );
});
