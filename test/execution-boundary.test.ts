import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalServer, startApprovalServer } from '../src/approvals/approval-server.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { type LocalEngines, startLocalEngines } from '../src/local/engines.js';
import { Gantry } from '../src/local/runtime.js';
import { BwrapSandbox } from '../src/sandbox/bwrap.js';
import { defaultRegistryAllowlist, grantEgress } from '../src/sandbox/egress/index.js';
import { removeHome } from '../src/workspaces/index.js';

/**
 * The local engines and the gates cannot be reached from a workspace: from inside the real sandbox, in
 * the agent phase (no network) and in the setup phase (only the egress proxy), every way to the
 * dynalite, s3rver and approval-server ports fails.
 */
describe('the local engines from inside the sandbox', () => {
  let root: string;
  let workspace: string;
  let engines: LocalEngines;
  let approvals: ApprovalServer;
  const sandbox = new BwrapSandbox();
  const registries = grantEgress(defaultRegistryAllowlist).endpoints;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-boundary-'));
    workspace = join(root, 'workspace');
    engines = await startLocalEngines(join(root, 'data'));
    // Only its port matters here: nothing from the sandbox may get an answer from it.
    approvals = await startApprovalServer({
      key: new Uint8Array(32),
      ledger: { consume: async () => false } as never,
      decide: async () => undefined,
    });
    await mkdir(workspace);
  });

  afterAll(async () => {
    await approvals.close();
    await engines.stop();
    await rm(root, { recursive: true, force: true });
  });

  const targets = () => [
    ['dynalite', engines.dynamoEndpoint],
    ['s3rver', engines.s3Endpoint],
    ['the approval server', approvals.url],
  ];

  /** Tries the endpoint directly, by `localhost`, and through the setup phase's proxy when there is one. */
  const probe = (endpoint: string) => {
    const url = new URL(endpoint);
    const byName = `http://localhost:${url.port}/`;
    return [
      'node',
      '-e',
      `const http = require('node:http');
       const get = (options) => new Promise((done) => {
         const request = http.get(options, (response) => { response.resume(); done('status ' + response.statusCode); });
         request.on('error', (error) => done('error ' + error.code));
         request.setTimeout(3000, () => { request.destroy(); done('timeout'); });
       });
       (async () => {
         const results = [await get('${url.href}'), await get('${byName}')];
         if (process.env.HTTP_PROXY) {
           const proxy = new URL(process.env.HTTP_PROXY);
           for (const target of ['${url.href}', '${byName}', 'http://[::1]:${url.port}/', 'http://0x7f000001:${url.port}/'])
             results.push(await get({ host: proxy.hostname, port: proxy.port, path: target }));
         }
         console.log(JSON.stringify(results));
       })();`,
    ];
  };

  it.each(['none', 'setup'] as const)('are unreachable in the %s network phase', async (network) => {
    for (const [name, endpoint] of targets()) {
      // Act
      const result = await sandbox.run({
        argv: probe(endpoint as string),
        workspace,
        network,
        egress: network === 'setup' ? registries : undefined,
      });

      // Assess
      const outcomes = JSON.parse(result.stdout) as string[];
      expect(outcomes.slice(0, 2), name).toEqual(['error ECONNREFUSED', 'error ECONNREFUSED']);
      if (network === 'setup') {
        // Only the proxy's refusal comes back: 403, never an answer from the engine.
        expect(outcomes.slice(2), name).toEqual(['status 403', 'status 403', 'status 403', 'status 403']);
        expect(
          result.egress?.every((decision) => decision.outcome === 'refused'),
          name,
        ).toBe(true);
      }
    }
  });
});

/**
 * A workspace cannot fill the host's disk: with a 16 MiB workspace disk, a test command that writes
 * 40 MiB is stopped by the disk limit (a guard event), the run halts, and the host holds no more than
 * the disk's image.
 */
