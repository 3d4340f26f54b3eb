import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForgeError, InvalidInputError } from '../../domain/errors.js';
import { MergeQueue } from '../../forge/merge-queue.js';
import type { Sandbox } from '../../ports/sandbox.js';
import { GitHubForge } from '../github/github-forge.js';
import {
  bedrockModelFor,
  createAwsStepDeps,
  deliveryWith,
  ForgeUnavailable,
  forgeFromEnvironment,
  readAwsRuntimeEnv,
  resolveSecret,
} from './aws-runtime.js';
import { PipelineDeployer } from './pipeline-deployer.js';

const policiesDir = fileURLToPath(new URL('../../../policies', import.meta.url));

function stageEnv(dir: string): NodeJS.ProcessEnv {
  return {
    GANTRY_STAGE: 'dev',
    GANTRY_EVENTS_TABLE: 'dev-events',
    GANTRY_RUNS_TABLE: 'dev-runs',
    GANTRY_RECORDS_TABLE: 'dev-records',
    GANTRY_ARTIFACT_BUCKET: 'dev-artifacts',
    GANTRY_MODEL_IDS: 'anthropic.claude-a-v1:0,anthropic.claude-b-v1:0',
    GANTRY_APPROVAL_BASE_URL: 'https://approvals.example.test',
    GANTRY_POLICIES_DIR: policiesDir,
    GANTRY_WORKSPACES_DIR: join(dir, 'workspaces'),
    GANTRY_EVIDENCE_DIR: join(dir, 'evidence'),
  };
}

