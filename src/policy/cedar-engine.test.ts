import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { isValid as isUlid } from 'ulid';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GantryAction } from '../domain/actions.js';
import { InvalidInputError } from '../domain/errors.js';
import { type AuthorizationRequest, PolicyDecision } from '../domain/policy.js';
import { RunState, terminalRunStates } from '../domain/run.js';
import { CedarPolicyEngine, defaultCedarPolicyDirectory } from './cedar-engine.js';

// A pass-through spy: the real cedar-wasm runs, the test only counts how often policies are pre-parsed.
vi.mock('@cedar-policy/cedar-wasm/nodejs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@cedar-policy/cedar-wasm/nodejs')>();
  return {
    ...actual,
    preparsePolicySet: vi.fn(actual.preparsePolicySet),
    preparseSchema: vi.fn(actual.preparseSchema),
    statefulIsAuthorized: vi.fn(actual.statefulIsAuthorized),
  };
});

interface RequestChanges {
  principal?: Partial<AuthorizationRequest['principal']>;
  action?: string;
  resource?: Partial<AuthorizationRequest['resource']>;
  context?: Partial<Omit<AuthorizationRequest['context'], 'evidence'>> & {
    evidence?: Partial<AuthorizationRequest['context']['evidence']>;
  };
}

/** A running low-risk run at tier 0 whose capability allows every action; a case changes only its subject. */
function request(changes: RequestChanges = {}): AuthorizationRequest {
  return {
    principal: {
      agent: 'gantry-agent/0.1.0',
      capability: 'low-risk-bugfix',
      capabilityVersion: '1',
      allowedActions: [...GantryAction.options],
      forbiddenActions: [],
      ...changes.principal,
    },
    action: changes.action ?? 'inspect',
    resource: { repository: 'acme/billing', ...changes.resource },
    context: {
      riskTier: 'low',
      autonomyTier: 0,
      runState: 'running',
      ...changes.context,
      evidence: {
        reproduced: false,
        verified: false,
        evidenceComplete: false,
        approvals: [],
        ...changes.context?.evidence,
      },
    },
  };
}

const proven = { evidenceComplete: true, verified: true };

