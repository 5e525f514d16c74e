/**
 * EventBridge Scheduler, as local mode knows it: the template's schedules. It answers GetSchedule (what the
 * sweep's slot check reads) with the synthesized schedule, as it would be deployed; any other command is a
 * clear error, never a call to AWS.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { answerInProcess } from './in-process-client';
import type { LocalSchedule } from './template';

export function localSchedulerClient(schedules: readonly LocalSchedule[]): SchedulerClient {
  const client = new SchedulerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return answerInProcess(
    client,
    'stepjobsLocalScheduler',
    {
      GetSchedule: async (input) => {
        const schedule = schedules.find((s) => s.logicalId === input.Name);
        if (!schedule) {
          const error = new Error(`Schedule ${String(input.Name)} does not exist.`);
          error.name = 'ResourceNotFoundException';
          throw error;
        }
        return {
          Name: schedule.logicalId,
          Arn: schedule.arn,
          State: schedule.enabled ? 'ENABLED' : 'DISABLED',
          ScheduleExpression: schedule.expression,
          ScheduleExpressionTimezone: schedule.timeZone,
          ...(schedule.startDate ? { StartDate: new Date(schedule.startDate) } : {}),
          FlexibleTimeWindow:
            schedule.flexibleWindowMinutes > 0
              ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: schedule.flexibleWindowMinutes }
              : { Mode: 'OFF' },
          Target: { Arn: schedule.targetArn, RoleArn: 'local', Input: schedule.inputTemplate },
        };
      },
    },
    (command) => new Error(`Local mode does not answer EventBridge Scheduler ${command}`),
  );
}
