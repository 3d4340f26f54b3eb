import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalServer, startApprovalServer } from '../src/approvals/approval-server.js';
import { type LocalEngines, startLocalEngines } from '../src/local/engines.js';
import { BwrapSandbox } from '../src/sandbox/bwrap.js';
import { defaultRegistryAllowlist, grantEgress } from '../src/sandbox/egress/index.js';

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
