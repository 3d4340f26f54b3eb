import { describe, expect, it } from 'vitest';
import { GantryAction } from '../domain/actions.js';
import { InvalidInputError } from '../domain/errors.js';
import { EngineeringRequest } from '../domain/request.js';
import type { RiskAssessment } from '../domain/risk.js';
import {
  autonomyTiers,
  effectiveAutonomy,
  minimumTierFor,
  tierPermits,
  tierPermitsDeployTo,
} from './autonomy.js';
import { loadCapabilities } from './capabilities.js';
import { classifyRisk } from './risk.js';
import { loadRiskRules } from './risk-rules.js';

/** Each tier's actions, written out in full so the cumulative table is checked, not recomputed. */
const expectedPermits: Record<number, GantryAction[]> = {
  0: ['inspect', 'run_tests', 'finish'],
  1: ['inspect', 'run_tests', 'finish', 'edit_files', 'run_command', 'create_branch'],
  2: ['inspect', 'run_tests', 'finish', 'edit_files', 'run_command', 'create_branch', 'open_pr', 'comment'],
  3: [
    'inspect',
    'run_tests',
    'finish',
    'edit_files',
    'run_command',
    'create_branch',
    'open_pr',
    'comment',
    'merge',
    'rollback',
  ],
  4: [
    'inspect',
    'run_tests',
    'finish',
    'edit_files',
    'run_command',
    'create_branch',
    'open_pr',
    'comment',
    'merge',
    'rollback',
    'deploy',
  ],
  5: [...GantryAction.options],
};

function request(title: string, description = ''): EngineeringRequest {
  return EngineeringRequest.parse({
    id: 'req-1',
    source: 'file',
    repository: { name: 'billing-service' },
    requester: 'maria.lopez',
    capability: 'low-risk-bugfix',
    title,
    description,
    acceptanceCriteria: ['The existing tests keep passing'],
    receivedAt: '2026-11-21T10:00:00.000Z',
  });
}

describe('autonomyTiers', () => {
  it('names the six tiers in order', () => {
    // Assess
    expect(autonomyTiers.map(({ tier, name }) => [tier, name])).toEqual([
      [0, 'advisory'],
      [1, 'assisted edit'],
      [2, 'PR automation'],
      [3, 'bounded maintenance'],
      [4, 'release assist'],
      [5, 'conditional operations'],
    ]);
    expect(autonomyTiers[1]?.description).toContain('PR approval gate');
  });

  it('permits exactly each tier its actions, every tier those of the tiers below', () => {
    for (const definition of autonomyTiers) {
      // Act
      const permitted = GantryAction.options.filter((action) => tierPermits(definition.tier, action));

      // Assess
      expect(new Set(definition.permits), `tier ${definition.tier}`).toEqual(
        new Set(expectedPermits[definition.tier]),
      );
      expect(new Set(permitted), `tier ${definition.tier}`).toEqual(
        new Set(expectedPermits[definition.tier]),
      );
      const below = autonomyTiers[definition.tier - 1];
      for (const action of below?.permits ?? []) expect(definition.permits).toContain(action);
    }
  });

  it('deploys to staging from tier 4 and to production only at tier 5', () => {
    // Assess
    expect([3, 4, 5].map((tier) => tierPermitsDeployTo(tier, 'staging'))).toEqual([false, true, true]);
    expect([3, 4, 5].map((tier) => tierPermitsDeployTo(tier, 'production'))).toEqual([false, false, true]);
  });

  it('refuses a tier that does not exist', () => {
    // Assess
    expect(() => tierPermits(6, 'inspect')).toThrow(InvalidInputError);
    expect(() => tierPermits(1.5, 'inspect')).toThrow('Autonomy tier 1.5 does not exist');
    expect(() => tierPermits(-1, 'inspect')).toThrow(InvalidInputError);
  });
});

describe('minimumTierFor', () => {
  it('gives the lowest permitting tier for every Gantry action', () => {
    // Act
    const minimums = Object.fromEntries(
      GantryAction.options.map((action) => [action, minimumTierFor(action)]),
    );

    // Assess
    expect(minimums).toEqual({
      inspect: 0,
      run_tests: 0,
      finish: 0,
      edit_files: 1,
      run_command: 1,
      create_branch: 1,
      open_pr: 2,
      comment: 2,
      merge: 3,
      rollback: 3,
      deploy: 4,
      read_secret: 5,
      network_egress: 5,
    });
    for (const action of GantryAction.options) {
      expect(tierPermits(minimumTierFor(action), action)).toBe(true);
      if (minimumTierFor(action) > 0) expect(tierPermits(minimumTierFor(action) - 1, action)).toBe(false);
    }
  });

  it('refuses an action outside the vocabulary', () => {
    // Assess
    expect(() => minimumTierFor('push_to_main' as GantryAction)).toThrow(InvalidInputError);
  });
});

describe('effectiveAutonomy', () => {
  it('caps an authentication request at tier 1 under the bugfix contract, bound by risk', async () => {
    // Prepare
    const contract = (await loadCapabilities()).get('low-risk-bugfix');
    const risk = classifyRisk(request('Login fails after password reset'), await loadRiskRules());

    // Act
    const autonomy = effectiveAutonomy({ contract, risk });

    // Assess
    expect(risk.maxAutonomyTier).toBe(1);
    expect(autonomy.tier).toBe(1);
    expect(autonomy.limitedBy).toEqual(['risk']);
    expect(autonomy.explanation).toContain('Autonomy tier 1 (assisted edit)');
    expect(autonomy.explanation).toContain('domain.authentication');
    expect(tierPermits(autonomy.tier, 'open_pr')).toBe(false);
  });

  it('caps a payments request at tier 1 even under the tier-5 rollback contract', async () => {
    // Prepare
    const contract = (await loadCapabilities()).get('rollback');
    const risk = classifyRisk(
      request('Revert the refund rounding change', 'Refunds are off by a cent.'),
      await loadRiskRules(),
    );

    // Act
    const autonomy = effectiveAutonomy({ contract, risk });

    // Assess
    expect(autonomy).toMatchObject({ tier: 1, limitedBy: ['risk'] });
    expect(autonomy.explanation).toContain('domain.payments');
  });

  it('is bound by the contract when the risk allows more', async () => {
    // Prepare
    const contract = (await loadCapabilities()).get('documentation-update');
    const risk = classifyRisk(request('Fix a typo in the setup guide'), await loadRiskRules());

    // Act
    const autonomy = effectiveAutonomy({ contract, risk });

    // Assess
    expect(risk.maxAutonomyTier).toBe(5);
    expect(autonomy).toMatchObject({ tier: 2, limitedBy: ['capability'] });
    expect(autonomy.explanation).toBe(
      'Autonomy tier 2 (PR automation): capability documentation-update@1.0.0 allows at most tier 2.',
    );
  });

  it('names both bounds when they agree', async () => {
    // Prepare: a delivering contract at tier 5 and a low risk, which allows tier 5 too
    const contract = (await loadCapabilities()).get('service-bugfix');
    const risk: RiskAssessment = classifyRisk(request('Invoice total is wrong'), await loadRiskRules());

    // Act
    const autonomy = effectiveAutonomy({ contract, risk });

    // Assess
    expect(autonomy).toMatchObject({ tier: 5, limitedBy: ['capability', 'risk'] });
  });
});
