import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probe } from './http-probe.js';
import { EXPECT_STATUS_HEADER, TRAFFIC_CLASS_HEADER, TrafficRouter } from './traffic-router.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A version that answers `status` with its own name and remembers the headers it received. */
async function version(name: string, status = 200) {
  const seen: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    seen.push({ ...req.headers });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closed;
  };
  cleanups.push(close);
  return {
    seen,
    close,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deploymentId: name,
  };
}

async function startRouter(timeoutMs?: number) {
  const router = await TrafficRouter.start({ timeoutMs });
  cleanups.push(() => router.close());
  return router;
}

describe('TrafficRouter', () => {
  it('sends exactly 10 of 100 requests of a kind to a 10% canary, and measures each side', async () => {
    const stable = await version('stable');
    const canary = await version('canary', 500);
    const router = await startRouter();
    router.route({ stable, canary, canaryPercent: 10 });
    router.openWindow();

    const answers: string[] = [];
    for (let i = 0; i < 100; i++) {
      const outcome = await probe(router.endpoint, {
        method: 'GET',
        path: '/health',
        expectStatus: 200,
        headers: { [EXPECT_STATUS_HEADER]: '200', [TRAFFIC_CLASS_HEADER]: 'health' },
      });
      answers.push(outcome.bodyStart);
    }
    const window = router.closeWindow();

    expect(answers.filter((answer) => answer === 'canary')).toHaveLength(10);
    expect(window.canary).toMatchObject({ requests: 10, errors: 10, errorRate: 1 });
    expect(window.stable).toMatchObject({ requests: 90, errors: 0, errorRate: 0 });
    expect(canary.seen[0]?.[EXPECT_STATUS_HEADER]).toBeUndefined();
    expect(canary.seen[0]?.[TRAFFIC_CLASS_HEADER]).toBeUndefined();
  });

  it('splits each kind of request separately, so a periodic mix cannot starve the canary of one kind', async () => {
    const stable = await version('stable');
    const canary = await version('canary');
    const router = await startRouter();
    router.route({ stable, canary, canaryPercent: 50 });

    const byKind: Record<string, string[]> = { a: [], b: [] };
    for (let i = 0; i < 20; i++) {
      // Alternating kinds with a shared rotation would send every `a` to one side.
      const kind = i % 2 === 0 ? 'a' : 'b';
      const outcome = await probe(router.endpoint, {
        method: 'GET',
        path: `/${kind}`,
        expectStatus: 200,
        headers: { [TRAFFIC_CLASS_HEADER]: kind },
      });
      byKind[kind]?.push(outcome.bodyStart);
    }

    expect(byKind.a?.filter((answer) => answer === 'canary')).toHaveLength(5);
    expect(byKind.b?.filter((answer) => answer === 'canary')).toHaveLength(5);
  });

  it('sends everything to the canary at 100% and nothing at 0%', async () => {
    const stable = await version('stable');
    const canary = await version('canary');
    const router = await startRouter();

    router.route({ stable, canary, canaryPercent: 100 });
    const all = await probe(router.endpoint, { method: 'GET', path: '/', expectStatus: 200 });
    router.route({ stable, canary, canaryPercent: 0 });
    const none = await probe(router.endpoint, { method: 'GET', path: '/', expectStatus: 200 });

    expect(all.bodyStart).toBe('canary');
    expect(none.bodyStart).toBe('stable');
  });

  it('counts a version that does not answer in time or cannot be reached as an error', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          hanging.closeAllConnections();
          hanging.close(() => resolve());
        }),
    );
    const gone = await version('gone');
    const router = await startRouter(200);
    router.route({
      stable: {
        deploymentId: 'hanging',
        endpoint: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
      },
      canaryPercent: 0,
    });
    router.openWindow();

    const slow = await probe(router.endpoint, { method: 'GET', path: '/', expectStatus: 200 });
    await gone.close();
    router.route({ stable: gone, canaryPercent: 0 });
    const refused = await probe(router.endpoint, { method: 'GET', path: '/', expectStatus: 200 });
    const window = router.closeWindow();

    expect(slow.status).toBe(504);
    expect(refused.status).toBe(502);
    expect(window.stable).toMatchObject({ requests: 2, errors: 2 });
  });

  it('answers 503 when no version is live', async () => {
    const router = await startRouter();

    const outcome = await probe(router.endpoint, { method: 'GET', path: '/', expectStatus: 200 });

    expect(outcome.status).toBe(503);
  });
});
