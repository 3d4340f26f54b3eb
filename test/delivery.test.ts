import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../src/domain/events.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { type Gantry, openGantry, type RunOutcome } from '../src/local/runtime.js';
import { removeHome } from '../src/workspaces/index.js';
import { exampleCassette, exampleDir } from './support/gantry-cli.js';

const deliverRequest = join(exampleDir, 'deliver.yaml');

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

/** The billing service's answer on the production endpoint for the zero-discount invoice. */
async function zeroDiscountTotal(endpoint: string): Promise<number> {
  const response = await fetch(`${endpoint}/invoices/total`, {
    method: 'POST',
    body: JSON.stringify({ lines: [{ unitPriceCents: 12800, quantity: 1 }], discountPercent: 0 }),
  });
  return ((await response.json()) as { total: number }).total;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['--git-dir', dir, ...args], { encoding: 'utf8' }).trim();
}

describe('the delivery loop: review, merge gate, merge queue, staging, progressive production, observation', () => {
  let home: string;
  let gantry: Gantry;
  let waiting: RunOutcome;
  let outcome: RunOutcome;
  let events: RunEvent[];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'gantry-delivery-'));
    gantry = await openGantry({ home });
    waiting = await gantry.submit(await parseRequestFile(deliverRequest), exampleCassette);
    outcome = waiting.approvalId
      ? await gantry.decide(waiting.approvalId, 'approved', 'sam.okafor', 'evidence and review read')
      : waiting;
    events = await gantry.log.read(outcome.runId);
  }, 120_000);

  afterAll(async () => {
    await gantry?.close();
    await removeHome(home);
  });

  it('reviews the pull request and stops at the merge approval the contract asks for', async () => {
    expect(waiting.state).toBe('waiting_for_approval');
    const review = ofType(events, 'review.completed')[0];
    expect(review?.data.model).toBe('ran');
    expect(review?.data.blockers).toBe(0);
    const decided = ofType(events, 'merge.decided')[0];
    expect(decided?.data.mode).toBe('approval');
    expect(decided?.data.rules.every((r) => r.passed)).toBe(true);
    const approval = ofType(events, 'approval.requested').find((e) => e.data.kind === 'merge');
    expect(approval?.data.approvers).toContain('sam.okafor');
    expect(approval?.data.approvers).not.toContain('maria.lopez');
  });

  it('merges through the queue, tested on the default branch, and lands exactly that change', async () => {
    expect(outcome.state, outcome.reason).toBe('completed');
    const merged = ofType(events, 'pr.merged')[0];
    expect(merged?.data.testRuns).toBeGreaterThanOrEqual(1);
    const bare = join(home, 'forge', 'billing-service.git');
    expect(git(bare, 'rev-parse', 'main')).toBe(merged?.data.mergeCommit);
    expect(git(bare, 'show', 'main:src/invoice.js')).toContain(
      'invoice.discountPercent ?? DEFAULT_DISCOUNT_PERCENT',
    );
    const pull = await gantry.show(outcome.runId);
    expect(pull.summary.state).toBe('completed');
  });

  it('prepares a release packet, deploys staging with smoke checks, then production by 10, 50 and 100%', async () => {
    const release = ofType(events, 'release.prepared')[0];
    expect(release?.data.ready).toBe(true);
    const packet = JSON.parse(await gantry.artifacts.getText(release?.data.json ?? '')) as {
      rolloutPlan: { steps: number[] };
      monitors: string[];
      rollbackMethod: string;
      changes: { commit: string }[];
    };
    expect(packet.rolloutPlan.steps).toEqual([10, 50, 100]);
    expect(packet.monitors.length).toBeGreaterThan(0);
    expect(packet.rollbackMethod).toMatch(/revert/);
    expect(packet.changes.length).toBeGreaterThan(0);
    expect(ofType(events, 'deploy.staged')[0]?.data.passed).toBe(true);
    const steps = ofType(events, 'deploy.step');
    expect(steps.map((s) => s.data.trafficPercent)).toEqual([10, 50, 100]);
    expect(steps.every((s) => s.data.verdict === 'promote' && s.data.canary.requests > 0)).toBe(true);
    expect(ofType(events, 'deploy.finished')[0]?.data.outcome).toBe('promoted');
    expect(ofType(events, 'observation.completed')[0]?.data.healthy).toBe(true);
  });

  it('leaves production answering with the fixed code', async () => {
    const production = (await gantry.deployments()).find((s) => s.environment === 'production');
    expect(production?.up).toBe(true);
    expect(production?.deployment?.runId).toBe(outcome.runId);
    // 128.00 EUR with no discount and 20% VAT: the bug billed 145.92.
    expect(await zeroDiscountTotal(production?.deployment?.endpoint ?? '')).toBe(15360);
  });

  it('routes a production alarm to the deployment, its pull request and run, and rolls the change back', async () => {
    const eventFile = join(home, 'alarm.json');
    await writeFile(
      eventFile,
      JSON.stringify({
        'detail-type': 'CloudWatch Alarm State Change',
        source: 'aws.cloudwatch',
        time: new Date().toISOString(),
        detail: {
          alarmName: 'billing-service-production-error-rate',
          state: { value: 'ALARM', reason: 'Threshold Crossed: 5xx rate 7% > 2% for 3 datapoints' },
        },
      }),
    );
    const { alarmSignalFromEvent } = await import('../src/incidents/alarm-signal.js');
    const routed = await gantry.handleAlarm(
      alarmSignalFromEvent(JSON.parse(await readFile(eventFile, 'utf8')), eventFile),
    );
    const merged = ofType(events, 'pr.merged')[0];
    expect(routed.incident.offendingRun).toBe(outcome.runId);
    expect(routed.incident.pullRequest).toBe(merged?.data.number);
    expect(routed.rollback?.state, routed.rollback?.reason).toBe('completed');
    expect(routed.incident.status).toBe('resolved');

    const rollbackEvents = await gantry.log.read(routed.rollback?.runId ?? '');
    const revert = ofType(rollbackEvents, 'revert.prepared')[0];
    expect(revert?.data.clean).toBe(true);
    expect(revert?.data.files.sort()).toEqual(['src/invoice.js', 'test/invoice-zero-discount.test.js']);
    // Merged under the rollback contract's pre-approved runbook: no approval was asked for.
    expect(ofType(rollbackEvents, 'approval.requested')).toHaveLength(0);
    const decisions = ofType(rollbackEvents, 'policy.decided').map((e) => e.data.decision);
    expect(decisions.find((d) => d.action === 'merge')?.determiningPolicies).toContain('tier3.merge');
    expect(decisions.find((d) => d.action === 'rollback')?.decision).toBe('allow');
    // The revert's evidence is the alarm and the offending pull request.
    const evidence = ofType(rollbackEvents, 'evidence.assembled')[0];
    const body = await gantry.artifacts.getText(evidence?.data.markdown ?? '');
    expect(body).toContain('billing-service-production-error-rate');
    expect(body).toContain(`pull request #${merged?.data.number}`);

    const bare = join(home, 'forge', 'billing-service.git');
    expect(git(bare, 'show', 'main:src/invoice.js')).toContain(
      'invoice.discountPercent || DEFAULT_DISCOUNT_PERCENT',
    );
    const production = (await gantry.deployments()).find((s) => s.environment === 'production');
    expect(production?.deployment?.runId).toBe(routed.rollback?.runId);
    expect(await zeroDiscountTotal(production?.deployment?.endpoint ?? '')).toBe(14592);

    const filed = ofType(rollbackEvents, 'request.filed')[0];
    const fixForward = await parseRequestFile(join(home, 'requests', `${filed?.data.requestId}.yaml`));
    expect(fixForward.title).toBe('Fix forward: Invoice total is wrong when the discount is zero');
    expect(fixForward.description).toContain(routed.incident.id);

    const replay = await gantry.replay(routed.rollback?.runId ?? '');
    expect(replay.problems).toEqual([]);
  }, 120_000);

  it('asks a person when the same alarm fires again on the rollback itself', async () => {
    const production = (await gantry.deployments()).find((s) => s.environment === 'production');
    const routed = await gantry.handleAlarm({
      alarm: 'billing-service-production-error-rate',
      service: 'billing-service',
      environment: 'production',
      state: 'ALARM',
      metric: 'error-rate',
      value: 0.07,
      threshold: 0.02,
      reason: 'still failing',
      at: new Date().toISOString(),
      deploymentId: production?.deployment?.id,
    });
    expect(routed.rollback).toBeUndefined();
    expect(routed.incident.status).toBe('needs-human');
    expect(routed.incident.note).toMatch(/rollback's own redeploy/);
  });
});

