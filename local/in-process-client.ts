/**
 * Real AWS SDK v3 clients whose commands are answered in-process: local mode's stand-ins for AWS services
 * (the simulated account's EC2, CloudWatch Logs and STS; Step Functions' record of executions). The client is
 * a real instance, so code that uses it (paginators, `instanceof` checks, error names) runs unchanged, but a
 * middleware at the first step answers each command before anything is serialized, signed or sent.
 */
import { randomUUID } from 'node:crypto';

/** One command's answer, from its input. */
export type InProcessHandler = (input: Record<string, unknown>) => Promise<object>;

/** The shape of a client's middleware stack this module needs (every SDK v3 client has it). */
interface Stackable {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/**
 * Answer every command of `client` with `handlers` (by command name without `Command`); a command without a
 * handler fails with `unsupported(command)`, never with a request to AWS.
 */
export function answerInProcess<C>(
  client: C,
  name: string,
  handlers: Readonly<Record<string, InProcessHandler>>,
  unsupported: (command: string) => Error,
): C {
  (client as unknown as Stackable).middlewareStack.add(
    (_next, context) => async (args) => {
      const command = (context.commandName ?? 'an unnamed command').replace(/Command$/, '');
      const handler = handlers[command];
      if (!handler) throw unsupported(command);
      const output = await handler((args.input ?? {}) as Record<string, unknown>);
      return {
        output: {
          $metadata: { httpStatusCode: 200, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 },
          ...output,
        },
        response: {},
      };
    },
    { step: 'initialize', name, priority: 'high' },
  );
  return client;
}
