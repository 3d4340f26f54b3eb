import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SandboxError } from '../domain/errors.js';
import { BwrapSandbox } from './bwrap.js';
import { createSandbox, type SandboxKind } from './create-sandbox.js';

const kinds: SandboxKind[] = [];
if (
  await createSandbox().then(
    () => true,
    () => false,
  )
)
  kinds.push('bwrap');

const newSandbox = (_kind: SandboxKind) => new BwrapSandbox();

/** Pids of live processes whose command line contains `marker`. */
async function processesMentioning(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) found.push(Number(entry));
  }
  return found;
}

/** Per-command cgroups of this process still present under any `gantry` folder. */
async function leftoverCgroups(): Promise<string[]> {
  const left: string[] = [];
  const visit = async (folder: string, depth: number): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(folder, entry.name);
      // Only this process's: other test files run sandboxed commands at the same time.
      if (entry.name.startsWith(`cmd-${process.pid}-`) && folder.endsWith('/gantry')) left.push(path);
      else if (depth < 4) await visit(path, depth + 1);
    }
  };
  await visit('/sys/fs/cgroup/memory', 0);
  await visit('/sys/fs/cgroup/pids', 0);
  return left;
}

it('finds at least one working sandbox adapter on this machine', () => {
  // Assess
  expect(kinds.length).toBeGreaterThan(0);
});