describe('a rollback the runbook does not cover stops and asks a person', () => {
  let home: string;
  let gantry: Gantry;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'gantry-escalation-'));
    gantry = await openGantry({ home });
  });

  afterAll(async () => {
    await gantry?.close();
    await removeHome(home);
  });

  it('escalates when the revert no longer applies to the default branch', async () => {
    const waiting = await gantry.submit(await parseRequestFile(deliverRequest), exampleCassette);
    const delivered = await gantry.decide(waiting.approvalId ?? '', 'approved', 'priya.raman');
    expect(delivered.state, delivered.reason).toBe('completed');

    // A person lands a change on the same line after Gantry's merge.
    const bare = join(home, 'forge', 'billing-service.git');
    const clone = join(home, 'person');
    execFileSync('git', ['clone', '-q', bare, clone]);
    const file = join(clone, 'src', 'invoice.js');
    const source = await readFile(file, 'utf8');
    await writeFile(
      file,
      source.replace(
        'invoice.discountPercent ?? DEFAULT_DISCOUNT_PERCENT',
        'Number.isFinite(invoice.discountPercent) ? invoice.discountPercent : DEFAULT_DISCOUNT_PERCENT',
      ),
    );
    const id = ['-c', 'user.name=Lee', '-c', 'user.email=lee@example.com'];
    execFileSync('git', ['-C', clone, ...id, 'commit', '-qam', 'Treat non-numeric discounts as absent']);
    execFileSync('git', ['-C', clone, 'push', '-q', 'origin', 'HEAD:refs/heads/lee/discount']);
    git(bare, 'update-ref', 'refs/heads/main', git(bare, 'rev-parse', 'refs/heads/lee/discount'));

    const production = (await gantry.deployments()).find((s) => s.environment === 'production');
    const routed = await gantry.handleAlarm({
      alarm: 'billing-service-production-latency-p95',
      service: 'billing-service',
      environment: 'production',
      state: 'ALARM',
      metric: 'latency-p95',
      value: 900,
      threshold: 250,
      reason: 'p95 900 ms > 250 ms',
      at: new Date().toISOString(),
      deploymentId: production?.deployment?.id,
    });
    expect(routed.rollback?.state).toBe('failed');
    expect(routed.rollback?.reason).toMatch(
      /rollback needs a person: the revert of .* does not apply cleanly/,
    );
    const incident = (await gantry.incidents())[0];
    expect(incident?.status).toBe('needs-human');
    // The runbook's owners and the deployers are asked, with the reason and where to look.
    const messages = JSON.parse(await gantry.artifacts.getText(incident?.notification ?? '')) as {
      to: string[];
      email: { subject: string; text: string };
    };
    expect(messages.to).toEqual(['@acme/sre', '@acme/release']);
    expect(messages.email.subject).toContain(incident?.id);
    expect(messages.email.text).toMatch(/does not apply cleanly/);
    expect(messages.email.text).toContain(`gantry show ${routed.rollback?.runId}`);
    // Nothing half-done: no revert pull request, main untouched, production still on the delivered change.
    expect(incident?.revertPullRequest).toBeUndefined();
    expect(git(bare, 'show', 'main:src/invoice.js')).toContain('Number.isFinite(invoice.discountPercent)');
    const after = (await gantry.deployments()).find((s) => s.environment === 'production');
    expect(after?.deployment?.id).toBe(production?.deployment?.id);
  }, 120_000);
});

