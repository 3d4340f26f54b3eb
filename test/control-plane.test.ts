import { execFileSync } from 'node:child_process';
import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  loadOrCreatePlatformKey,
  PLATFORM_KEY_FILE,
  publicKeyFileFor,
} from '../src/adapters/local/ed25519-signer.js';
import { APPROVAL_KIND, saveApproval } from '../src/approvals/approval-records.js';
import { ApprovalSignatureError, verifyApprovalDecision } from '../src/approvals/decision-signatures.js';
import { SignedApprovalRecords } from '../src/approvals/signed-approval-records.js';
import type { Approval } from '../src/domain/approval.js';
import type { RunEvent } from '../src/domain/events.js';
import type { ModelRequest } from '../src/domain/model.js';
import type { EngineeringRequest } from '../src/domain/request.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { Gantry, type GantryOptions, policiesDir, type RunOutcome } from '../src/local/runtime.js';
import { exampleCassette, exampleRequest, repoRoot, runGantry, tempHome } from './support/gantry-cli.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'control-plane');
const loopCassette = `cassette:${join(fixtures, 'loop.cassette.yaml')}`;
const publicApiCassette = `cassette:${join(fixtures, 'public-api.cassette.yaml')}`;

type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
const ofType = <T extends RunEvent['type']>(events: readonly RunEvent[], type: T): EventOf<T>[] =>
  events.filter((e): e is EventOf<T> => e.type === type);

/** The billing example's request, changed where a test needs it. */
async function billingRequest(change: Partial<EngineeringRequest> = {}): Promise<EngineeringRequest> {
  return { ...(await parseRequestFile(exampleRequest)), ...change };
}

/** An authentication change in the billing example: high risk, autonomy tier 1, three gates. */
const loginRequest = () =>
  billingRequest({
    title: 'Login fails when the password contains a space',
    description: 'Users whose password contains a space cannot log in since the last release.',
    acceptanceCriteria: ['A password with a space logs the user in', 'The existing tests keep passing'],
  });

/** A copy of the shipped policies with the low-risk-bugfix contract changed; the original is never touched. */
async function policiesWith(dir: string, change: (contract: Record<string, unknown>) => void) {
  const copy = join(dir, 'policies');
  await cp(policiesDir, copy, { recursive: true });
  const file = join(copy, 'capabilities', 'low-risk-bugfix.yaml');
  const contract = YAML.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(contract);
  await writeFile(file, YAML.stringify(contract));
  return copy;
}

/** A fresh home with a Gantry open on it; `close` also removes the home. */
async function openFresh(options: Omit<GantryOptions, 'home'> = {}, prefix = 'gantry-cp-') {
  const { home, cleanup } = await tempHome(prefix);
  const env = {
    home,
    gantry: await Gantry.open({ home, ...options }),
    close: async () => {
      await env.gantry.close();
      await cleanup();
    },
  };
  return env;
}

