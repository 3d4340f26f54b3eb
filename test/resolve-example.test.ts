import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../src/domain/events.js';
import { RunEvent as RunEventSchema } from '../src/domain/events.js';
import { EvidencePacket, scoreEvidence } from '../src/domain/evidence.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { type Gantry, openGantry, type RunOutcome } from '../src/local/runtime.js';
import { loadRiskRules } from '../src/policy/risk-rules.js';
import { exampleCassette, exampleRequest, repoRoot, tempHome } from './support/gantry-cli.js';

const requiredEventTypes = [
  'request.received',
  'risk.classified',
  'context.built',
  'plan.created',
  'model.turn',
  'tool.requested',
  'tool.authorized',
  'tool.executed',
  'file.changed',
  'test.run',
  'reproduction.recorded',
  'verification.completed',
  'evidence.assembled',
  'pr.opened',
  'run.state',
];

describe('the embedded platform resolves the billing example end to end', () => {
  let home: { home: string; cleanup: () => Promise<void> };
  let gantry: Gantry;
  let outcome: RunOutcome;
  let events: RunEvent[];

  beforeAll(async () => {
    home = await tempHome();
    gantry = await openGantry({ home: home.home });
    outcome = await gantry.submit(await parseRequestFile(exampleRequest), exampleCassette);
    events = await gantry.log.read(outcome.runId);
  });

  afterAll(async () => {
    await gantry.close();
    await home.cleanup();
  });

  it('completes with a pull request and an evidence packet', () => {
    expect(outcome.state, outcome.reason).toBe('completed');
    expect(outcome.pullRequest).toBe('gantry://billing-service/pull/1');
    expect(outcome.evidenceFile).toMatch(/evidence\.md$/);
  });

  it('records every step as a well-formed event with run id, trace id, actor and time', async () => {
    // The policy version is the risk rules' declared version and a digest of every policy file.
    const riskRulesVersion = (await loadRiskRules(join(repoRoot, 'policies', 'risk-rules.yaml'))).version;
    const types = new Set(events.map((e) => e.type));
    for (const type of requiredEventTypes) expect(types, `missing ${type}`).toContain(type);
    for (const event of events) {
      expect(() => RunEventSchema.parse(event)).not.toThrow();
      expect(event.runId).toBe(outcome.runId);
      expect(event.traceId).toBe(events[0]?.traceId);
      expect(event.policyVersion).toMatch(
        new RegExp(`^${riskRulesVersion.replaceAll('.', '\\.')}\\+[a-f0-9]{12}$`),
      );
    }
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'run.state').at(-1)).toMatchObject({
      data: { state: 'completed' },
    });
  });

  it('shows the reproduction test failing before the patch and the suite passing after, in the real sandbox', async () => {
    const tests = events.filter((e): e is Extract<RunEvent, { type: 'test.run' }> => e.type === 'test.run');
    const reproduce = tests.find((t) => t.data.purpose === 'reproduce');
    const verify = tests.find((t) => t.data.purpose === 'verify');
    expect(reproduce?.data).toMatchObject({ passed: false, exitCode: 1 });
    expect(verify?.data).toMatchObject({ passed: true, exitCode: 0 });
    const before = await gantry.artifacts.getText(reproduce?.data.output ?? '');
    expect(before).toMatch(/not ok \d+ - a negotiated discount of 0% gives no discount/);
    const after = await gantry.artifacts.getText(verify?.data.output ?? '');
    expect(after).toMatch(/# pass 5/);
  });

  it('stores a complete evidence packet by hash, and the PR body is its markdown', async () => {
    const assembled = events.find((e) => e.type === 'evidence.assembled');
    if (assembled?.type !== 'evidence.assembled') throw new Error('no evidence');
    const packet = EvidencePacket.parse(JSON.parse(await gantry.artifacts.getText(assembled.data.json)));
    expect(scoreEvidence(packet)).toEqual({ completeness: 1, missing: [] });
    expect(packet.scope.filesChanged.map((f) => f.path).sort()).toEqual([
      'src/invoice.js',
      'test/invoice-zero-discount.test.js',
    ]);
    expect(packet.traceId).toBe(events[0]?.traceId);
    const markdown = await gantry.artifacts.getText(assembled.data.markdown);
    expect(await readFile(outcome.evidenceFile ?? '', 'utf8')).toBe(markdown);
    const pr = events.find((e) => e.type === 'pr.opened');
    expect(pr?.type === 'pr.opened' && pr.data.body).toBe(assembled.data.markdown);
  });

  it('never touches the default branch: the patch lives on the run branch only', () => {
    const bare = join(home.home, 'forge', 'billing-service.git');
    const git = (...args: string[]) =>
      execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8' }).trim();
    const branch = git('for-each-ref', '--format=%(refname:short)', 'refs/heads/gantry/');
    expect(branch).toMatch(new RegExp(`^gantry/${outcome.runId}-invoice-total-is-wrong`));
    expect(git('rev-list', '--count', 'main')).toBe('1');
    expect(git('show', 'main:src/invoice.js')).toContain(
      'invoice.discountPercent || DEFAULT_DISCOUNT_PERCENT',
    );
    expect(git('show', `${branch}:src/invoice.js`)).toContain(
      'invoice.discountPercent ?? DEFAULT_DISCOUNT_PERCENT',
    );
    expect(git('log', '--format=%s', `main..${branch}`).split('\n')).toEqual([
      'fix: patch iteration 1',
      'test: reproduce the reported problem',
    ]);
  });

  it('replays the run from its events alone and verifies every artifact', async () => {
    const report = await gantry.replay(outcome.runId);
    expect(report.problems).toEqual([]);
    expect(report.summary?.state).toBe('completed');
    expect(report.artifactsVerified).toBeGreaterThan(20);
  });

  it('lists the run by state', async () => {
    expect((await gantry.runs({ state: 'completed' })).map((r) => r.runId)).toContain(outcome.runId);
    expect(await gantry.runs({ state: 'failed' })).toEqual([]);
  });
});
