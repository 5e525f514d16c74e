/**
 * A DynamoDB fault proxy for the fault suite: an HTTP proxy in front of an embedded DynamoDB that forwards
 * every request, except those a rule matches, which it throttles, fails with a 5xx, drops, delays, or holds
 * until the test lets go (a crash test kills the process that sent it meanwhile).
 *
 * Rules match a request by operation and body, so a fault hits exactly the write a test means ("the run
 * record's finalize", "the step's end"), whichever process sends it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a rule sees of a request: the DynamoDB operation (`PutItem`) and the parsed JSON body. */
export interface DynamoRequest {
  op: string;
  body: Record<string, unknown>;
  /** The body as sent, for matching on text. */
  text: string;
}

export type Fault =
  | { kind: 'throttle' }
  | { kind: 'server-error' }
  /** Close the connection without an answer, as a network failure does. */
  | { kind: 'drop' }
  | { kind: 'latency'; ms: number }
  /** Keep the request open until {@link Hold.release}; `held` resolves when it arrives. */
  | { kind: 'hold' };

export interface Rule {
  /** Which requests the rule hits. @default every request */
  match?: (request: DynamoRequest) => boolean;
  fault: Fault;
  /** How many requests it hits before it stops. @default no limit */
  times?: number;
  /**
   * An outage: once the rule first hits, it hits every request (matching or not) for this long, then stops.
   * @default none
   */
  forMs?: number;
}

export interface Hold {
  /** Resolves with the request when it is held. */
  held: Promise<DynamoRequest>;
  /** Answer the held request with a 500 and stop holding. */
  release(): void;
}

export class DynamoFaultProxy {
  private readonly rules: Array<Rule & { hits: number; since?: number }> = [];
  private readonly onRelease: Array<() => void> = [];
  /** Every request the proxy saw, with the fault it got (if any), for assertions. */
  readonly log: Array<{ op: string; fault?: Fault['kind'] }> = [];

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  static async start(targetEndpoint: string): Promise<DynamoFaultProxy> {
    const handlers: Array<DynamoFaultProxy['handle']> = [];
    const server = createServer((req, res) => void handlers[0]?.(req, res));
    const proxy = new DynamoFaultProxy(server, new URL(targetEndpoint));
    handlers.push((req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Add a rule; rules are tried in the order they were added. */
  inject(rule: Rule): this {
    this.rules.push({ ...rule, hits: 0 });
    return this;
  }

  /** Hold the first request `match` hits (and only that one). */
  hold(match: (request: DynamoRequest) => boolean): Hold {
    let resolveHeld!: (request: DynamoRequest) => void;
    const held = new Promise<DynamoRequest>((resolve) => (resolveHeld = resolve));
    const rule: Rule & { hits: number; onHeld?: (r: DynamoRequest) => void } = {
      match,
      fault: { kind: 'hold' },
      times: 1,
      hits: 0,
      onHeld: resolveHeld,
    };
    this.rules.push(rule);
    let released = false;
    return {
      held,
      release: () => {
        if (released) return;
        released = true;
        for (const release of this.onRelease.splice(0)) release();
      },
    };
  }

  /** Remove every rule (held requests stay held until released). */
  clear(): void {
    this.rules.length = 0;
  }

  /** How many requests of `op` a fault hit. */
  faulted(op?: string): number {
    return this.log.filter((entry) => entry.fault && (!op || entry.op === op)).length;
  }

  async stop(): Promise<void> {
    for (const release of this.onRelease.splice(0)) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      // not JSON: no rule can match on its body
    }
    const request: DynamoRequest = { op, body, text };
    const now = Date.now();
    const rule = this.rules.find((r) => {
      if (r.forMs !== undefined && r.since !== undefined) return now - r.since < r.forMs;
      return (r.times === undefined || r.hits < r.times) && (!r.match || r.match(request));
    }) as (Rule & { hits: number; since?: number; onHeld?: (r: DynamoRequest) => void }) | undefined;
    if (rule) {
      rule.hits += 1;
      rule.since ??= now;
    }
    this.log.push({ op, ...(rule ? { fault: rule.fault.kind } : {}) });
    const fault = rule?.fault;
    const reply = (status: number, type: string, message: string) => {
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: type, message }));
    };
    switch (fault?.kind) {
      case 'throttle':
        return reply(
          400,
          'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded (fault proxy)',
        );
      case 'server-error':
        return reply(500, 'com.amazon.coral.service#InternalFailure', 'Internal failure (fault proxy)');
      case 'drop':
        req.socket.destroy();
        return;
      case 'hold':
        rule?.onHeld?.(request);
        await new Promise<void>((resolve) => this.onRelease.push(resolve));
        if (!res.headersSent && !req.socket.destroyed)
          reply(500, 'com.amazon.coral.service#InternalFailure', 'Released by the fault proxy');
        return;
      case 'latency':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        break;
      default:
        break;
    }
    this.forward(req, text, res);
  }

  private forward(req: IncomingMessage, text: string, res: import('node:http').ServerResponse): void {
    const upstream = httpRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(text);
  }
}

/** Matchers for the ledger's writes, by what they are for. */
export const ledgerWrites = {
  /** A DynamoDB item key attribute (`sk`) as a string. */
  sk: (request: DynamoRequest): string => {
    const item = (request.body.Item ?? request.body.Key) as Record<string, { S?: string }> | undefined;
    return item?.sk?.S ?? '';
  },
  /** StartRun's (or a finalizer's) creation of a run record. */
  runCreate: (request: DynamoRequest) => request.op === 'PutItem' && ledgerWrites.sk(request) === 'RUN',
  /** FinishRun's, FailRun's, the reconciler's or the sweep's finalize of a run record. */
  runFinalize: (request: DynamoRequest) =>
    request.op === 'UpdateItem' && ledgerWrites.sk(request) === 'RUN' && request.text.includes('endedAt'),
  /** The claim of a scheduled slot. */
  slotClaim: (request: DynamoRequest) =>
    request.op === 'PutItem' && ledgerWrites.sk(request).startsWith('SLOT#'),
  /** The start (ADD attempts) or end (endedAt) of a step record. */
  stepStart: (step: string) => (request: DynamoRequest) =>
    request.op === 'UpdateItem' &&
    ledgerWrites.sk(request).startsWith(`STEP#${step}`) &&
    request.text.includes('attempts'),
  stepEnd: (step: string) => (request: DynamoRequest) =>
    request.op === 'UpdateItem' &&
    ledgerWrites.sk(request).startsWith(`STEP#${step}`) &&
    !request.text.includes('attempts'),
  /** Any request to the ledger table (not local mode's own tables). */
  ledgerTable: (table: string) => (request: DynamoRequest) => request.body.TableName === table,
};
