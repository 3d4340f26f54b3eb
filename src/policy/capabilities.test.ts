import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { GantryAction } from '../domain/actions.js';
import { InvalidInputError } from '../domain/errors.js';
import { EngineeringRequest } from '../domain/request.js';
import { parseRequestFile } from '../intake/request-file.js';
import {
  approvalFor,
  CapabilityContract,
  CapabilityRegistry,
  contractAllows,
  contractAllowsEdit,
  defaultCapabilitiesDir,
  loadCapabilities,
} from './capabilities.js';

const shippedIds = [
  'dependency-patch-upgrade',
  'documentation-update',
  'low-risk-bugfix',
  'rollback',
  'service-bugfix',
  'test-improvement',
];

async function shippedDocument(id: string): Promise<Record<string, unknown>> {
  return parseYaml(await readFile(path.join(defaultCapabilitiesDir, `${id}.yaml`), 'utf8')) as Record<
    string,
    unknown
  >;
}

function request(overrides: Partial<EngineeringRequest> = {}): EngineeringRequest {
  return EngineeringRequest.parse({
    id: 'req-1',
    source: 'file',
    repository: { name: 'billing-service' },
    requester: 'maria.lopez',
    capability: 'low-risk-bugfix',
    title: 'Invoice total is wrong when the discount is zero',
    acceptanceCriteria: ['An invoice with discountPercent 0 gets no discount'],
    receivedAt: '2026-11-21T10:00:00.000Z',
    ...overrides,
  });
}

