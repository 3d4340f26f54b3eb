import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { forwarderScriptPath, wrapCommandForEgress } from '../src/sandbox/egress/egress-forwarder.js';
import { startEgressProxy } from '../src/sandbox/egress/egress-proxy.js';
import { median } from './measure.js';

/** What the setup phase's egress path (forwarder and proxy) adds to an install command, in milliseconds. */
export interface EgressProxyFigures {
  /** Starting a command through the forwarder instead of directly. */
  startAddedMs: number;
  /** Each plain-HTTP request through forwarder and proxy instead of straight to the server. */
  perRequestAddedMs: number;
  requests: number;
  samples: number;
}

/** `requests` sequential GETs to `target`, through HTTP_PROXY when it is set. */
const client = (target: string, requests: number) => `
const http = require('node:http');
const proxy = process.env.HTTP_PROXY ? new URL(process.env.HTTP_PROXY) : undefined;
const target = new URL(${JSON.stringify(target)});
const get = () => new Promise((resolve, reject) => {
  const options = proxy
    ? { host: proxy.hostname, port: proxy.port, path: target.href, headers: { host: target.host } }
    : { host: target.hostname, port: target.port, path: target.pathname };
  http.get(options, (response) => { response.resume(); response.on('end', resolve); }).on('error', reject);
});
(async () => { for (let i = 0; i < ${requests}; i++) await get(); })();
`;

function timed(argv: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(argv[0] as string, argv.slice(1), { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(performance.now() - start)
        : reject(new Error(`${argv.join(' ')} exited with ${code}: ${stderr}`)),
    );
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/**
 * Runs a node client making 0 and then `requests` plain-HTTP requests to a local server, directly
 * and through the sandbox forwarder and the egress proxy, `samples` times each, alternating. The
 * sandbox itself is left out (`sandbox start overhead` measures it): this is the egress path alone.
 *
 * @example
 * const { startAddedMs, perRequestAddedMs } = await measureEgressProxy({ requests: 50, samples: 5 });
 */
export async function measureEgressProxy(options: {
  requests: number;
  samples: number;
}): Promise<EgressProxyFigures> {
  const server = http.createServer((_request, response) => response.end('ok'));
  const serverPort = await listen(server);
  const target = `http://127.0.0.1:${serverPort}/package`;
  const proxy = await startEgressProxy({ endpoints: [`127.0.0.1:${serverPort}`], onDecision: () => {} });
  const spare = net.createServer();
  const forwarderPort = await listen(spare);
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  const { HTTP_PROXY: _http, http_proxy: _lower, ...env } = process.env;
  const wrap = (argv: string[]) =>
    wrapCommandForEgress(argv, {
      nodePath: process.execPath,
      forwarderPath: forwarderScriptPath,
      socketPath: proxy.socketPath,
      port: forwarderPort,
    }).argv;
  try {
    const times = {
      direct0: [] as number[],
      proxied0: [] as number[],
      directN: [] as number[],
      proxiedN: [] as number[],
    };
    for (let i = 0; i <= options.samples; i++) {
      const warmup = i === 0;
      const record = (list: number[], ms: number) => warmup || list.push(ms);
      record(times.direct0, await timed([process.execPath, '-e', client(target, 0)], env));
      record(times.proxied0, await timed(wrap([process.execPath, '-e', client(target, 0)]), env));
      record(times.directN, await timed([process.execPath, '-e', client(target, options.requests)], env));
      record(
        times.proxiedN,
        await timed(wrap([process.execPath, '-e', client(target, options.requests)]), env),
      );
    }
    const startAddedMs = median(times.proxied0) - median(times.direct0);
    const perRequestAddedMs =
      (median(times.proxiedN) - median(times.directN) - startAddedMs) / options.requests;
    return { startAddedMs, perRequestAddedMs, requests: options.requests, samples: options.samples };
  } finally {
    await proxy.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A one-dependency npm project with its lockfile: the install the setup phase would run for it. */
const INSTALL_FIXTURE = {
  'package.json': JSON.stringify({
    name: 'bench-setup',
    version: '1.0.0',
    dependencies: { 'is-number': '7.0.0' },
  }),
  'package-lock.json': JSON.stringify({
    name: 'bench-setup',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'bench-setup', version: '1.0.0', dependencies: { 'is-number': '7.0.0' } },
      'node_modules/is-number': {
        version: '7.0.0',
        resolved: 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
        integrity:
          'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==',
      },
    },
  }),
};

/** Medians of the same `npm ci` in the sandbox through the egress proxy and on the host directly. */
export interface InstallFigures {
  proxiedMs: number;
  directMs: number;
  addedMs: number;
  samples: number;
}

/**
 * The setup phase's real cost: `npm ci --ignore-scripts` of a one-dependency lockfile, in the real
 * sandbox reaching the npm registry only through the egress proxy, against the same install run on the
 * host with direct network, each with an empty npm cache, alternating. Undefined when the registry
 * cannot be reached from here.
 *
 * @example
 * const install = await measureInstallThroughProxy({ samples: 3 });
 */
export async function measureInstallThroughProxy(options: {
  samples: number;
  /** A repository to copy instead of the one-dependency fixture (the example, for `setup phase time`). */
  source?: string;
  argv?: string[];
}): Promise<InstallFigures | undefined> {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createSandbox } = await import('../src/sandbox/create-sandbox.js');
  const { defaultRegistryAllowlist, grantEgress } = await import('../src/sandbox/egress/index.js');
  const sandbox = await createSandbox();
  const egress = grantEgress(defaultRegistryAllowlist).endpoints;
  const argv = options.argv ?? [
    'npm',
    'ci',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ];
  const { cp } = await import('node:fs/promises');
  const fresh = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-install-'));
    if (options.source) await cp(options.source, dir, { recursive: true });
    else for (const [name, text] of Object.entries(INSTALL_FIXTURE)) await writeFile(join(dir, name), text);
    return dir;
  };
  const proxied: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i <= options.samples; i++) {
    const inSandbox = await fresh();
    const onHost = await fresh();
    try {
      const started = performance.now();
      const result = await sandbox.run({ argv, workspace: inSandbox, network: 'setup', egress });
      const sandboxedMs = performance.now() - started;
      if (result.exitCode !== 0) return undefined;
      const hostMs = await timed(
        [...argv, `--cache=${join(onHost, '.npm-cache')}`],
        { ...process.env },
        onHost,
      );
      if (i > 0) {
        proxied.push(sandboxedMs);
        direct.push(hostMs);
      }
    } finally {
      await rm(inSandbox, { recursive: true, force: true });
      await rm(onHost, { recursive: true, force: true });
    }
  }
  const proxiedMs = median(proxied);
  const directMs = median(direct);
  return { proxiedMs, directMs, addedMs: proxiedMs - directMs, samples: options.samples };
}