describe('the health routine', () => {
  let home: string;
  let gantry: Gantry;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'gantry-health-'));
    gantry = await openGantry({ home });
  });

  afterAll(async () => {
    await gantry?.close();
    await removeHome(home);
  });

  it('reports a red default branch, live services and a waiting approval, and files one request per problem', async () => {
    // Prepare: a run waiting at its merge gate, then a commit on main that breaks a test
    const waiting = await gantry.submit(await parseRequestFile(deliverRequest), exampleCassette);
    expect(waiting.state).toBe('waiting_for_approval');
    const bare = join(home, 'forge', 'billing-service.git');
    const clone = join(home, 'person');
    execFileSync('git', ['clone', '-q', bare, clone]);
    await writeFile(
      join(clone, 'test', 'broken.test.js'),
      "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('broken', () => assert.equal(1, 2));\n",
    );
    const id = ['-c', 'user.name=Lee', '-c', 'user.email=lee@example.com'];
    execFileSync('git', ['-C', clone, 'add', '-A']);
    execFileSync('git', ['-C', clone, ...id, 'commit', '-qm', 'Add a test that fails']);
    execFileSync('git', ['-C', clone, 'push', '-q', 'origin', 'HEAD:refs/heads/lee/broken']);
    git(bare, 'update-ref', 'refs/heads/main', git(bare, 'rev-parse', 'refs/heads/lee/broken'));

    // Act
    const first = await gantry.health({ observeMs: 0 });
    const second = await gantry.health({ observeMs: 0 });

    // Assess
    expect(first.report.status).toBe('attention');
    const failing = first.report.checks.find((c) => c.repository === 'billing-service');
    expect(failing).toMatchObject({ passed: false, name: 'npm test' });
    expect(first.report.openApprovals.map((a) => a.approvalId)).toEqual([waiting.approvalId]);
    expect(first.report.attention.map((a) => a.kind)).toContain('check-failing');
    expect(first.filed.map((f) => f.key)).toEqual(['check-failing:billing-service:main:npm test']);
    const filed = await parseRequestFile(first.filed[0]?.file ?? '');
    expect(filed.capability).toBe('low-risk-bugfix');
    expect(second.filed).toEqual([]);
    const control = await gantry.log.read('control-plane');
    expect(control.filter((e) => e.type === 'request.filed')).toHaveLength(1);
  }, 120_000);
});