describe('the AWS runtime environment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-aws-runtime-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names every missing variable at once', () => {
    // Prepare
    const { GANTRY_RUNS_TABLE: _runs, GANTRY_MODEL_IDS: _models, ...partial } = stageEnv(dir);
    // Act
    const read = () => readAwsRuntimeEnv({ ...partial, GANTRY_APPROVAL_BASE_URL: 'not a url' });
    // Assess
    expect(read).toThrow(InvalidInputError);
    expect(read).toThrow(/GANTRY_RUNS_TABLE: .*GANTRY_MODEL_IDS: .*GANTRY_APPROVAL_BASE_URL: /);
  });

  it('reads the model list with the first as the default, and refuses an empty list', () => {
    // Act
    const config = readAwsRuntimeEnv(stageEnv(dir));
    // Assess
    expect(config.GANTRY_MODEL_IDS).toEqual(['anthropic.claude-a-v1:0', 'anthropic.claude-b-v1:0']);
    expect(() => readAwsRuntimeEnv({ ...stageEnv(dir), GANTRY_MODEL_IDS: ' , ' })).toThrow(
      /name at least one Bedrock model id/,
    );
  });

  it('builds the step dependencies from the environment, and refuses to start without a signing key', async () => {
    // Prepare
    const key = randomBytes(32);
    // Act
    const deps = await createAwsStepDeps({ ...stageEnv(dir), GANTRY_SIGNING_KEY: key.toString('base64') });
    const missing = createAwsStepDeps(stageEnv(dir));
    const short = createAwsStepDeps({
      ...stageEnv(dir),
      GANTRY_SIGNING_KEY: randomBytes(8).toString('base64'),
    });
    // Assess
    expect(deps.approvalLinks.key.equals(key)).toBe(true);
    expect(deps.artifacts.bucket).toBe('dev-artifacts');
    expect(deps.log.tables).toEqual({ events: 'dev-events', runs: 'dev-runs', records: 'dev-records' });
    expect(deps.policyVersion).toMatch(/\+[a-f0-9]{12}$/);
    expect(deps.capabilities.list().map((c) => c.id)).toContain('low-risk-bugfix');
    await expect(missing).rejects.toThrow(/signing key is not configured/);
    await expect(short).rejects.toThrow(/has 8 bytes; it needs at least 32/);
  });

  it('says where the policies should be when the directory is missing', async () => {
    // Act
    const deps = createAwsStepDeps(
      { ...stageEnv(dir), GANTRY_POLICIES_DIR: join(dir, 'nowhere') },
      { requireSigningKey: false },
    );
    // Assess
    await expect(deps).rejects.toThrow(/policies directory .*nowhere does not exist/);
  });

  it('reads a secret from the Parameters and Secrets extension, sending the session token', async () => {
    // Prepare: an extension stand-in on loopback
    const seen: { url?: string; token?: string } = {};
    const server = createServer((request, response) => {
      seen.url = request.url;
      seen.token = request.headers['x-aws-parameters-secrets-token'] as string;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ Parameter: { Name: '/gantry/dev/webhook', Value: 's3cr3t' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    const port = String((server.address() as AddressInfo).port);
    try {
      // Act
      const value = await resolveSecret(
        {
          GANTRY_WEBHOOK_SECRET_PARAM: '/gantry/dev/webhook',
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port,
          AWS_SESSION_TOKEN: 'session',
        },
        'WEBHOOK_SECRET',
      );
      const direct = await resolveSecret({ GANTRY_WEBHOOK_SECRET: 'direct' }, 'WEBHOOK_SECRET');
      const none = await resolveSecret({}, 'WEBHOOK_SECRET');
      // Assess
      expect(value).toBe('s3cr3t');
      expect(seen.url).toBe(
        '/systemsmanager/parameters/get?name=%2Fgantry%2Fdev%2Fwebhook&withDecryption=true',
      );
      expect(seen.token).toBe('session');
      expect(direct).toBe('direct');
      expect(none).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('uses the model a run recorded only when the stage allows it', () => {
    // Prepare
    const config = readAwsRuntimeEnv(stageEnv(dir));
    // Act
    const fallback = bedrockModelFor(config);
    const recorded = bedrockModelFor(config, 'bedrock:anthropic.claude-b-v1:0');
    const refused = () => bedrockModelFor(config, 'bedrock:anthropic.claude-expensive-v9:0');
    // Assess
    expect(fallback.id).toBe('bedrock:anthropic.claude-a-v1:0');
    expect(recorded.id).toBe('bedrock:anthropic.claude-b-v1:0');
    expect(refused).toThrow(/which stage dev does not allow/);
  });

  it('has no forge without GitHub settings, and says so for every operation', async () => {
    // Prepare
    const forge = new ForgeUnavailable();
    // Act
    const attempts = [
      () => forge.ensureRepository({ name: 'billing-service' } as never),
      () => forge.defaultHead('billing-service'),
      () => forge.advanceDefaultBranch('billing-service'),
      () => forge.pushQueueCommit('billing-service'),
      () => forge.commentOnPullRequest('billing-service'),
      () => forge.commitsBetween('billing-service'),
      () => forge.changedFiles('billing-service'),
    ];
    // Assess
    for (const attempt of attempts) {
      expect(attempt).toThrow(ForgeError);
      expect(attempt).toThrow(/this stage has no forge configured: \w+ cannot run/);
    }
    try {
      forge.defaultHead('billing-service');
    } catch (error) {
      expect((error as ForgeError).hint).toMatch(/GANTRY_GITHUB_OWNER and GANTRY_GITHUB_TOKEN_PARAM/);
    }
  });

  it('uses GitHub when the owner and a token are set, and refuses an owner without a token', async () => {
    // Prepare
    const env = { ...stageEnv(dir), GANTRY_GITHUB_OWNER: 'acme' };
    // Act
    const github = await forgeFromEnvironment(
      { ...env, GANTRY_GITHUB_TOKEN: 'ghp_test' },
      readAwsRuntimeEnv(env),
    );
    const none = await forgeFromEnvironment(stageEnv(dir), readAwsRuntimeEnv(stageEnv(dir)));
    const tokenless = forgeFromEnvironment(env, readAwsRuntimeEnv(env));
    // Assess
    expect(github).toBeInstanceOf(GitHubForge);
    expect(none).toBeInstanceOf(ForgeUnavailable);
    await expect(tokenless).rejects.toThrow(/GANTRY_GITHUB_OWNER is acme but no GitHub token is configured/);
  });

  it('builds the delivery ports from GANTRY_PIPELINES, and none without it', async () => {
    // Prepare
    const pipelines = JSON.stringify({
      'billing-service': { staging: { name: 'billing-staging' }, production: { name: 'billing-production' } },
    });
    // Act
    const withPipelines = await createAwsStepDeps(
      { ...stageEnv(dir), GANTRY_PIPELINES: pipelines, GANTRY_REQUESTS_DIR: join(dir, 'requests') },
      { requireSigningKey: false },
    );
    const without = await createAwsStepDeps(stageEnv(dir), { requireSigningKey: false });
    const unknown = createAwsStepDeps(
      {
        ...stageEnv(dir),
        GANTRY_PIPELINES: JSON.stringify({ checkout: JSON.parse(pipelines)['billing-service'] }),
      },
      { requireSigningKey: false },
    );
    const malformed = () => readAwsRuntimeEnv({ ...stageEnv(dir), GANTRY_PIPELINES: '{billing' });
    const misspelt = () =>
      readAwsRuntimeEnv({
        ...stageEnv(dir),
        GANTRY_PIPELINES: JSON.stringify({
          'billing-service': { staging: { name: 'a' }, prod: { name: 'b' } },
        }),
      });
    // Assess
    expect(withPipelines.delivery?.deployer).toBeInstanceOf(PipelineDeployer);
    expect([...(withPipelines.delivery?.services.keys() ?? [])]).toEqual(['billing-service']);
    expect(withPipelines.delivery?.requestsDir).toBe(join(dir, 'requests'));
    expect(without.delivery).toBeUndefined();
    await expect(unknown).rejects.toThrow(/GANTRY_PIPELINES names services without a spec: checkout/);
    expect(malformed).toThrow(/GANTRY_PIPELINES: is not JSON/);
    expect(misspelt).toThrow(/GANTRY_PIPELINES: /);
  });

  it('gives a component the merge queue only with the sandbox it passes', async () => {
    // Prepare
    const aws = await createAwsStepDeps(
      {
        ...stageEnv(dir),
        GANTRY_PIPELINES: JSON.stringify({
          'billing-service': { staging: { name: 's' }, production: { name: 'p' } },
        }),
      },
      { requireSigningKey: false },
    );
    const sandbox = {
      kind: 'process',
      workspaceMount: '/workspace',
      run: async () => ({}),
    } as unknown as Sandbox;
    // Act
    const delivery = deliveryWith(aws, sandbox, join(dir, 'queue'));
    const none = deliveryWith({ ...aws, delivery: undefined }, sandbox, join(dir, 'queue'));
    // Assess
    expect(delivery?.mergeQueue).toBeInstanceOf(MergeQueue);
    expect(delivery?.deployer).toBe(aws.delivery?.deployer);
    expect(none).toBeUndefined();
  });
});