describe('a workspace that fills its disk', () => {
  let root: string;
  let home: string;
  let gantry: Gantry;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-disk-'));
    home = join(root, 'home');
    await mkdir(home);
    await writeFile(
      join(home, 'settings.yaml'),
      `workspaceDisk: { workspaceBytes: ${16 * 1024 ** 2}, homeBudgetBytes: ${64 * 1024 ** 2} }\n`,
    );
    const repo = join(root, 'repo');
    await mkdir(join(repo, 'test'), { recursive: true });
    await writeFile(
      join(repo, 'package.json'),
      JSON.stringify({ type: 'module', scripts: { test: 'node --test' } }),
    );
    // The test writes far more than the workspace may hold.
    await writeFile(
      join(repo, 'test', 'fill.test.js'),
      "import { test } from 'node:test';\nimport { writeFileSync } from 'node:fs';\ntest('fills', () => { for (let i = 0; i < 40; i++) writeFileSync('blob-' + i, Buffer.alloc(1024 * 1024, 1)); });\n",
    );
    await writeFile(
      join(root, 'request.yaml'),
      `title: Fill the disk\nrequester: maria.lopez\ncapability: low-risk-bugfix\nrepository:\n  name: fill\n  path: ${repo}\ndescription: The tests write.\nacceptanceCriteria:\n  - the tests run\n`,
    );
    await writeFile(
      join(root, 'cassette.yaml'),
      [
        'version: 1',
        'recorded: { model: probe, at: 2026-11-21T15:30:00.000Z, note: fills the disk }',
        'turns:',
        '  - phase: reproduce',
        '    response:',
        '      model: probe',
        '      stopReason: tool_use',
        '      usage: { inputTokens: 10, outputTokens: 5 }',
        '      content:',
        '        - { type: tool_use, id: f1, name: finish, input: { outcome: reproduced, summary: fills, testFiles: [test/fill.test.js] } }',
        '',
      ].join('\n'),
    );
    gantry = await Gantry.open({ home });
  });

  afterAll(async () => {
    await gantry.close();
    await removeHome(root);
  });

  it.runIf(process.getuid?.() === 0)(
    'stops the command at the limit, records it, and halts the run',
    async () => {
      // Act
      const outcome = await gantry.submit(
        await parseRequestFile(join(root, 'request.yaml')),
        `cassette:${join(root, 'cassette.yaml')}`,
      );

      // Assess
      const { events } = await gantry.show(outcome.runId);
      const trips = events
        .filter((e) => e.type === 'guard.tripped')
        .map((e) => e.type === 'guard.tripped' && e.data.guard);
      expect(trips).toContain('disk-limit');
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toContain("filled the workspace's disk");
      const images = await readdir(join(home, 'workspace-disks'));
      for (const image of images.filter((name) => name.endsWith('.img'))) {
        expect((await stat(join(home, 'workspace-disks', image))).blocks * 512).toBeLessThanOrEqual(
          16 * 1024 ** 2,
        );
      }
    },
  );
});

/**
 * Another ecosystem's install through the same egress path, against a local stand-in of its registry
 * (only the npm registry is reachable from these machines): pip installs a wheel from a PEP 503 simple
 * index on loopback, allowlisted by its exact address, into the workspace's virtualenv.
 */
describe('a pip install through the egress proxy', () => {
  let root: string;
  let workspace: string;
  let index: Server;
  let port: number;
  const sandbox = new BwrapSandbox();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-pip-'));
    workspace = join(root, 'workspace');
    await mkdir(workspace);
    // A one-module wheel, built with the host's Python standard library.
    const wheel = join(root, 'tinypkg-1.0.0-py3-none-any.whl');
    execFileSync('python3', [
      '-c',
      [
        'import base64, hashlib, sys, zipfile',
        "files = {'tinypkg/__init__.py': b'def hello():\\n    return \"hi\"\\n', 'tinypkg-1.0.0.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: tinypkg\\nVersion: 1.0.0\\n', 'tinypkg-1.0.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}",
        'z = zipfile.ZipFile(sys.argv[1], "w")',
        'record = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(c).digest()).rstrip(b\'=\').decode()},{len(c)}" for p, c in files.items()]',
        '[z.writestr(p, c) for p, c in files.items()]',
        "z.writestr('tinypkg-1.0.0.dist-info/RECORD', '\\n'.join(record + ['tinypkg-1.0.0.dist-info/RECORD,,']) + '\\n')",
        'z.close()',
      ].join('\n'),
      wheel,
    ]);
    const bytes = await readFile(wheel);
    const digest = createHash('sha256').update(bytes).digest('hex');
    index = createServer((request, response) => {
      if (request.url === '/simple/tinypkg/') {
        response.setHeader('content-type', 'text/html');
        response.end(
          `<a href="/files/tinypkg-1.0.0-py3-none-any.whl#sha256=${digest}">tinypkg-1.0.0-py3-none-any.whl</a>`,
        );
      } else if (request.url === '/files/tinypkg-1.0.0-py3-none-any.whl') {
        response.end(bytes);
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((done) => index.listen(0, '127.0.0.1', done));
    port = (index.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((done) => index.close(done));
    await rm(root, { recursive: true, force: true });
  });

  it('installs from the allowlisted stand-in and from nothing else', async () => {
    // Act
    const venv = await sandbox.run({ argv: ['python3', '-m', 'venv', '.venv'], workspace });
    const refused = await sandbox.run({
      argv: [
        '.venv/bin/pip',
        'install',
        '--disable-pip-version-check',
        '--retries',
        '0',
        '--index-url',
        `http://127.0.0.1:${port}/simple`,
        'tinypkg',
      ],
      workspace,
      network: 'setup',
      egress: ['registry.npmjs.org:443'],
    });
    const installed = await sandbox.run({
      argv: [
        '.venv/bin/pip',
        'install',
        '--disable-pip-version-check',
        '--index-url',
        `http://127.0.0.1:${port}/simple`,
        'tinypkg',
      ],
      workspace,
      network: 'setup',
      egress: [`127.0.0.1:${port}`],
    });
    const imported = await sandbox.run({
      argv: ['.venv/bin/python', '-c', 'import tinypkg; print(tinypkg.hello())'],
      workspace,
    });

    // Assess
    expect(venv.exitCode).toBe(0);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.egress?.some((decision) => decision.outcome === 'refused')).toBe(true);
    expect(installed.stderr).not.toContain('ERROR');
    expect(installed.exitCode).toBe(0);
    expect(
      installed.egress?.some((decision) => decision.outcome === 'allowed' && decision.port === port),
    ).toBe(true);
    expect(imported.stdout.trim()).toBe('hi');
  });
});
