import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../adapters/aws/dynamodb-event-log.js';
import { InvalidInputError } from '../domain/errors.js';
import { workTreeEnv } from '../forge/git-command.js';
import { LocalForge } from '../forge/local-forge.js';
import { type LocalEngines, startLocalEngines } from '../local/engines.js';
import type { ReleaseTarget, StepAnalysis } from '../ports/deployer.js';
import { DeploymentFailedError } from './errors.js';
import { probe } from './http-probe.js';
import { LocalDeployer } from './local-deployer.js';
import { loadServiceSpecs, type ServiceSpec } from './service-spec.js';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../../examples/billing-service', import.meta.url));

/** The shipped spec with intervals short enough for a test: 50 requests a step, about 7 of them to a 10% canary. */
async function testSpec(): Promise<ServiceSpec> {
  const shipped = (await loadServiceSpecs()).get('billing-service');
  if (!shipped) throw new Error('policies/services/billing-service.yaml is missing');
  return {
    ...shipped,
    traffic: { ...shipped.traffic, requestsPerSecond: 50 },
    rollout: {
      ...shipped.rollout,
      intervalSeconds: 1,
      // A loaded 2-core CI machine can add tens of milliseconds to a fresh process; the slow variant adds 150.
      analysis: { ...shipped.rollout.analysis, minRequests: 5, latencyToleranceMs: 80 },
    },
  };
}

let scratch: string;
let engines: LocalEngines;
let forge: LocalForge;
let deployer: LocalDeployer;
let base: string;
const commits: Record<'good' | 'breaking' | 'slow', string> = { good: '', breaking: '', slow: '' };

/** Commits a variant of the default branch on a gantry/ branch and returns its sha. */
async function commitVariant(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(scratch, `work-${name}`);
  await forge.checkout('billing-service', 'main', dir);
  await edit(dir);
  const env = { ...process.env, ...workTreeEnv(dir) };
  await run('git', ['checkout', '--quiet', '-b', `gantry/test-${name}`], { cwd: dir, env });
  await run('git', ['commit', '--quiet', '--all', '--message', `${name} variant`], { cwd: dir, env });
  return forge.pushBranch('billing-service', dir, `gantry/test-${name}`);
}

