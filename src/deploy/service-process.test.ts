import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServiceProcess } from './service-process.js';

/** A service that answers its health path and, on /env, the names and values of its environment. */
const SERVICE = `import { createServer } from 'node:http';
createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/env') return res.end(JSON.stringify(process.env));
  res.writeHead(404).end();
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('startServiceProcess', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('gives a deployed service none of Gantry’s environment: no secret reaches it', async () => {
    // Prepare: a secret in Gantry's own environment, as a real deployment would have
    const dir = await mkdtemp(join(tmpdir(), 'gantry-service-env-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'server.mjs'), SERVICE);
    const secret = 'canary-deploy-secret-7f3a9c';
    process.env.GANTRY_TEST_DEPLOY_TOKEN = secret;
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    cleanups.push(async () => {
      delete process.env.GANTRY_TEST_DEPLOY_TOKEN;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    });

    // Act
    const service = await startServiceProcess({
      command: ['node', 'server.mjs'],
      cwd: dir,
      healthPath: '/health',
      label: 'env probe',
    });
    cleanups.push(() => service.stop());
    const env = (await (await fetch(`${service.endpoint}/env`)).json()) as Record<string, string>;

    // Assess
    expect(Object.keys(env).filter((k) => !['PATH', 'HOME', 'NODE_ENV', 'PORT'].includes(k))).toEqual([]);
    expect(JSON.stringify(env)).not.toContain(secret);
    expect(env.NODE_ENV).toBe('production');
  });
});
