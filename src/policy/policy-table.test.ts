import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { CedarPolicyEngine } from './cedar-engine.js';
import { defaultPolicyTablePath, loadPolicyTable, runPolicyTable } from './policy-table.js';

const defaults = `
defaults:
  principal:
    agent: gantry-agent/0.1.0
    capability: low-risk-bugfix
    capabilityVersion: "1"
    allowedActions: [inspect, edit_files, finish]
    forbiddenActions: []
  resource: { repository: acme/billing }
  context:
    riskTier: low
    autonomyTier: 1
    runState: running
    evidence: { reproduced: true, verified: false, evidenceComplete: false, approvals: [] }
`;

describe('runPolicyTable', () => {
  let engine: CedarPolicyEngine;
  let directory: string;

  beforeAll(async () => {
    engine = await CedarPolicyEngine.load();
  });

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-policy-table-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function table(text: string): Promise<string> {
    const file = path.join(directory, 'tests.yaml');
    await writeFile(file, text);
    return file;
  }

  it('passes every case of the shipped table, and the table exercises every policy', async () => {
    // Act
    const result = await runPolicyTable(engine);

    // Assess
    expect(result.file).toBe(defaultPolicyTablePath);
    expect(result.policyVersion).toBe(engine.version);
    expect(result.cases.filter((testCase) => !testCase.passed)).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.passed).toBe(result.cases.length);
    expect(result.cases.length).toBeGreaterThanOrEqual(30);
    expect(result.uncoveredPolicies).toEqual([]);
    const determined = new Set(result.cases.flatMap((testCase) => testCase.determiningPolicies));
    for (const policy of engine.policies) expect(determined, policy.id).toContain(policy.id);
  });

  it('reports a case whose expectation is wrong, with the actual decision', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - name: edit a source file
    request: { action: edit_files, resource: { path: src/a.ts } }
    expect: allow
  - name: edit a workflow (wrongly expected to be allowed)
    request: { action: edit_files, resource: { path: .github/workflows/ci.yml } }
    expect: allow
`);

    // Act
    const result = await runPolicyTable(engine, file);

    // Assess
    expect(result.passed).toBe(1);
    expect(result.failed).toBe(1);
    expect(result.cases[1]).toMatchObject({
      name: 'edit a workflow (wrongly expected to be allowed)',
      expected: 'allow',
      actual: 'deny',
      determiningPolicies: ['forbid.ci-workflows'],
      passed: false,
    });
  });

  it('fails a case whose decision is right but whose determining policies differ', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - name: edit a workflow
    request: { action: edit_files, resource: { path: .github/workflows/ci.yml } }
    expect: deny
    determinedBy: [forbid.migrations]
  - name: edit a workflow, right policy
    request: { action: edit_files, resource: { path: .github/workflows/ci.yml } }
    expect: deny
    determinedBy: [forbid.ci-workflows]
`);

    // Act
    const result = await runPolicyTable(engine, file);

    // Assess
    expect(result.cases.map((testCase) => testCase.passed)).toEqual([false, true]);
    expect(result.cases[0]).toMatchObject({
      actual: 'deny',
      expectedDeterminedBy: ['forbid.migrations'],
      determiningPolicies: ['forbid.ci-workflows'],
    });
  });

  it('lists the policies no case determined', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - name: inspect
    request: { action: inspect }
    expect: allow
`);

    // Act
    const result = await runPolicyTable(engine, file);

    // Assess
    expect(result.uncoveredPolicies).not.toContain('base.inspect');
    expect(result.uncoveredPolicies).toContain('forbid.ci-workflows');
    expect(result.uncoveredPolicies).toHaveLength(engine.policies.length - 1);
  });
});

describe('loadPolicyTable', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-policy-table-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function table(text: string): Promise<string> {
    const file = path.join(directory, 'tests.yaml');
    await writeFile(file, text);
    return file;
  }

  it('merges defaults into each case key by key and replaces lists', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - name: merge with approval
    request:
      action: merge
      context: { autonomyTier: 3, evidence: { verified: true, approvals: [merge] } }
    expect: deny
`);

    // Act
    const [testCase] = await loadPolicyTable(file);

    // Assess
    expect(testCase?.request).toEqual({
      principal: {
        agent: 'gantry-agent/0.1.0',
        capability: 'low-risk-bugfix',
        capabilityVersion: '1',
        allowedActions: ['inspect', 'edit_files', 'finish'],
        forbiddenActions: [],
      },
      action: 'merge',
      resource: { repository: 'acme/billing' },
      context: {
        riskTier: 'low',
        autonomyTier: 3,
        runState: 'running',
        evidence: { reproduced: true, verified: true, evidenceComplete: false, approvals: ['merge'] },
      },
    });
  });

  it('refuses an unknown key in a case, naming the file', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - name: typo
    request: { action: inspect }
    expected: allow
`);

    // Act
    const error = await loadPolicyTable(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).input).toBe(file);
    expect((error as InvalidInputError).message).toContain('cases.0: Unrecognized key: "expected"');
  });

  it('refuses a merged request that is not a valid AuthorizationRequest, naming the case', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - name: fine
    request: { action: inspect }
    expect: allow
  - name: tier out of range
    request: { action: inspect, context: { autonomyTier: 9, evidence: { verifed: true } } }
    expect: deny
`);

    // Act
    const error = await loadPolicyTable(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    const message = (error as InvalidInputError).message;
    expect(message).toContain('case 2 "tier out of range"');
    expect(message).toContain('context.autonomyTier');
    expect(message).toContain('Unrecognized key: "verifed"');
  });

  it('refuses duplicate case names', async () => {
    // Prepare
    const file = await table(`${defaults}
cases:
  - { name: same, request: { action: inspect }, expect: allow }
  - { name: same, request: { action: finish }, expect: allow }
`);

    // Act
    const error = await loadPolicyTable(file).catch((caught: unknown) => caught);

    // Assess
    expect((error as InvalidInputError).message).toContain('cases.1.name: duplicate case name "same"');
  });

  it('names a missing file', async () => {
    // Act
    const error = await loadPolicyTable(path.join(directory, 'missing.yaml')).catch(
      (caught: unknown) => caught,
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).input).toBe(path.join(directory, 'missing.yaml'));
  });
});
