import { createServer as createHttp1Server, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** One HTTP request the endpoint received, body parsed as JSON when it is JSON. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** What the endpoint answers: a status, a JSON body and extra headers. */
export interface EndpointReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Closeable {
  destroy(): void;
  on(event: 'close', listener: () => void): unknown;
}

/** A provider endpoint stand-in on 127.0.0.1, for tests that drive the real SDK clients. */
export interface TestEndpoint {
  /** `http://127.0.0.1:<port>` */
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 (port 0) that records every request and answers with `reply`.
 * Only for tests: Bedrock and OpenAI cannot run here, so their SDKs talk to this instead.
 * `http2` speaks cleartext HTTP/2, which the Bedrock runtime client uses by default; the OpenAI
 * client (fetch) speaks HTTP/1.1.
 *
 * @example
 * ```ts
 * const endpoint = await startTestEndpoint(() => ({ status: 200, body: { ok: true } }));
 * // ... point an SDK client at endpoint.url ...
 * await endpoint.close();
 * ```
 */
export async function startTestEndpoint(
  reply: (request: ReceivedRequest) => EndpointReply,
  protocol: 'http1' | 'http2' = 'http1',
): Promise<TestEndpoint> {
  const received: ReceivedRequest[] = [];
  const answer = (
    method: string | undefined,
    path: string | undefined,
    headers: IncomingHttpHeaders,
    text: string,
  ) => {
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the raw text so the test can still look at it.
    }
    const request: ReceivedRequest = { method: method ?? '', path: path ?? '', headers, body };
    received.push(request);
    const { status, body: replyBody, headers: replyHeaders } = reply(request);
    return {
      status,
      headers: { 'content-type': 'application/json', ...replyHeaders },
      text: JSON.stringify(replyBody),
    };
  };
  const readBody = async (stream: AsyncIterable<Buffer>) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server =
    protocol === 'http2'
      ? createHttp2Server(async (req, res) => {
          const out = answer(req.method, req.url, req.headers, await readBody(req));
          res.writeHead(out.status, out.headers);
          res.end(out.text);
        })
      : createHttp1Server(async (req, res) => {
          const out = answer(req.method, req.url, req.headers, await readBody(req));
          res.writeHead(out.status, out.headers);
          res.end(out.text);
        });
  // Clients keep connections alive; close() must end them or server.close() waits for ever.
  const open = new Set<Closeable>();
  const track = (connection: Closeable) => {
    open.add(connection);
    connection.on('close', () => open.delete(connection));
  };
  server.on('session', track);
  server.on('connection', track);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const connection of open) connection.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