describe('CedarPolicyEngine with the shipped policies', () => {
  let engine: CedarPolicyEngine;

  beforeEach(async () => {
    engine ??= await CedarPolicyEngine.load();
  });

  it('loads the schema, every policy with its id and reason, and a versioned label', () => {
    // Assess
    expect(engine.version).toMatch(/^cedar:\d{4}-\d{2}-\d{2}\.\d+\+[0-9a-f]{12}$/);
    expect(engine.actions.sort()).toEqual([...GantryAction.options].sort());
    const ids = engine.policies.map((policy) => policy.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['base.inspect', 'tier3.merge', 'forbid.ci-workflows']));
    for (const policy of engine.policies) {
      expect(policy.reason, `${policy.id} has a @reason`).toBeTruthy();
      expect(policy.file).toMatch(/\.cedar$/);
    }
  });

  it.each<[string, RequestChanges, 'allow' | 'deny', string[]]>([
    ['inspect at tier 0', { action: 'inspect', resource: { path: 'src/a.ts' } }, 'allow', ['base.inspect']],
    [
      'run tests at tier 0',
      { action: 'run_tests', resource: { command: 'npm test' } },
      'allow',
      ['base.run-tests'],
    ],
    ['finish at tier 0', { action: 'finish' }, 'allow', ['base.finish']],
    ['edit at tier 0', { action: 'edit_files', resource: { path: 'src/a.ts' } }, 'deny', []],
    [
      'edit at tier 1',
      { action: 'edit_files', resource: { path: 'src/a.ts' }, context: { autonomyTier: 1 } },
      'allow',
      ['tier1.assisted-edit'],
    ],
    [
      'run a command at tier 1',
      { action: 'run_command', context: { autonomyTier: 1 } },
      'allow',
      ['tier1.assisted-edit'],
    ],
    ['create a branch at tier 0', { action: 'create_branch' }, 'deny', []],
    [
      'create a branch at tier 1',
      { action: 'create_branch', context: { autonomyTier: 1 } },
      'allow',
      ['tier1.assisted-edit'],
    ],
    ['open a PR at tier 2 without evidence', { action: 'open_pr', context: { autonomyTier: 2 } }, 'deny', []],
    [
      'open a PR at tier 1 with evidence',
      { action: 'open_pr', context: { autonomyTier: 1, evidence: { evidenceComplete: true } } },
      'deny',
      [],
    ],
    [
      'open a PR at tier 2 with evidence',
      { action: 'open_pr', context: { autonomyTier: 2, evidence: { evidenceComplete: true } } },
      'allow',
      ['tier2.pr-automation'],
    ],
    [
      'comment at tier 2 with evidence',
      { action: 'comment', context: { autonomyTier: 2, evidence: { evidenceComplete: true } } },
      'allow',
      ['tier2.pr-automation'],
    ],
    [
      'merge at tier 2',
      { action: 'merge', context: { autonomyTier: 2, evidence: { ...proven, approvals: ['merge'] } } },
      'deny',
      [],
    ],
    [
      'merge low risk at tier 3',
      { action: 'merge', context: { autonomyTier: 3, evidence: proven } },
      'allow',
      ['tier3.merge'],
    ],
    [
      'merge unverified at tier 3',
      { action: 'merge', context: { autonomyTier: 3, evidence: { evidenceComplete: true } } },
      'deny',
      [],
    ],
    [
      'merge medium risk without approval',
      { action: 'merge', context: { riskTier: 'medium', autonomyTier: 3, evidence: proven } },
      'deny',
      [],
    ],
    [
      'merge medium risk with approval',
      {
        action: 'merge',
        context: { riskTier: 'medium', autonomyTier: 3, evidence: { ...proven, approvals: ['merge'] } },
      },
      'allow',
      ['tier3.merge'],
    ],
    [
      'merge high risk without code owner',
      {
        action: 'merge',
        context: { riskTier: 'high', autonomyTier: 3, evidence: { ...proven, approvals: ['merge'] } },
      },
      'deny',
      [],
    ],
    [
      'merge high risk with code owner',
      {
        action: 'merge',
        context: {
          riskTier: 'high',
          autonomyTier: 3,
          evidence: { ...proven, approvals: ['merge', 'code-owner'] },
        },
      },
      'allow',
      ['tier3.merge'],
    ],
    ['rollback at tier 2', { action: 'rollback', context: { autonomyTier: 2 } }, 'deny', []],
    ['rollback at tier 3', { action: 'rollback', context: { autonomyTier: 3 } }, 'allow', ['tier3.rollback']],
    [
      'deploy at tier 3',
      { action: 'deploy', context: { autonomyTier: 3, evidence: { ...proven, approvals: ['deploy'] } } },
      'deny',
      [],
    ],
    [
      'deploy at tier 4 with approval',
      { action: 'deploy', context: { autonomyTier: 4, evidence: { ...proven, approvals: ['deploy'] } } },
      'allow',
      ['tier4.deploy'],
    ],
    [
      'deploy at tier 4 without approval',
      { action: 'deploy', context: { autonomyTier: 4, evidence: proven } },
      'deny',
      [],
    ],
    [
      'deploy low risk at tier 5 without approval',
      { action: 'deploy', context: { autonomyTier: 5, evidence: proven } },
      'allow',
      ['tier4.deploy'],
    ],
    [
      'deploy medium risk at tier 5 without approval',
      { action: 'deploy', context: { riskTier: 'medium', autonomyTier: 5, evidence: proven } },
      'deny',
      [],
    ],
    [
      'a forbidden action',
      { action: 'finish', principal: { forbiddenActions: ['finish'] } },
      'deny',
      ['forbid.capability-forbidden-action'],
    ],
    [
      'an action the contract does not list',
      { action: 'run_tests', principal: { allowedActions: ['inspect', 'finish'] } },
      'deny',
      ['forbid.capability-unlisted-action'],
    ],
    [
      'read a secret',
      { action: 'read_secret', context: { autonomyTier: 5 } },
      'deny',
      ['forbid.read-secret'],
    ],
    [
      'network egress',
      { action: 'network_egress', context: { autonomyTier: 5 } },
      'deny',
      ['forbid.network-egress'],
    ],
    [
      'inspect at critical risk',
      { action: 'inspect', context: { riskTier: 'critical' } },
      'allow',
      ['base.inspect'],
    ],
    [
      'finish at critical risk',
      { action: 'finish', context: { riskTier: 'critical' } },
      'allow',
      ['base.finish'],
    ],
    [
      'run tests at critical risk',
      { action: 'run_tests', context: { riskTier: 'critical' } },
      'deny',
      ['forbid.critical-risk'],
    ],
    [
      'edit at critical risk',
      {
        action: 'edit_files',
        resource: { path: 'src/a.ts' },
        context: { riskTier: 'critical', autonomyTier: 3 },
      },
      'deny',
      ['forbid.critical-risk'],
    ],
  ])('%s', (_name, changes, expected, determiningPolicies) => {
    // Act
    const decision = engine.decide(request(changes));

    // Assess
    expect(decision.decision).toBe(expected);
    expect(decision.determiningPolicies.sort()).toEqual(determiningPolicies.sort());
  });

  it.each<[string, string, string | null]>([
    ['.github/workflows/ci.yml', 'edit a GitHub workflow', 'forbid.ci-workflows'],
    ['.github/actions/setup/action.yml', 'edit a composite action', 'forbid.ci-workflows'],
    ['.gitlab-ci.yml', 'edit GitLab CI', 'forbid.ci-workflows'],
    ['services/api/.gitlab-ci.yml', 'edit a nested GitLab CI file', 'forbid.ci-workflows'],
    ['.circleci/config.yml', 'edit CircleCI', 'forbid.ci-workflows'],
    ['db/migrations/0001_init.sql', 'edit a SQL migration', 'forbid.migrations'],
    ['src/schema_migrations/0002.ts', 'edit a migration in a *migrations directory', 'forbid.migrations'],
    ['db/migrate/20260101_add.rb', 'edit a Rails migration', 'forbid.migrations'],
    ['infra/iam/admin.tf', 'edit Terraform under iam/', 'forbid.iam-policies'],
    ['iam.json', 'edit iam.json', 'forbid.iam-policies'],
    ['deploy/lambda-iam-policy.json', 'edit a named IAM policy', 'forbid.iam-policies'],
    ['terraform/iam_roles.tf', 'edit an IAM Terraform file', 'forbid.iam-policies'],
    ['CODEOWNERS', 'edit root CODEOWNERS', 'forbid.codeowners'],
    ['docs/CODEOWNERS', 'edit docs/CODEOWNERS', 'forbid.codeowners'],
    ['package-lock.json', 'edit package-lock.json', 'forbid.lockfiles'],
    ['apps/web/pnpm-lock.yaml', 'edit a nested pnpm lockfile', 'forbid.lockfiles'],
    ['yarn.lock', 'edit yarn.lock', 'forbid.lockfiles'],
    ['services/api/poetry.lock', 'edit a nested poetry.lock', 'forbid.lockfiles'],
    ['go.sum', 'edit go.sum', 'forbid.lockfiles'],
    ['.env', 'edit .env', 'forbid.secret-files'],
    ['services/api/.env.production', 'edit a nested .env.*', 'forbid.secret-files'],
    ['certs/server.pem', 'edit a PEM file', 'forbid.secret-files'],
    ['home/.ssh/id_rsa.pub', 'edit an SSH key', 'forbid.secret-files'],
    ['../sibling/file.ts', 'climb out of the workspace', 'forbid.path-outside-repository'],
    ['/etc/passwd', 'edit an absolute path', 'forbid.path-outside-repository'],
    ['src/../../x.ts', 'climb out through a subdirectory', 'forbid.path-outside-repository'],
    ['fixtures/william.json', 'edit a file whose name merely contains iam', null],
    ['src/migrations.ts', 'edit a file named after migrations but not in one', null],
    ['docs/environment.md', 'edit a doc about environments', null],
    ['./src/../lib/money.ts', 'edit through a path that stays inside', null],
  ])('edits of %s (%s) at tier 5', (filePath, _what, forbiddenBy) => {
    // Act
    const decision = engine.decide(
      request({ action: 'edit_files', resource: { path: filePath }, context: { autonomyTier: 5 } }),
    );

    // Assess
    if (forbiddenBy === null) {
      expect(decision.decision).toBe('allow');
      expect(decision.determiningPolicies).toEqual(['tier1.assisted-edit']);
    } else {
      expect(decision.decision).toBe('deny');
      expect(decision.determiningPolicies).toEqual([forbiddenBy]);
    }
  });

  it('lets only a dependency patch upgrade edit lockfiles', () => {
    // Prepare
    const lockfileEdit = (capability: string) =>
      request({
        action: 'edit_files',
        principal: { capability },
        resource: { path: 'package-lock.json' },
        context: { autonomyTier: 1 },
      });

    // Act
    const upgrade = engine.decide(lockfileEdit('dependency-patch-upgrade'));
    const bugfix = engine.decide(lockfileEdit('low-risk-bugfix'));

    // Assess
    expect(upgrade.decision).toBe('allow');
    expect(upgrade.determiningPolicies).toEqual(['tier1.assisted-edit']);
    expect(bugfix.decision).toBe('deny');
    expect(bugfix.determiningPolicies).toEqual(['forbid.lockfiles']);
  });

  it('forbids every action in exactly the terminal run states', () => {
    for (const runState of RunState.options) {
      // Act
      const decision = engine.decide(request({ action: 'inspect', context: { runState } }));

      // Assess
      if (terminalRunStates.has(runState)) {
        expect(decision, runState).toMatchObject({
          decision: 'deny',
          determiningPolicies: ['forbid.terminal-run-state'],
        });
      } else {
        expect(decision, runState).toMatchObject({
          decision: 'allow',
          determiningPolicies: ['base.inspect'],
        });
      }
    }
  });

  it('records a complete PolicyDecision with the forbid reason and the version', () => {
    // Act
    const decision = engine.decide(
      request({
        action: 'edit_files',
        resource: { path: '.github/workflows/ci.yml' },
        context: { autonomyTier: 2 },
      }),
    );

    // Assess
    expect(PolicyDecision.parse(decision)).toEqual(decision);
    expect(isUlid(decision.id)).toBe(true);
    expect(decision).toMatchObject({
      action: 'edit_files',
      resource: 'acme/billing:.github/workflows/ci.yml',
      decision: 'deny',
      policyVersion: engine.version,
      determiningPolicies: ['forbid.ci-workflows'],
    });
    expect(decision.reasons).toEqual([
      "forbidden by forbid.ci-workflows: CI workflows run with the repository's secrets; a change to them needs a person",
    ]);
  });

  it('names every forbid that applies, with its reason', () => {
    // Act
    const decision = engine.decide(
      request({
        action: 'edit_files',
        principal: { forbiddenActions: ['edit_files'] },
        resource: { path: 'CODEOWNERS' },
        context: { autonomyTier: 1, runState: 'failed' },
      }),
    );

    // Assess
    expect(decision.decision).toBe('deny');
    expect(decision.determiningPolicies.sort()).toEqual([
      'forbid.capability-forbidden-action',
      'forbid.codeowners',
      'forbid.terminal-run-state',
    ]);
    expect(decision.reasons).toHaveLength(3);
    expect(decision.reasons).toContain(
      'forbidden by forbid.terminal-run-state: the run has ended; nothing may act for it',
    );
  });

  it('explains a default deny and an allow', () => {
    // Act
    const denied = engine.decide(request({ action: 'open_pr', context: { autonomyTier: 1 } }));
    const allowed = engine.decide(request({ action: 'run_tests', resource: { command: 'npm test' } }));

    // Assess
    expect(denied).toMatchObject({
      decision: 'deny',
      resource: 'acme/billing',
      reasons: ['no policy permits open_pr here'],
      determiningPolicies: [],
    });
    expect(allowed.reasons).toEqual([
      "permitted by base.run-tests: running the repository's tests is allowed at every autonomy tier",
    ]);
  });

  it('denies an unknown action instead of failing', () => {
    // Act
    const decision = engine.decide(request({ action: 'format_disk' }));

    // Assess
    expect(decision.decision).toBe('deny');
    expect(decision.action).toBe('format_disk');
    expect(decision.determiningPolicies).toEqual([]);
    expect(decision.reasons[0]).toContain('unknown action "format_disk"');
  });

  it('denies a request Cedar rejects and says why', () => {
    // Prepare: a fractional tier is not a Cedar Long, so the schema rejects the context.
    const malformed = request({ action: 'inspect' });
    malformed.context.autonomyTier = 1.5;

    // Act
    const decision = engine.decide(malformed);

    // Assess
    expect(decision.decision).toBe('deny');
    expect(decision.determiningPolicies).toEqual([]);
    expect(decision.reasons[0]).toMatch(/^Cedar could not evaluate the request: /);
  });

  it('pre-parses once at load and answers 1000 decisions from the cache', async () => {
    // Prepare
    const preparsePolicySet = vi.mocked(cedar.preparsePolicySet);
    const preparseSchema = vi.mocked(cedar.preparseSchema);
    const statefulIsAuthorized = vi.mocked(cedar.statefulIsAuthorized);
    preparsePolicySet.mockClear();
    preparseSchema.mockClear();
    statefulIsAuthorized.mockClear();
    const fresh = await CedarPolicyEngine.load();
    const editWorkflow = request({
      action: 'edit_files',
      resource: { path: '.github/workflows/ci.yml' },
      context: { autonomyTier: 1 },
    });
    const editSource = request({
      action: 'edit_files',
      resource: { path: 'src/a.ts' },
      context: { autonomyTier: 1 },
    });

    // Act
    const decisions = Array.from({ length: 1000 }, (_, index) =>
      fresh.decide(index % 2 === 0 ? editWorkflow : editSource),
    );

    // Assess
    expect(preparsePolicySet).toHaveBeenCalledTimes(1);
    expect(preparseSchema).toHaveBeenCalledTimes(1);
    expect(statefulIsAuthorized).toHaveBeenCalledTimes(1000);
    decisions.forEach((decision, index) => {
      expect(decision.decision).toBe(index % 2 === 0 ? 'deny' : 'allow');
    });
    expect(new Set(decisions.map((decision) => decision.id)).size).toBe(1000);
  });
});

