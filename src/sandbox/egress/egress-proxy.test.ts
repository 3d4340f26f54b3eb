import { stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EgressDecision,
  type EgressProxy,
  type EgressProxyOptions,
  startEgressProxy,
} from './egress-proxy.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listening(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A TCP echo server on loopback: the stand-in for a registry behind a CONNECT tunnel. */
async function echoServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const port = await listening(server);
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
  });
  return port;
}

/** A loopback port that was just free: a destination that is down. */
async function portNobodyListensOn(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A plain-HTTP stand-in registry that says what it was asked. */
async function standInRegistry(): Promise<number> {
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`stand-in saw ${request.method} ${request.url} for ${request.headers.host}`);
  });
  return listening(server);
}

async function proxyWith(
  options: Omit<EgressProxyOptions, 'onDecision'>,
): Promise<{ proxy: EgressProxy; decisions: EgressDecision[] }> {
  const decisions: EgressDecision[] = [];
  const proxy = await startEgressProxy({ ...options, onDecision: (decision) => decisions.push(decision) });
  cleanups.push(() => proxy.close());
  return { proxy, decisions };
}

/** Sends `CONNECT authority` over the proxy's socket; resolves with the status and the open socket. */
async function connectThrough(
  socketPath: string,
  authority: string,
): Promise<{ status: number; body: string; socket: net.Socket }> {
  const socket = net.connect(socketPath);
  cleanups.push(async () => {
    socket.destroy();
  });
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  let received = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received.toString('latin1'))?.[1]);
      const rest = received.subarray(end + 4).toString();
      if (status === 200) {
        resolve({ status, body: rest, socket });
        return;
      }
      let body = rest;
      socket.on('data', (more: Buffer) => {
        body += more.toString();
      });
      socket.on('close', () => resolve({ status, body, socket }));
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** Sends one absolute-URI request over the proxy's socket. */
async function getThrough(
  socketPath: string,
  url: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: url, headers: { host: new URL(url).host, ...headers } });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the egress proxy', () => {
  it('tunnels CONNECT to an allowlisted address and records the bytes each way', async () => {
    // Prepare
    const port = await echoServer();
    const { proxy, decisions } = await proxyWith({ endpoints: [`127.0.0.1:${port}`] });

    // Act
    const { status, socket } = await connectThrough(proxy.socketPath, `127.0.0.1:${port}`);
    socket.write('ping');
    const echoed = await new Promise<string>((resolve) =>
      socket.once('data', (data: Buffer) => resolve(data.toString())),
    );
    socket.end();
    await until(() => decisions.length === 1, 'the tunnel decision');

    // Assess
    expect(status).toBe(200);
    expect(echoed).toBe('ping');
    expect(decisions[0]).toMatchObject({
      protocol: 'connect',
      host: '127.0.0.1',
      port,
      outcome: 'allowed',
      address: '127.0.0.1',
      bytesUp: 4,
      bytesDown: 4,
    });
    expect(proxy.openTunnels).toBe(0);
  });

  it('forwards an absolute-URI plain-HTTP request with its original Host header', async () => {
    const port = await standInRegistry();
    const { proxy, decisions } = await proxyWith({ endpoints: [`127.0.0.1:${port}`] });

    const answer = await getThrough(proxy.socketPath, `http://127.0.0.1:${port}/is-number?full=1`, {
      'proxy-authorization': 'Basic c2VjcmV0',
    });
    await until(() => decisions.length === 1, 'the request decision');

    expect(answer).toEqual({
      status: 200,
      body: `stand-in saw GET /is-number?full=1 for 127.0.0.1:${port}`,
    });
    expect(decisions[0]).toMatchObject({ protocol: 'http', port, outcome: 'allowed', address: '127.0.0.1' });
    expect(decisions[0]?.bytesDown).toBeGreaterThan(answer.body.length);
  });

  it('refuses hosts that are not allowlisted, and IP literals the allowlist does not name exactly', async () => {
    const port = await echoServer();
    const { proxy, decisions } = await proxyWith({
      endpoints: [`127.0.0.1:${port}`, 'registry.npmjs.org:443'],
    });

    const refused = [
      await connectThrough(proxy.socketPath, 'example.com:443'),
      await connectThrough(proxy.socketPath, `127.0.0.1:${port + 1}`),
      await connectThrough(proxy.socketPath, '169.254.169.254:80'),
      await connectThrough(proxy.socketPath, '10.0.0.5:443'),
      await connectThrough(proxy.socketPath, '[::1]:443'),
      await connectThrough(proxy.socketPath, `[::ffff:127.0.0.1]:${port}`),
    ];
    const plain = await getThrough(proxy.socketPath, 'http://169.254.169.254/latest/meta-data/');

    expect(refused.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(plain.status).toBe(403);
    expect(decisions.map((decision) => [decision.host, decision.outcome, decision.reason])).toEqual([
      ['example.com', 'refused', 'not-allowlisted'],
      ['127.0.0.1', 'refused', 'not-allowlisted'],
      ['169.254.169.254', 'refused', 'not-allowlisted'],
      ['10.0.0.5', 'refused', 'not-allowlisted'],
      ['::1', 'refused', 'not-allowlisted'],
      ['::ffff:7f00:1', 'refused', 'not-allowlisted'],
      ['169.254.169.254', 'refused', 'not-allowlisted'],
    ]);
  });

  it('refuses an allowlisted name that resolves to loopback on the host (localhost)', async () => {
    const port = await echoServer();
    const { proxy, decisions } = await proxyWith({ endpoints: [`localhost:${port}`] });

    const answer = await connectThrough(proxy.socketPath, `localhost:${port}`);

    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/localhost resolves to (127\.0\.0\.1|::1), which is loopback/);
    expect(decisions).toEqual([
      expect.objectContaining({ host: 'localhost', outcome: 'refused', reason: 'blocked-address' }),
    ]);
  });

  it.each([
    ['the metadata address', ['169.254.169.254'], 'link-local'],
    ['a private address', ['10.20.30.40'], 'private (10/8)'],
    ['IPv6 loopback', ['::1'], 'loopback'],
    ['a mapped private address', ['::ffff:192.168.1.1'], 'private (192.168/16)'],
    ['one private address among public ones', ['104.16.1.35', '172.20.0.2'], 'private (172.16/12)'],
  ])('refuses an allowlisted name that resolves to %s', async (_label, addresses, why) => {
    const resolved: string[] = [];
    const { proxy, decisions } = await proxyWith({
      endpoints: ['registry.example.com:443'],
      resolve: async (host) => {
        resolved.push(host);
        return addresses;
      },
    });

    const answer = await connectThrough(proxy.socketPath, 'registry.example.com:443');

    expect(answer.status).toBe(403);
    expect(resolved).toEqual(['registry.example.com']);
    expect(decisions[0]).toMatchObject({ outcome: 'refused', reason: 'blocked-address' });
    expect(decisions[0]?.detail).toContain(why);
  });

  it('refuses a name the host cannot resolve, and records an allowed destination that is down as failed', async () => {
    const closedPort = await portNobodyListensOn();
    const { proxy, decisions } = await proxyWith({
      endpoints: ['nowhere.invalid:443', `127.0.0.1:${closedPort}`],
      resolve: async () => {
        throw new Error('ENOTFOUND nowhere.invalid');
      },
    });

    const unresolvable = await connectThrough(proxy.socketPath, 'nowhere.invalid:443');
    const down = await connectThrough(proxy.socketPath, `127.0.0.1:${closedPort}`);

    expect([unresolvable.status, down.status]).toEqual([502, 502]);
    expect(decisions.map((decision) => [decision.outcome, decision.reason])).toEqual([
      ['refused', 'unresolvable'],
      ['failed', undefined],
    ]);
  });

  it('bounds open tunnels, header size and idle connections', async () => {
    const port = await echoServer();
    const { proxy, decisions } = await proxyWith({
      endpoints: [`127.0.0.1:${port}`],
      limits: { maxTunnels: 1, maxHeaderBytes: 1024, idleTimeoutMs: 300 },
    });

    const first = await connectThrough(proxy.socketPath, `127.0.0.1:${port}`);
    const second = await connectThrough(proxy.socketPath, `127.0.0.1:${port}`);
    const huge = await getThrough(proxy.socketPath, `http://127.0.0.1:${port}/`, {
      'x-padding': 'a'.repeat(4096),
    });
    const closedIdle = await new Promise<boolean>((resolve) =>
      first.socket.once('close', () => resolve(true)),
    );
    await until(() => decisions.length === 3, 'three decisions');

    expect([first.status, second.status, huge.status]).toEqual([200, 503, 431]);
    expect(closedIdle).toBe(true);
    expect(decisions.map((decision) => decision.reason ?? decision.outcome)).toEqual([
      'too-many-tunnels',
      'malformed-request',
      'allowed',
    ]);
  });

  it('connects to the address it checked without resolving again, holding a tunnel slot meanwhile', async () => {
    // The first lookup answers only once the second request has been decided; 192.0.2.1 (TEST-NET-1)
    // is public, so it passes the checks, and routes nowhere, so connecting to it fails.
    const resolved: string[] = [];
    const decisions: EgressDecision[] = [];
    const proxy = await startEgressProxy({
      endpoints: ['registry.example.com:443'],
      limits: { maxTunnels: 1, connectTimeoutMs: 300 },
      onDecision: (decision) => decisions.push(decision),
      resolve: async (host) => {
        resolved.push(host);
        await until(() => decisions.length === 1, 'the second request to be refused');
        return ['192.0.2.1'];
      },
    });
    cleanups.push(() => proxy.close());

    const [first, second] = await Promise.all([
      connectThrough(proxy.socketPath, 'registry.example.com:443'),
      connectThrough(proxy.socketPath, 'registry.example.com:443'),
    ]);
    await until(() => decisions.length === 2, 'both decisions');

    expect([first.status, second.status].sort()).toEqual([502, 503]);
    expect(resolved).toEqual(['registry.example.com']);
    expect(decisions.map((decision) => decision.reason ?? decision.outcome)).toEqual([
      'too-many-tunnels',
      'failed',
    ]);
    expect(decisions[1]?.detail).toContain('192.0.2.1');
    expect(proxy.openTunnels).toBe(0);
  });

  it('refuses a request that is neither CONNECT nor an absolute http:// URI', async () => {
    const { proxy, decisions } = await proxyWith({ endpoints: [] });

    const relative = await new Promise<number>((resolve, reject) => {
      http
        .get({ socketPath: proxy.socketPath, path: '/etc/passwd' }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
        .on('error', reject);
    });

    expect(relative).toBe(400);
    expect(decisions[0]).toMatchObject({ outcome: 'refused', reason: 'malformed-request' });
  });

  it('listens on a socket others may connect to, in a directory it removes on close', async () => {
    const decisions: EgressDecision[] = [];
    const proxy = await startEgressProxy({
      endpoints: [],
      onDecision: (decision) => decisions.push(decision),
    });
    const directory = path.dirname(proxy.socketPath);

    const socketMode = (await stat(proxy.socketPath)).mode & 0o777;
    const directoryMode = (await stat(directory)).mode & 0o777;
    await proxy.close();

    expect(socketMode).toBe(0o666);
    expect(directoryMode).toBe(0o711);
    await expect(stat(directory)).rejects.toThrow(/ENOENT/);
  });
});
