import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generateLoad } from './load-generator.js';
import type { TrafficItem } from './service-spec.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const item = (name: string, weight: number, path: string, expectStatus = 200): TrafficItem => ({
  name,
  weight,
  method: 'POST',
  path,
  body: { name },
  expectStatus,
});

describe('generateLoad', () => {
  it('sends the mix in its proportions and counts a status other than the expected one as an error', async () => {
    const received: Array<{ path: string; body: string }> = [];
    const endpoint = await serve(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      received.push({ path: req.url ?? '', body });
      res.writeHead(req.url === '/broken' ? 500 : 200).end('{}');
    });

    const report = await generateLoad({
      endpoint,
      mix: [item('fine', 3, '/fine'), item('broken', 1, '/broken')],
      requestsPerSecond: 100,
      durationMs: 400,
    });

    expect(received).toHaveLength(40);
    expect(received.filter((request) => request.path === '/broken')).toHaveLength(10);
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({ name: 'fine' });
    expect(report.stats).toMatchObject({ requests: 40, errors: 10, errorRate: 0.25 });
    expect(report.byItem.broken).toMatchObject({ requests: 10, errors: 10 });
    expect(report.byItem.fine).toMatchObject({ requests: 30, errors: 0 });
  });

  it('counts an expected non-200 status as a success', async () => {
    const endpoint = await serve((_req, res) => res.writeHead(404).end());

    const report = await generateLoad({
      endpoint,
      mix: [item('missing', 1, '/nope', 404)],
      requestsPerSecond: 50,
      durationMs: 100,
    });

    expect(report.stats).toMatchObject({ requests: 5, errors: 0 });
  });

  it('counts refused connections as errors', async () => {
    const endpoint = await serve((_req, res) => res.end());
    const closing = servers.pop();
    await new Promise<void>((resolve) => closing?.close(() => resolve()));

    const report = await generateLoad({
      endpoint,
      mix: [item('any', 1, '/')],
      requestsPerSecond: 50,
      durationMs: 100,
    });

    expect(report.stats).toMatchObject({ requests: 5, errors: 5, errorRate: 1 });
  });

  it('counts a request with no answer in time as an error, with the time it was given as its latency', async () => {
    const endpoint = await serve((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end(), 1000);
      else res.end();
    });

    const started = Date.now();
    const report = await generateLoad({
      endpoint,
      mix: [item('slow', 1, '/slow'), item('quick', 1, '/quick')],
      requestsPerSecond: 20,
      durationMs: 200,
      timeoutMs: 150,
    });

    expect(Date.now() - started).toBeLessThan(900);
    expect(report.byItem.slow).toMatchObject({ requests: 2, errors: 2 });
    expect(report.byItem.slow?.latencyP95Ms).toBeGreaterThanOrEqual(150);
    expect(report.byItem.quick).toMatchObject({ requests: 2, errors: 0 });
  });
});