async function replaceIn(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer holds ${from}`);
  await writeFile(file, text.replace(from, to));
}

function target(commit: string, extra: Partial<ReleaseTarget> = {}): ReleaseTarget {
  return { service: 'billing-service', repository: 'billing-service', commit, runId: 'run-1', ...extra };
}

/** Pids of this process's children that run the billing service. */
async function servicePids(): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).catch(() => ({
    stdout: '',
  }));
  return stdout
    .split('\n')
    .filter((line) => line.includes('src/server.js'))
    .map((line) => Number.parseInt(line.trim(), 10));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const loyaltyInvoice = {
  method: 'POST',
  path: '/invoices/total',
  body: { lines: [{ unitPriceCents: 12800, quantity: 1 }] },
  expectStatus: 200,
};

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'gantry-deploy-'));
  engines = await startLocalEngines(path.join(scratch, 'data'));
  await ensureEventLogTables(engines.dynamo, defaultTableNames());
  forge = new LocalForge({ root: path.join(scratch, 'forge') });
  base = (await forge.ensureRepository({ name: 'billing-service', path: example, defaultBranch: 'main' }))
    .head;
  commits.good = await commitVariant('good', (dir) =>
    replaceIn(path.join(dir, 'src/money.js'), '/** Rounds', '/** Whole cents only. Rounds'),
  );
  // Invoices without a negotiated discount (the `loyalty` traffic) now fail with 400.
  commits.breaking = await commitVariant('breaking', (dir) =>
    replaceIn(
      path.join(dir, 'src/invoice.js'),
      'const discountPercent = invoice.discountPercent || DEFAULT_DISCOUNT_PERCENT;',
      "if (invoice.discountPercent === undefined) throw new Error('discountPercent is required');\n  const discountPercent = invoice.discountPercent || DEFAULT_DISCOUNT_PERCENT;",
    ),
  );
  // Every invoice answer waits 150 ms (a timer, so the slow version does not also eat the test machine's CPU).
  commits.slow = await commitVariant('slow', (dir) =>
    replaceIn(
      path.join(dir, 'src/server.js'),
      'const totals = invoiceTotals',
      'await new Promise((resolve) => setTimeout(resolve, 150));\n        const totals = invoiceTotals',
    ),
  );
  deployer = new LocalDeployer({
    forge,
    records: new DynamoEventLog(engines.dynamo, defaultTableNames()),
    specs: new Map([['billing-service', await testSpec()]]),
    root: path.join(scratch, 'deploy'),
  });
});

afterAll(async () => {
  await deployer?.stop();
  await engines?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('LocalDeployer with the real billing service', () => {
  it('replaces staging with each commit and passes the smoke checks', async () => {
    const first = await deployer.deployStaging(target(base));
    const firstPids = await servicePids();
    const second = await deployer.deployStaging(target(commits.good, { pullRequest: 7 }));

    expect(first.smoke.passed).toBe(true);
    expect(first.smoke.checks.map((check) => [check.name, check.status])).toEqual([
      ['health', 200],
      ['one-line invoice', 200],
    ]);
    expect(first.deployment).toMatchObject({ environment: 'staging', commit: base, status: 'live' });
    expect(second.smoke.passed).toBe(true);
    expect(await deployer.current('billing-service', 'staging')).toMatchObject({
      id: second.deployment.id,
      commit: commits.good,
      pullRequest: 7,
    });
    const history = await deployer.history('billing-service', 'staging');
    expect(history.map((deployment) => [deployment.id, deployment.status])).toEqual([
      [second.deployment.id, 'live'],
      [first.deployment.id, 'superseded'],
    ]);
    expect(firstPids).toHaveLength(1);
    expect(alive(firstPids[0] ?? -1)).toBe(false);
    expect((await probe(first.deployment.endpoint, loyaltyInvoice)).ok).toBe(false);
    expect((await probe(second.deployment.endpoint, loyaltyInvoice)).ok).toBe(true);
  });

  it('promotes a good commit through 10/50/100% and makes it production', async () => {
    const seen: StepAnalysis[] = [];

    const rollout = await deployer.rollOut(target(commits.good, { baselineCommit: base, pullRequest: 7 }), {
      onStep: (analysis) => {
        seen.push(analysis);
      },
    });

    expect(rollout.outcome, rollout.reason).toBe('promoted');
    expect(rollout.analyses.map((analysis) => [analysis.trafficPercent, analysis.verdict])).toEqual([
      [10, 'promote'],
      [50, 'promote'],
      [100, 'promote'],
    ]);
    expect(seen).toEqual(rollout.analyses);
    const [ten, fifty, all] = rollout.analyses;
    expect(ten?.canary.requests).toBeGreaterThanOrEqual(5);
    expect(ten?.canary.requests).toBeLessThan(ten?.baseline.requests ?? 0);
    expect(fifty?.canary.requests).toBeGreaterThanOrEqual(25);
    // At 100% the canary is judged against the stable version's window from the 50% step.
    expect(all?.canary.requests).toBe(50);
    expect(all?.baseline).toEqual(fifty?.baseline);
    expect(rollout.previous).toMatchObject({ commit: base, status: 'superseded' });
    const current = await deployer.current('billing-service', 'production');
    expect(current).toMatchObject({
      id: rollout.deployment.id,
      commit: commits.good,
      status: 'live',
      pullRequest: 7,
    });
    expect((await probe(current?.endpoint ?? '', loyaltyInvoice)).ok).toBe(true);
  });

  it('aborts a breaking commit at the 10% step on its error rate, leaving the previous version serving', async () => {
    const before = await deployer.current('billing-service', 'production');

    const rollout = await deployer.rollOut(target(commits.breaking, { runId: 'run-2', pullRequest: 8 }));

    expect(rollout.outcome).toBe('aborted');
    expect(rollout.analyses).toHaveLength(1);
    expect(rollout.analyses[0]).toMatchObject({ trafficPercent: 10, verdict: 'abort' });
    expect(rollout.analyses[0]?.canary.errors).toBeGreaterThan(0);
    expect(rollout.analyses[0]?.baseline.errors).toBe(0);
    expect(rollout.reason).toMatch(/^aborted at step 1 \(10% of traffic\): canary error rate/);
    expect(rollout.detectedAt).toBeDefined();
    expect(rollout.deployment).toMatchObject({ commit: commits.breaking, status: 'aborted', runId: 'run-2' });
    expect(rollout.previous?.id).toBe(before?.id);
    expect(await deployer.current('billing-service', 'production')).toMatchObject({
      id: before?.id,
      status: 'live',
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => probe(before?.endpoint ?? '', loyaltyInvoice)),
    );
    expect(answers.every((answer) => answer.ok)).toBe(true);
  });

  it('aborts a slow commit on its p95 latency', async () => {
    const rollout = await deployer.rollOut(target(commits.slow, { runId: 'run-3' }));

    expect(rollout.outcome).toBe('aborted');
    expect(rollout.analyses[0]?.trafficPercent).toBe(10);
    expect(rollout.analyses[0]?.canary.latencyP95Ms).toBeGreaterThanOrEqual(150);
    expect(rollout.reason).toContain('canary p95 latency');
    expect(rollout.analyses[0]?.canary.errors).toBe(0);
  });

  it('redeploys a commit to production at once behind the same endpoint', async () => {
    const before = await deployer.current('billing-service', 'production');

    const result = await deployer.redeploy(target(base, { runId: 'run-rollback' }));

    expect(result.smoke.passed).toBe(true);
    expect(result.deployment).toMatchObject({ commit: base, status: 'live', endpoint: before?.endpoint });
    expect(await deployer.current('billing-service', 'production')).toMatchObject({
      id: result.deployment.id,
    });
    const history = await deployer.history('billing-service', 'production');
    expect(history.find((deployment) => deployment.id === before?.id)?.status).toBe('superseded');
  });

  it('observes healthy production without alarms, and raises an error-rate alarm on a bad live version', async () => {
    const calm = await deployer.observe('billing-service', 500);
    const bad = await deployer.redeploy(target(commits.breaking, { runId: 'run-4', pullRequest: 9 }));

    const observation = await deployer.observe('billing-service', 1000);

    expect(calm).toMatchObject({ healthy: true, alarms: [] });
    expect(calm.stats.requests).toBe(25);
    expect(observation.healthy).toBe(false);
    expect(observation.stats.errors).toBeGreaterThan(0);
    expect(observation.alarms).toEqual([
      expect.objectContaining({
        alarm: 'billing-service-production-error-rate',
        metric: 'error-rate',
        state: 'ALARM',
        threshold: 0.05,
        deploymentId: bad.deployment.id,
      }),
    ]);
    expect(observation.alarms[0]?.value).toBeGreaterThan(0.05);
  });

  it('reports each environment up, then stops every child it started', async () => {
    const statuses = await deployer.status();
    const pids = await servicePids();

    await deployer.stop();

    expect(statuses.map((status) => [status.environment, status.up])).toEqual([
      ['staging', true],
      ['production', true],
    ]);
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
    expect(await servicePids()).toEqual([]);
    const after = await deployer.status();
    expect(after.map((status) => [status.environment, status.up, status.deployment?.status])).toEqual([
      ['staging', false, 'stopped'],
      ['production', false, 'stopped'],
    ]);
  });

  it('restarts what production last ran when a new deployer rolls out after a restart', async () => {
    const restarted = new LocalDeployer({
      forge,
      records: new DynamoEventLog(engines.dynamo, defaultTableNames()),
      specs: new Map([['billing-service', await testSpec()]]),
      root: path.join(scratch, 'deploy'),
    });
    try {
      const rollout = await restarted.rollOut(target(commits.good, { runId: 'run-5' }));

      expect(rollout.outcome).toBe('promoted');
      expect(rollout.previous).toMatchObject({
        commit: commits.breaking,
        runId: 'run-4',
        status: 'superseded',
      });
    } finally {
      await restarted.stop();
    }
    expect(await servicePids()).toEqual([]);
  });
});

describe('LocalDeployer refusals', () => {
  it('records a version that never becomes healthy as aborted and kills it', async () => {
    const spec = { ...(await testSpec()), start: { command: ['node', '-e', 'setInterval(() => {}, 1000)'] } };
    const tables = defaultTableNames('hanging');
    await ensureEventLogTables(engines.dynamo, tables);
    // dynalite makes a new table active a moment after creating it.
    for (let status = ''; status !== 'ACTIVE'; ) {
      status =
        (await engines.dynamo.send(new DescribeTableCommand({ TableName: tables.records }))).Table
          ?.TableStatus ?? '';
    }
    const records = new DynamoEventLog(engines.dynamo, tables);
    const hanging = new LocalDeployer({
      forge,
      records,
      specs: new Map([['billing-service', spec]]),
      root: path.join(scratch, 'deploy-hanging'),
      healthTimeoutMs: 600,
    });
    try {
      const error = await hanging.deployStaging(target(base)).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(DeploymentFailedError);
      expect((error as DeploymentFailedError).message).toContain(
        'did not answer 200 on /health within 600 ms',
      );
      expect((error as DeploymentFailedError).deployment?.status).toBe('aborted');
      const [recorded] = await hanging.history('billing-service', 'staging');
      expect(recorded?.status).toBe('aborted');

      const refused = await hanging.rollOut(target(commits.good)).catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(InvalidInputError);
      expect((refused as InvalidInputError).hint).toContain('baselineCommit');
    } finally {
      await hanging.stop();
    }
    const { stdout } = await run('ps', ['-o', 'args=', '--ppid', String(process.pid)]).catch(() => ({
      stdout: '',
    }));
    expect(stdout).not.toContain('setInterval');
  });
});