describe('changes that pass their tests but hurt production are rolled back by Gantry itself', () => {
  let home: string;
  let gantry: Gantry;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'gantry-rollback-'));
    gantry = await openGantry({ home });
  });

  afterAll(async () => {
    await gantry?.close();
    await removeHome(home);
  });

  const cases = [
    { name: 'negative-invoice-lines', metric: /canary error rate/ },
    { name: 'yen-invoice-rounding', metric: /canary p95 latency/ },
  ];

  for (const example of cases) {
    it(`aborts ${example.name} at the first step and reverts, redeploys and files a fix-forward request`, async () => {
      // Prepare: production runs the default branch as it is before the request
      const request = await parseRequestFile(join(exampleDir, 'requests', `${example.name}.yaml`));
      const cassette = `cassette:${join(exampleDir, 'cassettes', `${example.name}.yaml`)}`;
      const bare = join(home, 'forge', 'billing-service.git');

      // Act
      const waiting = await gantry.submit(request, cassette);
      expect(waiting.state, waiting.reason).toBe('waiting_for_approval');
      const outcome = await gantry.decide(waiting.approvalId ?? '', 'approved', 'sam.okafor');

      // Assess: the run is rolled back, with the analysis that decided it
      expect(outcome.state, outcome.reason).toBe('rolled_back');
      const events = await gantry.log.read(outcome.runId);
      const steps = ofType(events, 'deploy.step');
      expect(steps.at(-1)?.data).toMatchObject({ trafficPercent: 10, verdict: 'abort' });
      expect(steps.at(-1)?.data.reasons.join(' ')).toMatch(example.metric);
      const incident = ofType(events, 'incident.opened')[0];
      expect(incident?.data).toMatchObject({ source: 'analysis', offendingRun: outcome.runId });
      const rollback = ofType(events, 'rollback.finished')[0];
      expect(rollback?.data.outcome).toBe('recovered');

      // The revert landed, production runs it and answers every traffic shape again
      const rollbackEvents = await gantry.log.read(rollback?.data.rollbackRun ?? '');
      const revertMerge = ofType(rollbackEvents, 'pr.merged')[0];
      expect(git(bare, 'rev-parse', 'main')).toBe(revertMerge?.data.mergeCommit);
      const production = (await gantry.deployments()).find((s) => s.environment === 'production');
      expect(production?.deployment?.commit).toBe(revertMerge?.data.mergeCommit);
      const loyalty = await fetch(`${production?.deployment?.endpoint}/invoices/total`, {
        method: 'POST',
        body: JSON.stringify({ lines: [{ unitPriceCents: 12800, quantity: 1 }] }),
      });
      expect(loyalty.status).toBe(200);
      const recovery = ofType(rollbackEvents, 'observation.completed')[0];
      expect(recovery?.data).toMatchObject({ purpose: 'recovery', healthy: true });
      expect(ofType(rollbackEvents, 'request.filed')).toHaveLength(1);

      // Both runs replay clean from their logs
      for (const runId of [outcome.runId, rollback?.data.rollbackRun ?? '']) {
        expect((await gantry.replay(runId)).problems).toEqual([]);
      }
    }, 180_000);
  }
});
