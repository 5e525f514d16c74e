/**
 * How this process's DynamoDB clients reach the embedded DynamoDB: an SDK request handler (the client's
 * transport, below serialization and signing, so every request is the real SDK's) that either answers from
 * the store this process holds, or forwards the request over HTTP to the process that holds it.
 */
import { request as httpRequest, Agent } from 'node:http';
import type { DynamoDbStore, StoreResponse } from './dynamodb-store';

/** The part of an SDK HttpRequest a transport reads (`@smithy/protocol-http`'s shape). */
interface SdkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** An SDK v3 request handler (`requestHandler` in a client's configuration). */
export interface SdkRequestHandler {
  readonly metadata: { handlerProtocol: string };
  handle(request: SdkRequest, options?: { abortSignal?: AbortSignal }): Promise<{ response: SdkResponse }>;
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

interface SdkResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Where the embedded DynamoDB is, as seen from this process: its own store, or another process's port. */
export type StoreRoute = { store: DynamoDbStore } | { port: number };

/**
 * A request handler that sends each request where `route()` says at that moment, so the clients built with it
 * keep working when the store moves (the process that held it ended, another took it over). `lost(port)` is
 * told when a forwarded request found nobody listening, and resolves when the route may be asked again.
 */
export function routedRequestHandler(
  route: () => StoreRoute,
  lost: (port: number) => Promise<void>,
): SdkRequestHandler {
  const agent = new Agent({ keepAlive: true });
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request, options) {
      options?.abortSignal?.throwIfAborted();
      const body = requestBody(request.body);
      for (let attempt = 0; ; attempt++) {
        const where = route();
        if ('store' in where) {
          return { response: toSdkResponse(await where.store.handle(request.headers['x-amz-target'], body)) };
        }
        try {
          return { response: await forward(agent, where.port, request, body, options?.abortSignal) };
        } catch (error) {
          // Nobody listens there any more: the request never arrived, so it is safe to send again once the
          // store has been found (or taken over). Anything else is the SDK's to retry or report.
          if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || attempt >= 2) throw error;
          await lost(where.port);
        }
      }
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy: () => agent.destroy(),
  };
}

function requestBody(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  // The SDK's JSON body is a Uint8Array with string methods that warn when used: read it as bytes.
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new TypeError('The local DynamoDB transport takes only string and byte bodies');
}

function toSdkResponse(response: StoreResponse): SdkResponse {
  return { statusCode: response.statusCode, headers: response.headers, body: Buffer.from(response.body) };
}

function forward(
  agent: Agent,
  port: number,
  request: SdkRequest,
  body: string,
  signal: AbortSignal | undefined,
): Promise<SdkResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.path,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(body)) },
        agent,
        ...(signal ? { signal } : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ statusCode: incoming.statusCode ?? 500, headers, body: Buffer.concat(chunks) });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
