import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import picomatch from 'picomatch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { InvalidInputError } from '../domain/errors.js';
import { defaultRiskRulesPath, loadRiskRules, sensitivePathRulesFrom } from './risk-rules.js';

describe('loadRiskRules', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'gantry-risk-rules-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function shippedRulesWith(change: (document: Record<string, unknown>) => void): Promise<string> {
    const document = parseYaml(await readFile(defaultRiskRulesPath, 'utf8')) as Record<string, unknown>;
    change(document);
    const file = path.join(directory, 'risk-rules.yaml');
    await writeFile(file, stringifyYaml(document));
    return file;
  }

  it('loads the shipped policies/risk-rules.yaml with every kind of matcher', async () => {
    // Act
    const rules = await loadRiskRules();

    // Assess
    expect(defaultRiskRulesPath).toMatch(/policies[/\\]risk-rules\.yaml$/);
    expect(rules.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
    expect(new Set(rules.rules.map((rule) => rule.match.kind))).toEqual(
      new Set(['domain', 'paths', 'scope']),
    );
    expect(rules.tiers.low).toEqual({ maxAutonomyTier: 5, requiredApprovals: [] });
    expect(rules.tiers.critical.maxAutonomyTier).toBe(0);
    expect(rules.domainCaps.authentication?.maxAutonomyTier).toBe(1);
    expect(rules.domainCaps.payments?.maxAutonomyTier).toBe(1);
  });

  it('refuses an unknown key and names the file', async () => {
    // Prepare
    const file = await shippedRulesWith((document) => {
      const [first] = document.rules as Array<Record<string, unknown>>;
      if (first) first.severity = 'high';
    });

    // Act
    const error = await loadRiskRules(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).input).toBe(file);
    expect((error as InvalidInputError).message).toContain(`Risk rules file ${file} is not valid`);
    expect((error as InvalidInputError).message).toContain('rules.0: Unrecognized key: "severity"');
  });

  it('refuses duplicate rule ids and caps for unknown domains', async () => {
    // Prepare
    const file = await shippedRulesWith((document) => {
      const rules = document.rules as Array<Record<string, unknown>>;
      rules.push({ ...rules[0] });
      (document.domainCaps as Record<string, unknown>).billing = { maxAutonomyTier: 1 };
    });

    // Act
    const error = await loadRiskRules(file).catch((caught: unknown) => caught);

    // Assess
    const message = (error as InvalidInputError).message;
    expect(message).toContain(
      `rules.${(await loadRiskRules()).rules.length}.id: duplicate rule id "domain.authentication"`,
    );
    expect(message).toContain('domainCaps.billing: no domain rule names the domain "billing"');
  });

  it('refuses a tier without an outcome and a scope rule without a threshold', async () => {
    // Prepare
    const file = await shippedRulesWith((document) => {
      delete (document.tiers as Record<string, unknown>).critical;
      (document.rules as Array<Record<string, unknown>>).push({
        id: 'scope.empty',
        description: 'no threshold',
        tier: 'medium',
        match: { kind: 'scope' },
      });
    });

    // Act
    const error = await loadRiskRules(file).catch((caught: unknown) => caught);

    // Assess
    const message = (error as InvalidInputError).message;
    expect(message).toContain('tiers.critical:');
    expect(message).toContain('a scope matcher needs maxAcceptanceCriteria, maxDistinctPaths or both');
  });

  it('names the line of a YAML syntax error', async () => {
    // Prepare
    const file = path.join(directory, 'broken.yaml');
    await writeFile(file, 'version: "1"\ntiers:\n  low: { maxAutonomyTier: 3\nrules: []\n');

    // Act
    const error = await loadRiskRules(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(/not valid YAML at line \d+, column \d+/);
  });
});

describe('sensitivePathRulesFrom', () => {
  it('gives the repository map the paths rules, with ids and reasons, and nothing else', async () => {
    // Prepare
    const rules = await loadRiskRules();

    // Act
    const sensitive = sensitivePathRulesFrom(rules);

    // Assess
    const pathRuleIds = rules.rules.filter((rule) => rule.match.kind === 'paths').map((rule) => rule.id);
    expect(sensitive.map((rule) => rule.id)).toEqual(pathRuleIds);
    const ci = sensitive.find((rule) => rule.id === 'paths.ci-workflows');
    expect(ci?.reason).toContain('CI workflows');
    const globs = picomatch(ci?.globs ?? [], { dot: true });
    expect(globs('.github/workflows/ci.yml')).toBe(true);
    expect(globs('src/ci.yml')).toBe(false);
  });

  it('labels IAM files without catching words that merely contain "iam"', async () => {
    // Prepare
    const rules = await loadRiskRules();
    const infrastructure = sensitivePathRulesFrom(rules).find((rule) => rule.id === 'paths.infrastructure');
    const matches = picomatch(infrastructure?.globs ?? [], { dot: true, nocase: true });

    // Act / Assess
    expect(matches('deploy/iam-policy.json')).toBe(true);
    expect(matches('deploy/lambda_iam_role.yaml')).toBe(true);
    expect(matches('modules/network/main.tf')).toBe(true);
    expect(matches('src/diamond.ts')).toBe(false);
    expect(matches('docs/william.md')).toBe(false);
  });
});