describe('loadCapabilities', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-capabilities-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** Writes a shipped contract, changed, under `name` in the temporary directory. */
  async function writeContract(
    name: string,
    change: (document: Record<string, unknown>) => void = () => {},
    from = 'low-risk-bugfix',
  ): Promise<string> {
    const document = await shippedDocument(from);
    change(document);
    const file = path.join(directory, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, stringifyYaml(document));
    return file;
  }

  async function loadError(): Promise<InvalidInputError> {
    const error = await loadCapabilities(directory).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }

  it('loads every shipped contract, each from the file named after its id', async () => {
    // Act
    const registry = await loadCapabilities();

    // Assess
    expect(defaultCapabilitiesDir).toMatch(/policies[/\\]capabilities$/);
    expect(registry.list().map((contract) => contract.id)).toEqual(shippedIds);
    expect((await readdir(defaultCapabilitiesDir)).sort()).toEqual(shippedIds.map((id) => `${id}.yaml`));
    for (const id of shippedIds) {
      const text = await readFile(path.join(defaultCapabilitiesDir, `${id}.yaml`), 'utf8');
      expect(text.startsWith('# '), `${id}.yaml starts with a comment`).toBe(true);
      expect(text.split('\n', 3).join(' '), `${id}.yaml names its owner`).toContain(registry.get(id).owner);
    }
  });

  it('ships the contracts the example and the runbooks rely on', async () => {
    // Act
    const registry = await loadCapabilities();

    // Assess
    const bugfix = registry.get('low-risk-bugfix');
    expect(bugfix.maxAutonomyTier).toBe(3);
    expect(bugfix.budgets).toEqual({
      maxModelTokens: 200_000,
      maxToolCalls: 60,
      maxWallTimeSeconds: 1800,
      maxCostUsd: 5,
    });
    for (const action of [
      'inspect',
      'run_tests',
      'run_command',
      'edit_files',
      'create_branch',
      'open_pr',
    ] as const) {
      expect(contractAllows(bugfix, action), action).toBe(true);
    }
    for (const action of ['merge', 'deploy', 'read_secret', 'network_egress'] as const) {
      expect(contractAllows(bugfix, action), action).toBe(false);
      expect(bugfix.forbiddenActions).toContain(action);
    }
    expect(approvalFor(bugfix, 'open_pr')).toBe('automatic');
    expect(approvalFor(bugfix, 'merge')).toBe('reviewer');

    const tests = registry.get('test-improvement');
    expect(contractAllowsEdit(tests, 'src/invoice.test.js')).toBe(true);
    expect(contractAllowsEdit(tests, 'test/money.test.js')).toBe(true);
    expect(contractAllowsEdit(tests, 'src/invoice.js')).toBe(false);

    const dependencies = registry.get('dependency-patch-upgrade');
    expect(contractAllowsEdit(dependencies, 'package.json')).toBe(true);
    expect(contractAllowsEdit(dependencies, 'services/api/package-lock.json')).toBe(true);
    expect(contractAllowsEdit(dependencies, 'src/index.ts')).toBe(false);
    expect(dependencies.description).toMatch(/patch/);
    expect(dependencies.inputs.sources).toContain('dependency-alert');

    const docs = registry.get('documentation-update');
    expect(docs.maxAutonomyTier).toBe(2);
    expect(contractAllowsEdit(docs, 'README.md')).toBe(true);
    expect(contractAllowsEdit(docs, 'docs/architecture.md')).toBe(true);
    expect(contractAllowsEdit(docs, 'src/index.ts')).toBe(false);

    const rollback = registry.get('rollback');
    expect(rollback.maxAutonomyTier).toBe(5);
    expect(contractAllows(rollback, 'rollback')).toBe(true);
    expect(contractAllows(rollback, 'merge')).toBe(true);
    expect(contractAllows(rollback, 'edit_files')).toBe(false);
    expect(approvalFor(rollback, 'rollback')).toBe('automatic');
    expect(approvalFor(rollback, 'merge')).toBe('automatic');
    expect(rollback.requiredEvidence).toContain('rollback-plan');
  });

  it('accepts the example request under the capability it names', async () => {
    // Prepare
    const registry = await loadCapabilities();
    const example = await parseRequestFile('examples/billing-service/request.yaml');

    // Act
    const check = registry.check(example);

    // Assess
    expect(example.capability).toBe('low-risk-bugfix');
    expect(check).toEqual({ allowed: true, reasons: [] });
  });

  it('loads contracts from subfolders', async () => {
    // Prepare
    await writeContract('platform/low-risk-bugfix.yaml');
    await writeContract('sre/rollback.yaml', () => {}, 'rollback');

    // Act
    const registry = await loadCapabilities(directory);

    // Assess
    expect(registry.list().map((contract) => contract.id)).toEqual(['low-risk-bugfix', 'rollback']);
  });

  it('refuses an unknown key, naming the file and the key', async () => {
    // Prepare
    const file = await writeContract('low-risk-bugfix.yaml', (document) => {
      (document.budgets as Record<string, unknown>).maxTokens = 1000;
      document.autonomy = 2;
    });

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(file);
    expect(error.message).toContain(`Capability contract ${file} is not valid`);
    expect(error.message).toContain('budgets: Unrecognized key: "maxTokens"');
    expect(error.message).toContain('(root): Unrecognized key: "autonomy"');
  });

  it('refuses an action both allowed and forbidden, naming the file and the action', async () => {
    // Prepare
    const file = await writeContract('low-risk-bugfix.yaml', (document) => {
      (document.allowedActions as string[]).push('merge', 'deploy');
      document.maxAutonomyTier = 4;
    });

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(file);
    expect(error.message).toContain(
      'forbiddenActions: merge, deploy are both allowed and forbidden; an action belongs in at most one of allowedActions and forbiddenActions',
    );
  });

  it('refuses an action name outside the Gantry vocabulary, with its path', async () => {
    // Prepare
    const file = await writeContract('low-risk-bugfix.yaml', (document) => {
      (document.allowedActions as string[])[2] = 'push_to_main';
      (document.approvals as Record<string, string>).force_push = 'automatic';
    });

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(file);
    expect(error.message).toMatch(/allowedActions\.2: Invalid option: expected one of "inspect"\|/);
    expect(error.message).toContain('approvals: Unrecognized key: "force_push"');
  });

  it('refuses an allowed action the contract tier can never reach', async () => {
    // Prepare
    const file = await writeContract(
      'documentation-update.yaml',
      (document) => {
        (document.allowedActions as string[]).push('rollback');
        document.forbiddenActions = ['deploy'];
      },
      'documentation-update',
    );

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(file);
    expect(error.message).toContain(
      'allowedActions: rollback needs autonomy tier 3, above maxAutonomyTier 2',
    );
  });

  it('refuses a file not named after the id of its contract', async () => {
    // Prepare
    const file = await writeContract('bugfix.yaml');

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(file);
    expect(error.message).toContain(
      `Capability contract ${file} has the id "low-risk-bugfix" but is named bugfix.yaml`,
    );
    expect(error.hint).toContain('low-risk-bugfix.yaml');
  });

  it('refuses two contracts with the same id, naming both files', async () => {
    // Prepare
    const first = await writeContract('platform/low-risk-bugfix.yaml');
    const second = await writeContract('team-b/low-risk-bugfix.yaml');

    // Act
    const error = await loadError();

    // Assess
    expect(error.input).toBe(second);
    expect(error.message).toContain(`${second} has the id "low-risk-bugfix", already used by ${first}`);
  });

  it('refuses invalid YAML and a .yml file, naming the file', async () => {
    // Prepare
    const broken = path.join(directory, 'low-risk-bugfix.yaml');
    await writeFile(broken, 'id: low-risk-bugfix\nallowedActions: [inspect\n');

    // Act
    const yamlError = await loadError();
    await rm(broken);
    const yml = await writeContract('rollback.yml', () => {}, 'rollback');
    const ymlError = await loadError();

    // Assess
    expect(yamlError.message).toContain(`Capability contract ${broken} is not valid YAML at line`);
    expect(yamlError.input).toMatch(new RegExp(`^${broken.replace(/[.\\]/g, '\\$&')}:\\d+$`));
    expect(ymlError.input).toBe(yml);
    expect(ymlError.hint).toBe('Rename it to rollback.yaml.');
  });

  it('refuses an empty or missing directory', async () => {
    // Act
    const empty = await loadError();
    const missing = await loadCapabilities(path.join(directory, 'absent')).catch((caught: unknown) => caught);

    // Assess
    expect(empty.message).toBe(`No capability contracts (*.yaml) in ${directory}`);
    expect(missing).toBeInstanceOf(InvalidInputError);
    expect((missing as InvalidInputError).input).toBe(path.join(directory, 'absent'));
  });
});