describe.each(kinds)('%s sandbox', (kind) => {
  const sandbox = newSandbox(kind);
  let workspace: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_request, response) => response.end('hello-from-host'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
    // Assess: every per-command cgroup was removed.
    expect(await leftoverCgroups()).toEqual([]);
  });

  beforeEach(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'gantry-sandbox-test-'));
  });

  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  const fetchHost = () => [
    'node',
    '-e',
    `fetch('http://127.0.0.1:${port}/').then((r) => r.text()).then(
       (text) => console.log(text),
       (error) => { console.error('unreachable', error.cause?.code); process.exit(3); })`,
  ];

  it('cannot reach a server on the host loopback in the default network phase', async () => {
    // Act
    const result = await sandbox.run({ argv: fetchHost(), workspace });

    // Assess
    expect(result.exitCode).toBe(3);
    expect(result.stdout).not.toContain('hello-from-host');
  });

  const viaProxy = (target: string) => [
    'node',
    '-e',
    `const http = require('node:http');
     const proxy = new URL(process.env.HTTP_PROXY);
     http.get({ host: proxy.hostname, port: proxy.port, path: '${target}' }, (response) => {
       let body = '';
       response.on('data', (chunk) => (body += chunk));
       response.on('end', () => console.log(response.statusCode, body));
     }).on('error', (error) => { console.log('error', error.code); process.exit(3); });`,
  ];

  it('reaches the host loopback in the setup phase neither directly nor through the proxy', async () => {
    // Act
    const direct = await sandbox.run({ argv: fetchHost(), workspace, network: 'setup' });
    const proxied = await sandbox.run({
      argv: viaProxy(`http://127.0.0.1:${port}/`),
      workspace,
      network: 'setup',
      egress: ['registry.npmjs.org:443'],
    });

    // Assess
    expect(direct.exitCode).toBe(3);
    expect(direct.stdout).not.toContain('hello-from-host');
    expect(proxied.stdout).toMatch(/^403 /);
    expect(proxied.stdout).not.toContain('hello-from-host');
    expect(proxied.egress).toEqual([
      expect.objectContaining({ host: '127.0.0.1', port, outcome: 'refused', reason: 'not-allowlisted' }),
    ]);
  });

  it('reaches an allowlisted endpoint through the proxy in the setup phase, and records it', async () => {
    // Act
    const result = await sandbox.run({
      argv: viaProxy(`http://127.0.0.1:${port}/`),
      workspace,
      network: 'setup',
      egress: [`127.0.0.1:${port}`],
    });

    // Assess
    expect(result.stdout.trim()).toBe('200 hello-from-host');
    expect(result.egress).toEqual([expect.objectContaining({ host: '127.0.0.1', port, outcome: 'allowed' })]);
  });

  it('keeps the root file system read-only', async () => {
    // Prepare
    const name = `gantry-x-${randomUUID()}`;

    // Act
    const result = await sandbox.run({
      argv: ['sh', '-c', `touch /etc/${name}; echo "etc=$?"; touch /usr/${name}; echo "usr=$?"`],
      workspace,
    });

    // Assess
    expect(result.stdout).toMatch(/etc=[1-9]/);
    expect(result.stdout).toMatch(/usr=[1-9]/);
    expect(result.stderr).toContain('Read-only file system');
    expect(existsSync(`/etc/${name}`)).toBe(false);
    expect(existsSync(`/usr/${name}`)).toBe(false);
  });

  it('lets the command write the workspace, in its cwd, and the host sees the change', async () => {
    // Prepare
    await mkdir(join(workspace, 'pkg'));

    // Act
    const result = await sandbox.run({
      argv: ['sh', '-c', 'pwd; echo written-inside > out.txt; cat'],
      workspace,
      cwd: 'pkg',
      stdin: 'through-stdin',
    });

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${sandbox.workspaceMount}/pkg\nthrough-stdin`);
    expect(await readFile(join(workspace, 'pkg', 'out.txt'), 'utf8')).toBe('written-inside\n');
  });

  it('gives the command a private /tmp', async () => {
    // Prepare
    const hostMarker = join(tmpdir(), `gantry-host-marker-${randomUUID()}`);
    const insideName = `gantry-inside-${randomUUID()}`;
    await writeFile(hostMarker, 'host');

    try {
      // Act
      const result = await sandbox.run({
        argv: ['sh', '-c', `echo inside > /tmp/${insideName} && cat /tmp/${insideName}; ls ${hostMarker}`],
        workspace,
      });

      // Assess
      expect(result.stdout).toBe('inside\n');
      expect(result.exitCode).not.toBe(0);
      expect(existsSync(join('/tmp', insideName))).toBe(false);
      expect(existsSync(join(tmpdir(), insideName))).toBe(false);
    } finally {
      await rm(hostMarker, { force: true });
    }
  });

  it('clears the environment and drops secret-like and unlisted variables', async () => {
    // Prepare
    const canary = `canary-${randomUUID()}`;
    process.env.GANTRY_TEST_SECRET_TOKEN = canary;

    try {
      // Act
      const result = await sandbox.run({
        argv: ['env'],
        workspace,
        env: { GANTRY_API_TOKEN: canary, GANTRY_VISIBLE: 'yes', LD_PRELOAD: '/tmp/workspace/x.so' },
      });

      // Assess
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain(canary);
      expect(result.stdout).not.toContain('GANTRY_API_TOKEN');
      expect(result.stdout).not.toContain('LD_PRELOAD');
      expect(result.stdout).toContain('GANTRY_VISIBLE=yes');
      expect(result.stdout).toContain('HOME=/tmp/home');
      expect(result.stdout).toContain('CI=true');
    } finally {
      delete process.env.GANTRY_TEST_SECRET_TOKEN;
    }
  });

  it('kills a command that outlives its wall time', async () => {
    // Act
    const result = await sandbox.run({ argv: ['sleep', '30'], workspace, limits: { wallTimeMs: 500 } });

    // Assess
    expect(result.timedOut).toBe(true);
    expect(result.limitHit).toBe('wall-time');
    expect(result.exitCode).not.toBe(0);
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it('kills a command that floods its output and keeps at most the limit', async () => {
    // Act
    const result = await sandbox.run({ argv: ['yes'], workspace, limits: { maxOutputBytes: 4096 } });

    // Assess
    expect(result.outputTruncated).toBe(true);
    expect(result.limitHit).toBe('output');
    expect(Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)).toBe(4096);
    expect(result.stdout.startsWith('y\ny\n')).toBe(true);
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it('cuts flooded multi-byte output at a character boundary', async () => {
    // Act
    const result = await sandbox.run({
      argv: ['sh', '-c', 'while :; do printf "\\303\\251"; done'],
      workspace,
      limits: { maxOutputBytes: 4095 },
    });

    // Assess
    expect(result.limitHit).toBe('output');
    expect(Buffer.byteLength(result.stdout)).toBe(4094);
    expect(result.stdout).toBe('é'.repeat(2047));
  });

  it('stops a command that allocates beyond its memory limit', async () => {
    // Act
    const result = await sandbox.run({
      argv: ['node', '-e', 'const kept = []; for (;;) kept.push(Buffer.alloc(1e7, 1));'],
      workspace,
      limits: { memoryBytes: 256 * 1024 ** 2, wallTimeMs: 20_000 },
    });

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.timedOut).toBe(false);
    if (sandbox.enforcedLimits.memoryBytes?.startsWith('cgroup')) expect(result.limitHit).toBe('memory');
  });

  it('refuses to start processes beyond the process limit and leaves none behind', async () => {
    // Prepare
    const marker = `${31 + Math.floor(Math.random() * 1000)}.${Date.now() % 1000}`;

    // Act
    const result = await sandbox.run({
      argv: ['sh', '-c', `for i in $(seq 1 40); do sleep ${marker} & done; echo spawned-all`],
      workspace,
      limits: { maxProcesses: 12, wallTimeMs: 10_000 },
    });

    // Assess
    expect(await processesMentioning(`sleep\0${marker}`)).toEqual([]);
    if (sandbox.enforcedLimits.maxProcesses) {
      expect(result.exitCode).not.toBe(0);
      expect(result.stdout).not.toContain('spawned-all');
      expect(result.limitHit).toBe('processes');
    }
  });

  it('stops a command that exceeds its CPU seconds', async () => {
    // Act
    const result = await sandbox.run({
      argv: ['sh', '-c', 'while :; do :; done'],
      workspace,
      limits: { cpuSeconds: 1, wallTimeMs: 10_000 },
    });

    // Assess
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).not.toBe(0);
    expect(result.limitHit).toBe('cpu');
  });

  it.each([
    ['../..', 'a parent of the workspace'],
    ['/etc', 'an absolute path'],
    ['escape', 'a symbolic link out of the workspace'],
  ])('rejects cwd %s (%s)', async (cwd) => {
    // Prepare
    await symlink('/', join(workspace, 'escape'));

    // Act
    const run = sandbox.run({ argv: ['touch', 'x'], workspace, cwd });

    // Assess
    await expect(run).rejects.toBeInstanceOf(SandboxError);
    await expect(run).rejects.toThrow(/outside the sandbox workspace/);
  });

  it.skipIf(!existsSync('/usr/bin/python3'))(
    'falls back to rlimits when cgroups are unavailable and still stops a memory hog',
    async () => {
      // Prepare
      const withoutCgroups = new BwrapSandbox({ cgroupRoot: null });

      // Act
      const result = await withoutCgroups.run({
        argv: ['/usr/bin/python3', '-c', 'x = bytearray(500 * 1024 * 1024)'],
        workspace,
        limits: { memoryBytes: 200 * 1024 ** 2 },
      });

      // Assess
      expect(withoutCgroups.enforcedLimits.memoryBytes).toBe('rlimit');
      expect(result.stderr).toContain('MemoryError');
      expect(result.limitHit).toBe('memory');
    },
  );
});
