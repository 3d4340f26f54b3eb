import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSandboxEgressPaths, forwarderScriptPath, wrapCommandForEgress } from './egress-forwarder.js';
import { type EgressDecision, type EgressProxy, startEgressProxy } from './egress-proxy.js';
import { defaultRegistryAllowlist, grantEgress } from './registry-allowlist.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs argv to the end; `onStdout` sees output as it comes (to act once the command is ready). */
function run(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onStdout?: (text: string, pid: number) => void } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child.pid as number);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function listening(server: net.Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

async function standIn(name: string, host: string): Promise<number> {
  return listening(
    http.createServer((request, response) => response.end(`${name} saw ${request.url}`)),
    host,
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function proxyFor(endpoints: string[]): Promise<{ proxy: EgressProxy; decisions: EgressDecision[] }> {
  const decisions: EgressDecision[] = [];
  const proxy = await startEgressProxy({ endpoints, onDecision: (decision) => decisions.push(decision) });
  cleanups.push(() => proxy.close());
  return { proxy, decisions };
}

/** A directory of test scripts, readable by the unprivileged uid the sandboxed commands run as. */
async function scriptDirectory(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'gantry-egress-test-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  await chmod(directory, 0o755);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(directory, name), text);
  return directory;
}

/**
 * Asks for each URL through HTTP_PROXY (plain HTTP: Node 20's fetch ignores the proxy variables),
 * then tries each `host:port` directly. Prints one JSON object.
 */
const probeScript = `
import http from 'node:http';
import net from 'node:net';
const [urls, direct] = [process.argv[2].split(','), process.argv[3].split(',')];
const proxy = new URL(process.env.HTTP_PROXY);
const viaProxy = (url) => new Promise((resolve) => {
  const request = http.get({ host: proxy.hostname, port: proxy.port, path: url, headers: { host: new URL(url).host } }, (response) => {
    let body = '';
    response.on('data', (chunk) => { body += chunk; });
    response.on('end', () => resolve({ url, status: response.statusCode, body: body.trim() }));
  });
  request.on('error', (error) => resolve({ url, error: error.code }));
});
const connect = (target) => new Promise((resolve) => {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const socket = net.connect({ host, port, timeout: 2000 });
  socket.on('connect', () => { socket.destroy(); resolve({ target, connected: true }); });
  socket.on('timeout', () => { socket.destroy(); resolve({ target, error: 'ETIMEDOUT' }); });
  socket.on('error', (error) => resolve({ target, error: error.code }));
});
const proxied = [];
for (const url of urls) proxied.push(await viaProxy(url));
const directly = [];
for (const target of direct) directly.push(await connect(target));
console.log(JSON.stringify({ uid: process.getuid(), proxied, directly }));
`;

const hasBwrap = existsSync('/usr/bin/bwrap') && process.getuid?.() === 0;

/** The setup sandbox as an adapter would build it: no network but `lo`, the proxy socket and forwarder bound in. */
function sandboxed(proxy: EgressProxy, scripts: string, command: string[]): string[] {
  return [
    '/usr/bin/bwrap',
    '--unshare-net',
    '--unshare-pid',
    '--die-with-parent',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--perms',
    '1777',
    '--tmpfs',
    '/tmp',
    '--ro-bind',
    proxy.socketPath,
    defaultSandboxEgressPaths.socketPath,
    '--ro-bind',
    forwarderScriptPath,
    defaultSandboxEgressPaths.forwarderPath,
    '--ro-bind',
    scripts,
    '/tmp/.gantry-test',
    '--chdir',
    '/tmp',
    '--setenv',
    'HOME',
    '/tmp',
    '--',
    // The sandboxed command runs as an unprivileged uid: the socket must be connectable by it.
    '/usr/bin/setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--',
    ...wrapCommandForEgress(command).argv,
  ];
}

async function reachesNpmRegistry(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: 'registry.npmjs.org', port: 443, timeout: 3000 });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

const npmRegistryReachable = hasBwrap && (await reachesNpmRegistry());

describe.skipIf(!hasBwrap)('egress from a bubblewrap sandbox with its own network namespace', () => {
  it('reaches an allowlisted stand-in through the proxy, and nothing else, as an unprivileged uid', async () => {
    // Prepare: one stand-in allowlisted by its exact address, one not (on every interface).
    const allowedPort = await standIn('allowed', '127.0.0.1');
    const deniedPort = await standIn('denied', '0.0.0.0');
    const hostAddress =
      Object.values(networkInterfaces())
        .flat()
        .find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address ?? '127.0.0.1';
    const { proxy, decisions } = await proxyFor([`127.0.0.1:${allowedPort}`]);
    const scripts = await scriptDirectory({ 'probe.mjs': probeScript });
    const urls = [`http://127.0.0.1:${allowedPort}/is-number`, `http://127.0.0.1:${deniedPort}/`];
    const direct = [`127.0.0.1:${allowedPort}`, `${hostAddress}:${deniedPort}`];

    // Act
    const result = await run(
      sandboxed(proxy, scripts, [
        '/usr/bin/node',
        '/tmp/.gantry-test/probe.mjs',
        urls.join(','),
        direct.join(','),
      ]),
    );

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      uid: number;
      proxied: Array<{ status?: number; body?: string }>;
      directly: Array<{ connected?: boolean; error?: string }>;
    };
    expect(report.uid).toBe(65534);
    expect(report.proxied[0]).toMatchObject({ status: 200, body: 'allowed saw /is-number' });
    expect(report.proxied[1]).toMatchObject({ status: 403 });
    expect(report.proxied[1]?.body).toContain("is not on this run's egress allowlist");
    expect(report.directly.map((attempt) => attempt.connected ?? false)).toEqual([false, false]);
    expect(report.directly[0]?.error).toBe('ECONNREFUSED');
    expect(decisions.map((decision) => [decision.port, decision.outcome])).toEqual([
      [allowedPort, 'allowed'],
      [deniedPort, 'refused'],
    ]);
  });

  it.skipIf(!npmRegistryReachable)(
    'runs `npm view is-number version` against registry.npmjs.org through the proxy',
    async () => {
      const { proxy, decisions } = await proxyFor(grantEgress(defaultRegistryAllowlist).endpoints);
      const scripts = await scriptDirectory({});
      const npm = ['npm', '--cache', '/tmp/npm-cache', '--fetch-retries', '0'];

      const allowed = await run(sandboxed(proxy, scripts, [...npm, 'view', 'is-number', 'version']));
      const elsewhere = await run(
        sandboxed(proxy, scripts, [
          ...npm,
          'view',
          'is-number',
          'version',
          '--registry',
          'https://registry.npmmirror.com/',
        ]),
      );

      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      expect(elsewhere.code).not.toBe(0);
      expect(decisions).toContainEqual(
        expect.objectContaining({ host: 'registry.npmjs.org', port: 443, outcome: 'allowed' }),
      );
      expect(decisions.find((decision) => decision.host === 'registry.npmjs.org')?.bytesDown).toBeGreaterThan(
        1000,
      );
      expect(decisions).toContainEqual(
        expect.objectContaining({
          host: 'registry.npmmirror.com',
          outcome: 'refused',
          reason: 'not-allowlisted',
        }),
      );
    },
  );
});

describe('the sandbox forwarder', () => {
  async function forwarded(command: string[], onStdout?: (text: string, pid: number) => void) {
    const { proxy } = await proxyFor([]);
    const wrapped = wrapCommandForEgress(command, {
      nodePath: process.execPath,
      forwarderPath: forwarderScriptPath,
      socketPath: proxy.socketPath,
      port: await freePort(),
    });
    return { wrapped, result: await run(wrapped.argv, { onStdout }) };
  }

  it('gives the command the proxy variables and exits with its status', async () => {
    const { wrapped, result } = await forwarded([
      process.execPath,
      '-e',
      'const names = Object.keys(process.env).filter((n) => /proxy/i.test(n)); ' +
        'console.log(JSON.stringify(Object.fromEntries(names.map((n) => [n, process.env[n]])))); process.exit(7)',
    ]);

    expect(result.code).toBe(7);
    expect(JSON.parse(result.stdout)).toEqual(wrapped.proxyEnvironment);
    expect(wrapped.proxyEnvironment.HTTPS_PROXY).toBe(wrapped.proxyEnvironment.npm_config_https_proxy);
  });

  it('dies of the signal that killed the command', async () => {
    const { result } = await forwarded([process.execPath, '-e', "process.kill(process.pid, 'SIGTERM')"]);

    expect(result.signal).toBe('SIGTERM');
  });

  it('passes a SIGTERM it receives on to the command', async () => {
    let signalled = false;
    const { result } = await forwarded(
      [
        process.execPath,
        '-e',
        "process.on('SIGTERM', () => process.exit(42)); console.log('ready'); setInterval(() => {}, 1000)",
      ],
      (text, pid) => {
        if (!signalled && text.includes('ready')) {
          signalled = true;
          process.kill(pid, 'SIGTERM');
        }
      },
    );

    expect(result.code).toBe(42);
  });

  it('refuses to start without a proxy socket, saying where it looked', async () => {
    const result = await run([
      process.execPath,
      forwarderScriptPath,
      '--socket',
      '/nonexistent/egress.sock',
      '--port',
      '18080',
      '--',
      'true',
    ]);
    const usage = await run([process.execPath, forwarderScriptPath, '--port', '18080']);

    expect(result.code).toBe(125);
    expect(result.stderr).toContain('cannot reach the egress proxy at /nonexistent/egress.sock');
    expect(usage.code).toBe(125);
    expect(usage.stderr).toContain('usage:');
  });

  it('wraps argv for the default sandbox paths', () => {
    const { argv } = wrapCommandForEgress(['npm', 'ci', '--ignore-scripts']);

    expect(argv).toEqual([
      '/usr/bin/node',
      '/tmp/.gantry-egress-forwarder.mjs',
      '--socket',
      '/tmp/.gantry-egress.sock',
      '--port',
      '18080',
      '--',
      'npm',
      'ci',
      '--ignore-scripts',
    ]);
    expect(() => wrapCommandForEgress([])).toThrow(RangeError);
  });
});
