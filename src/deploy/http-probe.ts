import { type Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One HTTP request a probe sends, and the status that counts as success. */
export interface ProbeRequest {
  method: string;
  path: string;
  /** Sent as JSON when present. */
  body?: unknown;
  expectStatus: number;
  headers?: Record<string, string>;
}

export interface ProbeOutcome {
  /** The expected status came back in time. */
  ok: boolean;
  status?: number;
  latencyMs: number;
  /** Why there was no answer: the connection failed or the time ran out. */
  failure?: string;
  /** The start of the answer's body, for a person reading why a check failed. */
  bodyStart: string;
}

const BODY_START_LIMIT = 300;

/**
 * Sends one request to a loopback service and reports whether the expected status came back within
 * `timeoutMs`. Never throws: a refused connection or a timeout is an outcome too.
 *
 * @example
 * const outcome = await probe('http://127.0.0.1:8080', { method: 'GET', path: '/health', expectStatus: 200 });
 */
export function probe(
  endpoint: string,
  check: ProbeRequest,
  options: { timeoutMs?: number; agent?: Agent } = {},
): Promise<ProbeOutcome> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const started = performance.now();
  const payload = check.body === undefined ? undefined : JSON.stringify(check.body);
  const target = new URL(check.path, endpoint);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Omit<ProbeOutcome, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, latencyMs: performance.now() - started });
    };
    const outgoing = request(
      {
        host: target.hostname,
        port: target.port,
        method: check.method,
        path: `${target.pathname}${target.search}`,
        agent: options.agent,
        headers: {
          ...check.headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (answer) => {
        let bodyStart = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => {
          if (bodyStart.length < BODY_START_LIMIT)
            bodyStart += chunk.slice(0, BODY_START_LIMIT - bodyStart.length);
        });
        answer.once('end', () =>
          settle({ ok: answer.statusCode === check.expectStatus, status: answer.statusCode, bodyStart }),
        );
        answer.once('error', (error) => settle({ ok: false, failure: error.message, bodyStart }));
      },
    );
    const timer = setTimeout(() => {
      settle({ ok: false, failure: `no answer within ${timeoutMs} ms`, bodyStart: '' });
      outgoing.destroy();
    }, timeoutMs);
    outgoing.once('error', (error: NodeJS.ErrnoException) =>
      settle({ ok: false, failure: error.code ?? error.message, bodyStart: '' }),
    );
    outgoing.end(payload);
  });
}

/**
 * A sentence for a person: what came back, or why nothing did.
 *
 * @example
 * describeOutcome(await probe(endpoint, check), check.expectStatus); // 'expected 200, got 400 in 3 ms: {"error":"…"}'
 */
export function describeOutcome(outcome: ProbeOutcome, expectStatus: number): string {
  const took = `${Math.round(outcome.latencyMs)} ms`;
  if (outcome.status === undefined) return `no answer (${outcome.failure ?? 'unknown'}) after ${took}`;
  if (outcome.ok) return `answered ${outcome.status} in ${took}`;
  const body = outcome.bodyStart.trim();
  return `expected ${expectStatus}, got ${outcome.status} in ${took}${body ? `: ${body}` : ''}`;
}
