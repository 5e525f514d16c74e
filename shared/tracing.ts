/**
 * X-Ray tracing without the X-Ray SDK. With active tracing, Lambda records every invocation's segment
 * itself; this adds what the Powertools Tracer added on top, at a fraction of its weight (the X-Ray SDK and
 * its dependencies are about 120 KB, most of a task's 150 KB budget, and a third of its cold start):
 *
 * - one `## <handler>` subsegment per invocation, with annotations (cold start, service, job, run, step) and
 *   the error when the handler fails;
 * - one subsegment per AWS SDK call of an instrumented client: service, operation, region, table, request id,
 *   retries, HTTP status, and whether it was a throttle, an error (4xx) or a fault (5xx).
 *
 * Documents go to the X-Ray daemon over UDP (`AWS_XRAY_DAEMON_ADDRESS`), one datagram each, in the daemon's
 * documented format: a `{"format":"json","version":1}` header line, then the subsegment. Nothing is sent when
 * the invocation is not sampled, outside Lambda (no `_X_AMZN_TRACE_ID`), or with `POWERTOOLS_TRACE_ENABLED`
 * set to `false` (local mode). The SDK itself forwards the trace header to AWS services.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

export type Env = Readonly<Record<string, string | undefined>>;

export interface TraceContext {
  traceId: string;
  /** The id of the segment new subsegments hang from. */
  parentId: string;
  sampled: boolean;
}

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`, as Lambda sets it. */
export function parseTraceHeader(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const fields = new Map(
    header.split(';').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const traceId = fields.get('Root');
  const parentId = fields.get('Parent');
  if (!traceId || !parentId) return undefined;
  return { traceId, parentId, sampled: fields.get('Sampled') === '1' };
}

/** `169.254.79.129:2000`, or `tcp:127.0.0.1:2000 udp:127.0.0.1:2000`: the UDP part. */
export function daemonAddress(value: string | undefined): { host: string; port: number } | undefined {
  if (!value) return undefined;
  const udp = value.split(/\s+/).find((part) => part.startsWith('udp:')) ?? value.split(/\s+/)[0] ?? '';
  const [host, port] = udp.replace(/^(udp|tcp):/, '').split(':');
  const portNumber = Number(port);
  return host && Number.isInteger(portNumber) ? { host, port: portNumber } : undefined;
}

/** A subsegment being timed; `close` sends it. */
export interface Subsegment {
  readonly id: string;
  annotate(key: string, value: string | number | boolean): void;
  close(outcome?: { error?: unknown; status?: number; aws?: Record<string, unknown> }): void;
}

const NOOP: Subsegment = { id: '', annotate: () => undefined, close: () => undefined };
const HEADER = '{"format":"json","version":1}\n';

const newId = () => randomBytes(8).toString('hex');
const seconds = () => Date.now() / 1000;

export class Tracing {
  private socket: Socket | undefined;
  private current: { context: TraceContext; handler: Subsegment } | undefined;
  private coldStart = true;

  constructor(private readonly env: Env = process.env) {}

  private get enabled(): boolean {
    return this.env.POWERTOOLS_TRACE_ENABLED !== 'false';
  }

  /**
   * Start the invocation's `## <name>` subsegment under Lambda's own segment, and make it the parent of the
   * SDK calls until it is closed. Returns a no-op outside a sampled Lambda invocation.
   */
  startInvocation(name: string, annotations: Record<string, string> = {}): Subsegment {
    const context = this.enabled ? parseTraceHeader(this.env._X_AMZN_TRACE_ID) : undefined;
    const cold = this.coldStart;
    this.coldStart = false;
    if (!context?.sampled) return NOOP;
    const handler = this.subsegment(context, context.parentId, `## ${name}`);
    handler.annotate('ColdStart', cold);
    if (this.env.POWERTOOLS_SERVICE_NAME) handler.annotate('Service', this.env.POWERTOOLS_SERVICE_NAME);
    for (const [key, value] of Object.entries(annotations)) handler.annotate(key, value);
    this.current = { context, handler };
    return {
      id: handler.id,
      annotate: (key, value) => handler.annotate(key, value),
      close: (outcome) => {
        handler.close(outcome);
        if (this.current?.handler === handler) this.current = undefined;
      },
    };
  }

  /**
   * Trace every command of an AWS SDK v3 client as a subsegment of the current invocation. Returns the client.
   * The middleware comes first (the `initialize` step), so it sees the command's input (the table name) and
   * times the whole call, retries included, whose count and final status the response's metadata gives.
   */
  instrument<C extends { middlewareStack: { add: (...args: never[]) => unknown } }>(
    client: C,
    service: string,
  ): C {
    const add = client.middlewareStack.add as unknown as (
      middleware: (
        next: (args: { input: unknown }) => Promise<{ output: unknown; response: unknown }>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ) => void;
    add.call(
      client.middlewareStack,
      (next, context) => async (args) => {
        const current = this.current;
        if (!current) return next(args);
        const call = this.subsegment(current.context, current.handler.id, service, 'aws');
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const input = (args.input ?? {}) as { TableName?: unknown };
        const aws: Record<string, unknown> = { operation };
        if (typeof input.TableName === 'string') aws.table_name = input.TableName;
        try {
          const result = await next(args);
          const meta = (result.output as { $metadata?: SdkMetadata } | undefined)?.$metadata;
          call.close({ status: meta?.httpStatusCode ?? 200, aws: { ...aws, ...awsFields(meta) } });
          return result;
        } catch (error) {
          const meta = (error as { $metadata?: SdkMetadata }).$metadata;
          call.close({ error, status: meta?.httpStatusCode, aws: { ...aws, ...awsFields(meta) } });
          throw error;
        }
      },
      { step: 'initialize', name: 'stepjobsXRay', priority: 'high' },
    );
    return client;
  }

  private subsegment(context: TraceContext, parentId: string, name: string, namespace?: 'aws'): Subsegment {
    const id = newId();
    const startTime = seconds();
    const annotations: Record<string, string | number | boolean> = {};
    return {
      id,
      annotate: (key, value) => {
        // X-Ray annotation keys are letters, digits and underscores.
        annotations[key.replace(/[^A-Za-z0-9_]/g, '_')] = value;
      },
      close: (outcome = {}) => {
        const doc: Record<string, unknown> = {
          type: 'subsegment',
          id,
          trace_id: context.traceId,
          parent_id: parentId,
          name,
          start_time: startTime,
          end_time: seconds(),
          ...(namespace ? { namespace } : {}),
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
          ...(outcome.aws ? { aws: outcome.aws } : {}),
          ...(outcome.status !== undefined ? { http: { response: { status: outcome.status } } } : {}),
          ...errorFields(outcome.error, outcome.status),
        };
        this.send(doc);
      },
    };
  }

  private send(doc: Record<string, unknown>): void {
    const address = daemonAddress(this.env.AWS_XRAY_DAEMON_ADDRESS);
    if (!address) return;
    if (!this.socket) {
      this.socket = createSocket('udp4');
      this.socket.unref();
      // A trace that cannot be sent must never fail the work it traces.
      this.socket.on('error', () => undefined);
    }
    this.socket.send(HEADER + JSON.stringify(doc), address.port, address.host);
  }
}

interface SdkMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts?: number;
}

function awsFields(meta: SdkMetadata | undefined): Record<string, unknown> {
  return {
    ...(meta?.requestId ? { request_id: meta.requestId } : {}),
    ...(meta?.attempts !== undefined ? { retries: Math.max(0, meta.attempts - 1) } : {}),
  };
}

/** X-Ray's error (4xx), throttle (429) and fault (5xx, or no answer) flags, and the exception. */
function errorFields(error: unknown, status: number | undefined): Record<string, unknown> {
  if (error === undefined && (status === undefined || status < 400)) return {};
  const fault = status === undefined ? error !== undefined : status >= 500;
  const flags = {
    ...(fault ? { fault: true } : { error: true }),
    ...(status === 429 || (error as { name?: string } | undefined)?.name?.includes('Throttl')
      ? { throttle: true }
      : {}),
  };
  if (error === undefined) return flags;
  const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
  return { ...flags, cause: { exceptions: [{ id: newId(), type: name, message }] } };
}