describe('kill switches stop new and running runs, and releasing them lets work go on', () => {
  let env: Awaited<ReturnType<typeof openFresh>>;
  let onEvent: (event: RunEvent) => void = () => {};
  /** A switch engaged from `onEvent`; the sandbox waits for it so the test does not race the guard. */
  let engaging: Promise<unknown> | undefined;

  beforeAll(async () => {
    env = await openFresh({
      onEvent: (event) => onEvent(event),
      instrument: {
        sandbox: (sandbox) => ({
          kind: sandbox.kind,
          workspaceMount: sandbox.workspaceMount,
          run: async (spec) => {
            await engaging;
            return sandbox.run(spec);
          },
        }),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('aborts a new run under the global switch before any model turn', async () => {
    // Prepare
    const { gantry } = env;
    await gantry.setKillSwitch({
      scope: 'global',
      engaged: true,
      by: 'oncall.ana',
      reason: 'bad patches from the new model',
    });
    // Act
    const outcome = await gantry.submit(await billingRequest(), exampleCassette);
    // Assess
    const events = await gantry.log.read(outcome.runId);
    expect(outcome.state).toBe('aborted');
    expect(outcome.reason).toContain(
      'the global kill switch was engaged by oncall.ana: bad patches from the new model',
    );
    expect(ofType(events, 'guard.tripped').map((e) => e.data)).toEqual([
      {
        guard: 'kill-switch',
        reason: 'the global kill switch was engaged by oncall.ana: bad patches from the new model',
      },
    ]);
    expect(ofType(events, 'model.turn')).toEqual([]);
    expect(ofType(events, 'run.state').at(-1)?.data.state).toBe('aborted');
    await gantry.setKillSwitch({
      scope: 'global',
      engaged: false,
      by: 'oncall.ana',
      reason: 'model rolled back',
    });
  });

  it('aborts a running run at its next model turn when its capability switch is engaged mid-run', async () => {
    // Prepare: engage the switch the moment the first model turn is recorded.
    const { gantry } = env;
    onEvent = (event) => {
      if (event.type === 'model.turn' && !engaging) {
        engaging = gantry.setKillSwitch({
          scope: 'capability',
          target: 'low-risk-bugfix',
          engaged: true,
          by: 'oncall.ben',
          reason: 'bugfix runs paused for the incident',
        });
      }
    };
    // Act
    const outcome = await gantry.submit(await billingRequest(), exampleCassette);
    onEvent = () => {};
    // Assess
    const events = await gantry.log.read(outcome.runId);
    const reason =
      'the kill switch for capability low-risk-bugfix was engaged by oncall.ben: bugfix runs paused for the incident';
    expect(outcome.state).toBe('aborted');
    expect(outcome.reason).toContain(reason);
    expect(ofType(events, 'guard.tripped').map((e) => e.data)).toEqual([{ guard: 'kill-switch', reason }]);
    // What happened before the switch is kept: the first turn and the call it asked for.
    expect(ofType(events, 'model.turn')).toHaveLength(1);
    expect(ofType(events, 'tool.executed').map((e) => e.data.callId)).toEqual(['toolu_01_list']);
    expect(ofType(events, 'context.built')).toHaveLength(1);
    expect(ofType(events, 'run.state').at(-1)?.data.state).toBe('aborted');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    engaging = undefined;
    await gantry.setKillSwitch({
      scope: 'capability',
      target: 'low-risk-bugfix',
      engaged: false,
      by: 'oncall.ben',
      reason: 'incident over',
    });
  });

  it('aborts a run in a repository whose switch is engaged', async () => {
    // Prepare
    const { gantry } = env;
    await gantry.setKillSwitch({
      scope: 'repository',
      target: 'billing-service',
      engaged: true,
      by: 'lee.chen',
      reason: 'billing freeze for the audit',
    });
    // Act
    const outcome = await gantry.submit(await billingRequest(), exampleCassette);
    // Assess
    const events = await gantry.log.read(outcome.runId);
    expect(outcome.state).toBe('aborted');
    expect(outcome.reason).toContain(
      'the kill switch for repository billing-service was engaged by lee.chen: billing freeze for the audit',
    );
    expect(ofType(events, 'guard.tripped')[0]?.data.guard).toBe('kill-switch');
    expect(ofType(events, 'model.turn')).toEqual([]);
  });

  it('completes a new run once the switch is resumed, and logs every change with who and why', async () => {
    // Prepare
    const { gantry } = env;
    await gantry.setKillSwitch({
      scope: 'repository',
      target: 'billing-service',
      engaged: false,
      by: 'lee.chen',
      reason: 'audit done',
    });
    // Act
    const outcome = await gantry.submit(await billingRequest(), exampleCassette);
    const log = await gantry.log.read('control-plane');
    // Assess
    expect(outcome.state, outcome.reason).toBe('completed');
    expect(outcome.pullRequest).toMatch(/^gantry:\/\/billing-service\/pull\/\d+$/);
    expect((await gantry.killSwitches()).every((s) => !s.engaged)).toBe(true);
    expect(ofType(log, 'kill-switch.changed').map((e) => e.data)).toEqual([
      { scope: 'global', engaged: true, by: 'oncall.ana', reason: 'bad patches from the new model' },
      { scope: 'global', engaged: false, by: 'oncall.ana', reason: 'model rolled back' },
      {
        scope: 'capability',
        target: 'low-risk-bugfix',
        engaged: true,
        by: 'oncall.ben',
        reason: 'bugfix runs paused for the incident',
      },
      {
        scope: 'capability',
        target: 'low-risk-bugfix',
        engaged: false,
        by: 'oncall.ben',
        reason: 'incident over',
      },
      {
        scope: 'repository',
        target: 'billing-service',
        engaged: true,
        by: 'lee.chen',
        reason: 'billing freeze for the audit',
      },
      {
        scope: 'repository',
        target: 'billing-service',
        engaged: false,
        by: 'lee.chen',
        reason: 'audit done',
      },
    ]);
    for (const event of ofType(log, 'kill-switch.changed')) {
      expect(event.actor).toEqual({ kind: 'human', id: event.data.by });
    }
  });
});

describe('the kill switch commands', () => {
  it('engage, list and release the global switch with who and why', async () => {
    // Prepare
    const { home, cleanup } = await tempHome('gantry-cp-cli-');
    try {
      // Act
      const killed = await runGantry([
        '--home',
        home,
        'kill',
        '--as',
        'oncall.ana',
        '--reason',
        'runaway agent',
      ]);
      const listed = await runGantry(['--home', home, 'switches', '--json']);
      const resumed = await runGantry(['--home', home, 'resume', '--as', 'oncall.ana']);
      const after = await runGantry(['--home', home, 'switches', '--json']);
      // Assess
      expect(killed.code, killed.stderr).toBe(0);
      expect(killed.stdout).toContain('global kill switch ENGAGED by oncall.ana: runaway agent');
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({
          scope: 'global',
          engaged: true,
          by: 'oncall.ana',
          reason: 'runaway agent',
        }),
      ]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain('global kill switch released by oncall.ana');
      expect(JSON.parse(after.stdout)).toEqual([
        expect.objectContaining({ scope: 'global', engaged: false, by: 'oncall.ana' }),
      ]);
    } finally {
      await cleanup();
    }
  });
});

describe('budgets halt a run that spends more than its capability allows', () => {
  it('fails a run that asks for more tool calls than the budget', async () => {
    // Prepare: the example's fourth tool call breaks a budget of three.
    const { home, cleanup } = await tempHome('gantry-cp-budget-');
    const policies = await policiesWith(home, (c) => {
      (c.budgets as Record<string, number>).maxToolCalls = 3;
    });
    const gantry = await Gantry.open({ home, policiesDir: policies });
    try {
      // Act
      const outcome = await gantry.submit(await billingRequest(), exampleCassette);
      // Assess
      const events = await gantry.log.read(outcome.runId);
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toContain("the run's budget is spent: tool calls 4 exceed the budget of 3");
      expect(ofType(events, 'guard.tripped').map((e) => e.data)).toEqual([
        { guard: 'budget', reason: 'tool calls 4 exceed the budget of 3' },
      ]);
      expect(ofType(events, 'tool.executed')).toHaveLength(3);
      expect(ofType(events, 'pr.opened')).toEqual([]);
    } finally {
      await gantry.close();
      await cleanup();
    }
  });

  it('fails a run whose model turns spend more tokens than the budget', async () => {
    // Prepare: the example's first three turns spend 6 949 tokens.
    const { home, cleanup } = await tempHome('gantry-cp-tokens-');
    const policies = await policiesWith(home, (c) => {
      (c.budgets as Record<string, number>).maxModelTokens = 5000;
    });
    const gantry = await Gantry.open({ home, policiesDir: policies });
    try {
      // Act
      const outcome = await gantry.submit(await billingRequest(), exampleCassette);
      // Assess
      const events = await gantry.log.read(outcome.runId);
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toContain(
        "the run's budget is spent: model tokens 6949 exceed the budget of 5000",
      );
      expect(ofType(events, 'guard.tripped').map((e) => e.data)).toEqual([
        { guard: 'budget', reason: 'model tokens 6949 exceed the budget of 5000' },
      ]);
      expect(ofType(events, 'model.turn')).toHaveLength(3);
    } finally {
      await gantry.close();
      await cleanup();
    }
  });
});

describe('loop detection', () => {
  it('fails a run whose agent asks for the same read_file again and again', async () => {
    // Prepare
    const env = await openFresh({}, 'gantry-cp-loop-');
    try {
      // Act
      const outcome = await env.gantry.submit(await billingRequest(), loopCassette);
      // Assess
      const events = await env.gantry.log.read(outcome.runId);
      expect(outcome.state).toBe('failed');
      expect(outcome.reason).toContain(
        'loop detected: the agent asked for read_file with the same arguments 4 times in phase reproduce',
      );
      const requested = ofType(events, 'tool.requested').map((e) => e.data.callId);
      expect(requested).toEqual(['loop_01', 'loop_02', 'loop_03', 'loop_04']);
      expect(ofType(events, 'tool.executed').map((e) => e.data.callId)).toEqual([
        'loop_01',
        'loop_02',
        'loop_03',
      ]);
      expect(ofType(events, 'run.state').at(-1)?.data.state).toBe('failed');
      expect(ofType(events, 'guard.tripped').map((e) => e.data)).toEqual([
        {
          guard: 'loop',
          reason: 'the agent asked for read_file with the same arguments 4 times in phase reproduce',
        },
      ]);
    } finally {
      await env.close();
    }
  });
});

describe('the daily cap of a capability', () => {
  it('rejects the second run of the day, and a restarted run does not count twice', async () => {
    // Prepare: a cap of one, and a first run that stops at its plan gate so it can be restarted.
    const { home, cleanup } = await tempHome('gantry-cp-cap-');
    const policies = await policiesWith(home, (c) => {
      c.dailyRunCap = 1;
    });
    const gantry = await Gantry.open({ home, policiesDir: policies });
    try {
      const first = await gantry.submit(await loginRequest(), exampleCassette);
      expect(first.state, first.reason).toBe('waiting_for_approval');
      // Act
      const restarted = await gantry.continueRun(first.runId);
      const second = await gantry.submit(await billingRequest(), exampleCassette);
      // Assess
      const day = new Date().toISOString().slice(0, 10);
      const reason = `capability low-risk-bugfix reached its daily cap of 1 runs on ${day}`;
      expect(restarted.state, restarted.reason).toBe('waiting_for_approval');
      expect(ofType(await gantry.log.read(first.runId), 'guard.tripped')).toEqual([]);
      expect(second.state).toBe('rejected');
      expect(second.reason).toBe(reason);
      const events = await gantry.log.read(second.runId);
      expect(ofType(events, 'guard.tripped').map((e) => e.data)).toEqual([{ guard: 'daily-cap', reason }]);
      expect(ofType(events, 'request.rejected').map((e) => e.data)).toEqual([
        { reason, missing: ['capacity'] },
      ]);
      expect(ofType(events, 'model.turn')).toEqual([]);
    } finally {
      await gantry.close();
      await cleanup();
    }
  });
});

describe('the diff scope check sends a public API change back to the patch loop', () => {
  let env: Awaited<ReturnType<typeof openFresh>>;
  const modelRequests: ModelRequest[] = [];
  let events: RunEvent[];
  let outcome: Awaited<ReturnType<Gantry['submit']>>;

  beforeAll(async () => {
    env = await openFresh(
      {
        instrument: {
          model: (model) => ({
            id: model.id,
            converse: (request, options) => {
              modelRequests.push(structuredClone(request));
              return model.converse(request, options);
            },
          }),
        },
      },
      'gantry-cp-scope-',
    );
    const request = await billingRequest();
    request.constraints = [...request.constraints, 'Do not change the public API'];
    outcome = await env.gantry.submit(request, publicApiCassette);
    events = await env.gantry.log.read(outcome.runId);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('records the constraint.public-api violation of patch 1 and none after patch 2', () => {
    const checks = ofType(events, 'scope.checked');
    expect(checks.map((c) => c.data.iteration)).toEqual([1, 2]);
    expect(checks[0]?.data.violations).toEqual([
      expect.objectContaining({ rule: 'constraint.public-api', files: ['src/invoice.js'] }),
    ]);
    expect(checks[0]?.data.violations[0]?.message).toContain('invoiceTotals');
    expect(checks[1]?.data.violations).toEqual([]);
    expect(ofType(events, 'verification.completed').map((e) => e.data.passed)).toEqual([false, true]);
  });

  it("puts the REASONING_ERROR in the next patch phase's goal", () => {
    const goals = modelRequests.map((r) => {
      const last = r.messages.filter((m) => m.role === 'user').at(-1);
      return last?.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n') ?? '';
    });
    const patch2 = goals.find((g) => g.startsWith('Phase: patch, iteration 2.'));
    expect(patch2).toContain('REASONING_ERROR');
    expect(patch2).toContain('[constraint.public-api] src/invoice.js');
    expect(patch2).toContain(
      'changed the exported signature of invoiceTotals from `function(invoice)` to `function(invoice, options?)`',
    );
    // Only patch 2's first request carries it: patch 1 was told nothing of the kind.
    expect(goals.filter((g) => g.includes('REASONING_ERROR'))).toHaveLength(1);
  });

  it('completes with the constraint honoured in the evidence packet', async () => {
    expect(outcome.state, outcome.reason).toBe('completed');
    const packet = await readFile(outcome.evidenceFile ?? '', 'utf8');
    expect(packet).toMatch(/- \[x\] Do not change the public API — /);
    const json = ofType(events, 'evidence.assembled')[0];
    const evidence = JSON.parse(await env.gantry.artifacts.getText(json?.data.json ?? '')) as {
      constraints: { constraint: string; honoured: boolean }[];
    };
    expect(evidence.constraints).toContainEqual(
      expect.objectContaining({ constraint: 'Do not change the public API', honoured: true }),
    );
    const bare = join(env.home, 'forge', 'billing-service.git');
    const merged = execFileSync('git', ['--git-dir', bare, 'show', 'refs/pull/1/head:src/invoice.js'], {
      encoding: 'utf8',
    });
    expect(merged).toContain('export function invoiceTotals(invoice) {');
    expect(merged).toContain('invoice.discountPercent ?? DEFAULT_DISCOUNT_PERCENT');
  });

  it('denies the edit of the CI workflow by Cedar, with a tool.denied event', () => {
    const denied = ofType(events, 'tool.denied').find((e) => e.data.callId === 'api_02_ci');
    expect(denied?.data.decision).toMatchObject({
      decision: 'deny',
      action: 'edit_files',
      determiningPolicies: ['forbid.ci-workflows'],
    });
    expect(denied?.data.decision.reasons.join(' ')).toContain(
      "CI workflows run with the repository's secrets",
    );
    expect(ofType(events, 'file.changed').map((e) => e.data.path)).not.toContain('.github/workflows/ci.yml');
  });
});

describe('an authentication change waits at the plan, code-owner and security-owner gates', () => {
  let env: Awaited<ReturnType<typeof openFresh>>;
  let runId: string;
  let approvals: { plan: string; codeOwner: string; securityOwner: string };
  let done: RunOutcome;

  beforeAll(async () => {
    env = await openFresh({}, 'gantry-cp-gates-');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('is high risk at autonomy tier 1 and waits at the plan gate before any model turn', async () => {
    // Act
    const submitted = await env.gantry.submit(await loginRequest(), exampleCassette);
    // Assess
    runId = submitted.runId;
    const events = await env.gantry.log.read(runId);
    expect(submitted.state, submitted.reason).toBe('waiting_for_approval');
    expect(ofType(events, 'risk.classified')[0]?.data).toMatchObject({ tier: 'high', maxAutonomyTier: 1 });
    expect(ofType(events, 'risk.classified')[0]?.data.requiredApprovals).toEqual(
      expect.arrayContaining(['plan', 'code-owner', 'security-owner']),
    );
    expect(ofType(events, 'approval.requested').map((e) => e.data.kind)).toEqual(['plan']);
    expect(ofType(events, 'model.turn')).toEqual([]);
    approvals = { plan: submitted.approvalId ?? '', codeOwner: '', securityOwner: '' };
  });

  it("refuses the requester and a person the matrix does not name, with the matrix's reason", async () => {
    const { gantry } = env;
    await expect(gantry.decide(approvals.plan, 'approved', 'maria.lopez')).rejects.toThrow(
      `maria.lopez may not answer approval ${approvals.plan}: maria.lopez is the requester of this run and can never approve it`,
    );
    await expect(gantry.decide(approvals.plan, 'approved', 'random.person')).rejects.toThrow(
      'random.person is neither a reviewer nor a code owner; may approve: sam.okafor, priya.raman, @acme/billing',
    );
    expect((await gantry.pendingApprovals()).map((a) => a.id)).toEqual([approvals.plan]);
    expect(ofType(await gantry.log.read(runId), 'approval.decided')).toEqual([]);
  });

  it('goes from the plan gate to the code-owner gate and then the security-owner gate as allowed people approve', async () => {
    const { gantry } = env;
    // Act and assess: each answer runs the request on to its next gate, and no further.
    const afterPlan = await gantry.decide(approvals.plan, 'approved', 'sam.okafor', 'plan is narrow');
    expect(afterPlan.state, afterPlan.reason).toBe('waiting_for_approval');
    approvals.codeOwner = afterPlan.approvalId ?? '';
    await expect(gantry.decide(approvals.codeOwner, 'approved', 'random.person')).rejects.toThrow(
      'random.person is not a code owner of',
    );
    const afterOwner = await gantry.decide(approvals.codeOwner, 'approved', 'lee.chen', 'looks right');
    expect(afterOwner.state, afterOwner.reason).toBe('waiting_for_approval');
    approvals.securityOwner = afterOwner.approvalId ?? '';
    await expect(gantry.decide(approvals.securityOwner, 'approved', 'sam.okafor')).rejects.toThrow(
      'sam.okafor is not a security owner; security owners: @acme/security, dana.kim',
    );
    const events = await gantry.log.read(runId);
    expect(ofType(events, 'approval.requested').map((e) => [e.data.kind, e.data.approvalId])).toEqual([
      ['plan', approvals.plan],
      ['code-owner', approvals.codeOwner],
      ['security-owner', approvals.securityOwner],
    ]);
    // The owner gates come after the evidence and before any pull request.
    const seqOf = (predicate: (e: RunEvent) => boolean) => events.find(predicate)?.seq ?? -1;
    expect(seqOf((e) => e.type === 'evidence.assembled')).toBeLessThan(
      seqOf((e) => e.type === 'approval.requested' && e.data.kind === 'code-owner'),
    );
    expect(ofType(events, 'pr.opened')).toEqual([]);
    done = await gantry.decide(approvals.securityOwner, 'approved', 'dana.kim', 'no auth risk in this diff');
  });

  it('records who approved each gate and why, and opens the pull request once every gate is passed', async () => {
    const events = await env.gantry.log.read(runId);
    expect(
      ofType(events, 'approval.decided').map((e) => [e.data.decision, e.data.by, e.data.reason]),
    ).toEqual([
      ['approved', 'sam.okafor', 'plan is narrow'],
      ['approved', 'lee.chen', 'looks right'],
      ['approved', 'dana.kim', 'no auth risk in this diff'],
    ]);
    const openPr = ofType(events, 'policy.decided').find((e) => e.data.decision.action === 'open_pr');
    expect(openPr?.data.decision.decision, openPr?.data.decision.reasons.join('; ')).toBe('allow');
    expect(done.state, done.reason).toBe('completed');
    expect(done.pullRequest).toMatch(/^gantry:\/\/billing-service\/pull\/\d+$/);
  });

  it('ends a run rejected when its gate expires unanswered', async () => {
    // Prepare: a run waiting at its plan gate, then a Gantry whose clock is past the deadline.
    const submitted = await env.gantry.submit(await loginRequest(), exampleCassette);
    expect(submitted.state).toBe('waiting_for_approval');
    const [pending] = (await env.gantry.pendingApprovals()).filter((a) => a.runId === submitted.runId);
    const future = new Date(Date.parse(pending?.expiresAt ?? '') + 60_000);
    await env.gantry.close();
    env.gantry = await Gantry.open({ home: env.home, now: () => future });
    // Act
    const swept = await env.gantry.sweepExpiredApprovals();
    // Assess
    const events = await env.gantry.log.read(submitted.runId);
    expect(swept.map((o) => [o.runId, o.state])).toEqual([[submitted.runId, 'rejected']]);
    expect(swept[0]?.reason).toContain(
      `plan approval expired by gantry: nobody answered before ${pending?.expiresAt}`,
    );
    expect(ofType(events, 'approval.decided').map((e) => e.data)).toEqual([
      expect.objectContaining({ decision: 'expired', by: 'gantry', via: 'expiry' }),
    ]);
    expect(ofType(events, 'run.state').at(-1)?.data.state).toBe('rejected');
    expect(ofType(events, 'model.turn')).toEqual([]);
    expect(await env.gantry.pendingApprovals()).toEqual([]);
  });
});

describe('a gate passes only on a decision the platform key signed when it was recorded', () => {
  let env: Awaited<ReturnType<typeof openFresh>>;
  const runs: { legit?: RunOutcome; copied?: RunOutcome; unsigned?: RunOutcome; tampered?: RunOutcome } = {};

  beforeAll(async () => {
    env = await openFresh({}, 'gantry-cp-signed-');
  });
  afterAll(async () => {
    await env?.close();
  });

  /** A login change waiting at its plan gate, and its pending approval record as stored. */
  async function waitingAtPlan() {
    const outcome = await env.gantry.submit(await loginRequest(), exampleCassette);
    expect(outcome.state, outcome.reason).toBe('waiting_for_approval');
    const record = await env.gantry.log.get<Approval>(APPROVAL_KIND, outcome.approvalId ?? '');
    if (!record) throw new Error('the gate stored no approval');
    return { outcome, record };
  }

  /** An approval written straight into the record store (table gantry-records), as any process that reached it can. */
  const writeRaw = (record: Approval) => env.gantry.log.put(APPROVAL_KIND, record.id, record);

  /** The run resumed after the forgery: it must stop at the gate, failed, saying why. */
  async function expectRefusedAtGate(run: RunOutcome) {
    const resumed = await env.gantry.continueRun(run.runId);
    const events = await env.gantry.log.read(run.runId);
    expect(resumed.state, resumed.reason).toBe('failed');
    expect(resumed.reason).toContain(`approval ${run.approvalId} of run ${run.runId} is refused`);
    expect(resumed.reason).toContain("the decision's signature did not verify");
    expect(ofType(events, 'run.state').at(-1)?.data).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('ApprovalSignatureError'),
    });
    // Nothing after the gate happened: no decision taken, no model turn, no pull request.
    expect(ofType(events, 'approval.decided')).toEqual([]);
    expect(ofType(events, 'model.turn')).toEqual([]);
    expect(ofType(events, 'pr.opened')).toEqual([]);
    return resumed;
  }

  it('passes the gate on a decision recorded with `gantry approve`, signed so the public key alone verifies it', async () => {
    // Prepare
    const { outcome } = await waitingAtPlan();
    // Act
    runs.legit = await env.gantry.decide(
      outcome.approvalId ?? '',
      'approved',
      'sam.okafor',
      'plan is narrow',
    );
    // Assess: on to the next gate, with the decision recorded and signed
    expect(runs.legit.state, runs.legit.reason).toBe('waiting_for_approval');
    expect(runs.legit.approvalId).not.toBe(outcome.approvalId);
    const decided = ofType(await env.gantry.log.read(outcome.runId), 'approval.decided');
    expect(decided.map((e) => [e.data.approvalId, e.data.decision, e.data.by])).toEqual([
      [outcome.approvalId, 'approved', 'sam.okafor'],
    ]);
    const record = (await env.gantry.log.get<Approval>(APPROVAL_KIND, outcome.approvalId ?? '')) as Approval;
    const publicKey = await readFile(publicKeyFileFor(join(env.home, PLATFORM_KEY_FILE)), 'utf8');
    expect(record.signature).toMatchObject({
      algorithm: 'ed25519',
      keyId: expect.stringMatching(/^ed25519:/),
    });
    expect(verifyApprovalDecision(record, publicKey)).toEqual({ verified: true });
    runs.legit = { ...runs.legit, approvalId: outcome.approvalId };
  });

  it('refuses an "approved" record written into the store without the platform signature', async () => {
    // Prepare: the attacker approves the pending gate in the table directly
    const { outcome, record } = await waitingAtPlan();
    runs.unsigned = outcome;
    await writeRaw({
      ...record,
      status: 'approved',
      decidedBy: 'sam.okafor',
      decidedAt: new Date().toISOString(),
      decidedVia: 'cli',
      reason: 'looks fine',
    });
    // Act / Assess: answering it is refused too, then the resumed run stops at the gate
    await expect(env.gantry.decide(record.id, 'approved', 'priya.raman')).rejects.toBeInstanceOf(
      ApprovalSignatureError,
    );
    const resumed = await expectRefusedAtGate(outcome);
    expect(resumed.reason).toContain('it carries no platform signature');
  });

  it("refuses an approval copied, signature and all, from another gate's genuine approval", async () => {
    // Prepare: the legitimately signed approval of the first run, pasted onto this run's pending gate
    const { outcome, record } = await waitingAtPlan();
    runs.copied = outcome;
    const genuine = (await env.gantry.log.get<Approval>(
      APPROVAL_KIND,
      runs.legit?.approvalId ?? '',
    )) as Approval;
    expect(genuine.signature).toBeDefined();
    await writeRaw({ ...genuine, id: record.id, runId: record.runId, taskToken: record.taskToken });
    // Act / Assess
    const resumed = await expectRefusedAtGate(outcome);
    expect(resumed.reason).toContain('does not match its approval id, run, kind, decision');
  });

  it('refuses a decision signed as a rejection and flipped to approved in the store afterwards', async () => {
    // Prepare: a genuine rejection signed with the platform key (recorded without resuming the run)...
    const { outcome, record } = await waitingAtPlan();
    runs.tampered = outcome;
    const signer = await loadOrCreatePlatformKey(join(env.home, PLATFORM_KEY_FILE));
    await saveApproval(new SignedApprovalRecords(env.gantry.log, signer), {
      ...record,
      status: 'rejected',
      decidedBy: 'sam.okafor',
      decidedAt: new Date().toISOString(),
      decidedVia: 'cli',
      reason: 'too broad',
    });
    const signed = (await env.gantry.log.get<Approval>(APPROVAL_KIND, record.id)) as Approval;
    // ...then the decision flipped and the approver changed, the signature kept
    await writeRaw({ ...signed, status: 'approved', decidedBy: 'priya.raman', reason: undefined });
    // Act / Assess
    const resumed = await expectRefusedAtGate(outcome);
    expect(resumed.reason).toContain('(approved by priya.raman;');
  });

  it('keeps the platform key in the home, owner-only, outside the workspaces, and out of every event', async () => {
    // Prepare
    const keyFile = join(env.home, PLATFORM_KEY_FILE);
    const privatePem = await readFile(keyFile, 'utf8');
    const publicPem = await readFile(publicKeyFileFor(keyFile), 'utf8');
    const body = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    // Act
    const events = [];
    for (const run of Object.values(runs)) events.push(...(await env.gantry.log.read(run?.runId ?? '')));
    const logged = JSON.stringify(events);
    // Assess
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(relative(join(env.home, 'workspaces'), keyFile).startsWith('..')).toBe(true);
    expect(events.length).toBeGreaterThan(20);
    expect(logged).not.toContain(body(privatePem));
    expect(logged).not.toContain(body(publicPem));
    expect(logged).not.toContain(PLATFORM_KEY_FILE);
  });
});

describe('gantry policy test', () => {
  it('passes the shipped decision table and fails a table with a wrong expectation', async () => {
    // Prepare
    const { home, cleanup } = await tempHome('gantry-cp-policy-');
    try {
      // Act
      const shipped = await runGantry(['--home', home, 'policy', 'test']);
      const wrong = await runGantry([
        '--home',
        home,
        'policy',
        'test',
        join(fixtures, 'wrong-policy-table.yaml'),
      ]);
      // Assess
      expect(shipped.code, shipped.stderr).toBe(0);
      expect(shipped.stdout).toMatch(/: \d+ passed, 0 failed/);
      expect(shipped.stdout).not.toContain('FAIL');
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain('1 passed, 1 failed');
      expect(wrong.stdout).toContain(
        'FAIL  editing a CI workflow is wrongly expected to be allowed: expected allow, got deny (forbid.ci-workflows)',
      );
    } finally {
      await cleanup();
    }
  });
});