describe('CedarPolicyEngine.load', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-cedar-'));
    await cp(defaultCedarPolicyDirectory, directory, { recursive: true });
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function loadError(): Promise<InvalidInputError> {
    const error = await CedarPolicyEngine.load(directory).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }

  it('changes the version when any policy file changes, and only then', async () => {
    // Prepare
    const shipped = await CedarPolicyEngine.load();
    const copy = await CedarPolicyEngine.load(directory);
    const file = path.join(directory, 'run-state.cedar');

    // Act
    await writeFile(file, (await readFile(file, 'utf8')).replace('"aborted"', '"aborted", "expired"'));
    const edited = await CedarPolicyEngine.load(directory);

    // Assess
    expect(copy.version).toBe(shipped.version);
    expect(edited.version).not.toBe(shipped.version);
    expect(edited.version.split('+')[0]).toBe(shipped.version.split('+')[0]);
    const expired = edited.decide(request({ context: { runState: 'expired' } }));
    expect(expired.determiningPolicies).toEqual(['forbid.terminal-run-state']);
    expect(expired.policyVersion).toBe(edited.version);
    expect(shipped.decide(request({ context: { runState: 'expired' } })).decision).toBe('allow');
  });

  it('takes the version label from VERSION', async () => {
    // Prepare
    await writeFile(path.join(directory, 'VERSION'), '2027-01-02.3\n');

    // Act
    const engine = await CedarPolicyEngine.load(directory);

    // Assess
    expect(engine.version).toMatch(/^cedar:2027-01-02\.3\+[0-9a-f]{12}$/);
  });

  it('refuses a policy id used twice and names both files', async () => {
    // Prepare
    await writeFile(
      path.join(directory, 'extra.cedar'),
      '@id("base.inspect")\npermit (principal, action == Gantry::Action::"inspect", resource);\n',
    );

    // Act
    const error = await loadError();

    // Assess
    expect(error.message).toContain('"base.inspect" is used twice');
    expect(error.message).toContain(path.join(directory, 'base.cedar'));
    expect(error.message).toContain(`${path.join(directory, 'extra.cedar')}:1`);
  });

  it('refuses a policy the schema rejects and names the file, the line and the problem', async () => {
    // Prepare
    await writeFile(
      path.join(directory, 'broken.cedar'),
      [
        '// A typo in an attribute name must not silently never match.',
        '@id("forbid.typo")',
        'forbid (principal, action, resource)',
        'when { context.riskTeir == "critical" };',
        '',
      ].join('\n'),
    );

    // Act
    const error = await loadError();

    // Assess
    expect(error.message).toContain(`${path.join(directory, 'broken.cedar')} does not match the schema`);
    expect(error.message).toContain('"forbid.typo" at line 4');
    expect(error.message).toContain('riskTeir');
    expect(error.input).toBe(`${path.join(directory, 'broken.cedar')}:4`);
  });

  it('refuses a file that does not parse, naming the file and line', async () => {
    // Prepare
    await writeFile(
      path.join(directory, 'garbled.cedar'),
      '@id("x")\npermit (principal, action, resource)\nwhen { true ;\n',
    );

    // Act
    const error = await loadError();

    // Assess
    expect(error.message).toContain(
      `${path.join(directory, 'garbled.cedar')} does not parse: line 3: unexpected token`,
    );
    expect(error.input).toBe(`${path.join(directory, 'garbled.cedar')}:3`);
  });

  it('refuses a policy without an @id', async () => {
    // Prepare
    await writeFile(path.join(directory, 'anonymous.cedar'), '\n\npermit (principal, action, resource);\n');

    // Act
    const error = await loadError();

    // Assess
    expect(error.message).toContain(`${path.join(directory, 'anonymous.cedar')}:3 has no @id`);
  });

  it('refuses a directory without a schema or VERSION', async () => {
    // Prepare
    await rm(path.join(directory, 'VERSION'));

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(path.join(directory, 'VERSION'));
  });

  it('fails closed when a policy errors at evaluation time', async () => {
    // Prepare: the sum overflows a Cedar Long, so this forbid errors instead of matching. Cedar
    // alone would skip it and allow; the engine must deny.
    await writeFile(
      path.join(directory, 'overflow.cedar'),
      '@id("forbid.overflow")\nforbid (principal, action, resource)\nwhen { context.autonomyTier + 9223372036854775807 > 0 };\n',
    );
    const engine = await CedarPolicyEngine.load(directory);

    // Act
    const decision = engine.decide(request({ action: 'inspect', context: { autonomyTier: 1 } }));

    // Assess
    expect(decision.decision).toBe('deny');
    expect(decision.determiningPolicies).toEqual(['forbid.overflow']);
    expect(decision.reasons).toHaveLength(1);
    expect(decision.reasons[0]).toMatch(/^policy forbid\.overflow failed to evaluate: .*overflow/);
  });
});