describe('CapabilityRegistry', () => {
  it('get() of an unknown id lists the known ids and says where to set the capability', async () => {
    // Prepare
    const registry = await loadCapabilities();

    // Act
    const error = (() => {
      try {
        registry.get('hotfix');
      } catch (caught) {
        return caught;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).input).toBe('hotfix');
    expect((error as InvalidInputError).message).toBe(
      `Unknown capability "hotfix"; known capabilities: ${shippedIds.join(', ')}`,
    );
    expect((error as InvalidInputError).hint).toContain('Set `capability:` in the request');
  });

  it('refuses two contracts with one id when built directly', async () => {
    // Prepare
    const contract = CapabilityContract.parse(await shippedDocument('rollback'));

    // Act
    const build = () => new CapabilityRegistry([contract, contract]);

    // Assess
    expect(build).toThrow(InvalidInputError);
    expect(build).toThrow('Two capability contracts have the id "rollback"');
  });

  describe('check()', () => {
    let registry: CapabilityRegistry;

    beforeEach(async () => {
      const bugfix = await shippedDocument('low-risk-bugfix');
      registry = new CapabilityRegistry([
        CapabilityContract.parse({ ...bugfix, repositories: ['billing-*', 'acme/payments-api'] }),
      ]);
    });

    it('allows a request that fits source, repository and criteria', () => {
      // Act
      const check = registry.check(request());

      // Assess
      expect(check).toEqual({ allowed: true, reasons: [] });
    });

    it('refuses a source the capability does not accept', () => {
      // Act
      const check = registry.check(request({ source: 'alarm' }));

      // Assess
      expect(check.allowed).toBe(false);
      expect(check.reasons).toEqual([
        'Requests from source "alarm" are not accepted by capability low-risk-bugfix (accepted: file, github-issue, ci-failure, api).',
      ]);
    });

    it('matches repositories by glob, by name or by owner/name', () => {
      // Act
      const outside = registry.check(request({ repository: { name: 'ledger', defaultBranch: 'main' } }));
      const byOwner = registry.check(
        request({ repository: { name: 'payments-api', owner: 'acme', defaultBranch: 'main' } }),
      );
      const wrongOwner = registry.check(
        request({ repository: { name: 'payments-api', owner: 'other', defaultBranch: 'main' } }),
      );
      const byName = registry.check(
        request({ repository: { name: 'billing-worker', defaultBranch: 'main' } }),
      );

      // Assess
      expect(outside.allowed).toBe(false);
      expect(outside.reasons).toEqual([
        'Repository "ledger" is not covered by capability low-risk-bugfix (repositories: billing-*, acme/payments-api).',
      ]);
      expect(byOwner.allowed).toBe(true);
      expect(wrongOwner.reasons).toEqual([
        'Repository "other/payments-api" is not covered by capability low-risk-bugfix (repositories: billing-*, acme/payments-api).',
      ]);
      expect(byName.allowed).toBe(true);
    });

    it('refuses more acceptance criteria than the capability takes, and keeps every reason', () => {
      // Prepare
      const criteria = ['one', 'two', 'three', 'four', 'five', 'six'];

      // Act
      const atLimit = registry.check(request({ acceptanceCriteria: criteria.slice(0, 5) }));
      const overLimit = registry.check(request({ acceptanceCriteria: criteria, source: 'alarm' }));

      // Assess
      expect(atLimit.allowed).toBe(true);
      expect(overLimit.allowed).toBe(false);
      expect(overLimit.reasons).toHaveLength(2);
      expect(overLimit.reasons[1]).toBe(
        'The request has 6 acceptance criteria; capability low-risk-bugfix takes at most 5. Split the request.',
      );
    });

    it('refuses a request naming an unknown capability, listing the known ones', () => {
      // Act
      const check = registry.check(request({ capability: 'hotfix' }));

      // Assess
      expect(check).toEqual({
        allowed: false,
        reasons: [
          'Unknown capability "hotfix". Set `capability:` in the request to one of: low-risk-bugfix.',
        ],
      });
    });
  });
});

describe('approvalFor', () => {
  it('takes the listed requirement, else reviewer for merge, deploy and rollback and automatic for the rest', async () => {
    // Prepare
    const contract = CapabilityContract.parse({
      ...(await shippedDocument('low-risk-bugfix')),
      approvals: { open_pr: 'code-owner' },
    });

    // Act
    const approvals = Object.fromEntries(
      GantryAction.options.map((action) => [action, approvalFor(contract, action)]),
    );

    // Assess
    expect(approvals).toEqual({
      inspect: 'automatic',
      run_tests: 'automatic',
      run_command: 'automatic',
      edit_files: 'automatic',
      create_branch: 'automatic',
      open_pr: 'code-owner',
      comment: 'automatic',
      merge: 'reviewer',
      deploy: 'reviewer',
      rollback: 'reviewer',
      read_secret: 'automatic',
      network_egress: 'automatic',
      finish: 'automatic',
    });
  });
});
