import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineeringRequest } from '../domain/request.js';
import { RiskAssessment } from '../domain/risk.js';
import { classifyRisk } from './risk.js';
import { loadRiskRules, type RiskRules } from './risk-rules.js';

function request(fields: Partial<EngineeringRequest>): EngineeringRequest {
  return {
    id: 'req-1',
    source: 'file',
    repository: { name: 'billing-service', defaultBranch: 'main' },
    requester: 'ana',
    capability: 'low-risk-bugfix',
    title: 'Untitled',
    description: '',
    acceptanceCriteria: [],
    constraints: [],
    attachments: [],
    receivedAt: '2026-11-21T10:00:00.000Z',
    ...fields,
  };
}

const invoiceRequest = request({
  title: 'Invoice total is wrong when the discount is zero',
  description:
    'In the billing service, invoiceTotal() in src/invoice.ts returns NaN when an invoice has a discount of 0, ' +
    'so the billing page shows an empty total and the customer sees no amount due.',
  acceptanceCriteria: [
    'an invoice with a zero discount totals the sum of its lines',
    'existing invoice tests still pass',
  ],
});

describe('classifyRisk with the shipped rules', () => {
  let rules: RiskRules;

  beforeAll(async () => {
    rules = await loadRiskRules();
  });

  it('classifies the invoice bug fix as low, with room for autonomy and no plan approval', () => {
    // Act
    const assessment = classifyRisk(invoiceRequest, rules);

    // Assess
    expect(RiskAssessment.parse(assessment)).toEqual(assessment);
    expect(assessment.tier).toBe('low');
    expect(assessment.maxAutonomyTier).toBeGreaterThanOrEqual(2);
    expect(assessment.requiredApprovals).not.toContain('plan');
    expect(assessment.rulesVersion).toBe(rules.version);
    expect(assessment.reasons).toHaveLength(1);
    expect(assessment.reasons[0]?.rule).toBe('default');
    expect(assessment.reasons[0]?.explanation).toContain('No risk rule matched');
  });

  it('classifies an authentication change as high, capped at autonomy 1, with the matched words as evidence', () => {
    // Prepare
    const authRequest = request({
      title: 'Users are logged out when their session token is refreshed',
      description: 'After the OAuth callback the login page loops.',
      acceptanceCriteria: ['a refreshed Session-Token keeps the user signed in'],
    });

    // Act
    const assessment = classifyRisk(authRequest, rules);

    // Assess
    expect(assessment.tier).toBe('high');
    expect(assessment.maxAutonomyTier).toBe(1);
    expect(assessment.requiredApprovals).toEqual(['plan', 'code-owner', 'security-owner']);
    expect(assessment.reasons).toHaveLength(1);
    const [reason] = assessment.reasons;
    expect(reason?.rule).toBe('domain.authentication');
    expect(reason?.evidence).toEqual(['login', 'oauth', 'session token']);
    expect(reason?.explanation).toContain('in the title and description and acceptance criteria');
    expect(reason?.explanation).toContain('capped at autonomy tier 1');
  });

  it('lists the payment words it matched and applies the payments cap', () => {
    // Prepare
    const paymentsRequest = request({
      title: 'Refunds are sent twice through Stripe',
      description: 'The author of the invoice is charged once, but refunded twice.',
    });

    // Act
    const assessment = classifyRisk(paymentsRequest, rules);

    // Assess
    expect(assessment.reasons.map((reason) => reason.rule)).toEqual(['domain.payments']);
    expect(assessment.reasons[0]?.evidence).toEqual(['refunds', 'refunded', 'stripe']);
    expect(assessment.maxAutonomyTier).toBe(1);
    expect(assessment.requiredApprovals).toContain('domain-owner');
  });

  it('matches keywords as whole words only', () => {
    // Prepare: "author", "cardinality", "recharged" and "charged" contain keywords but are other words.
    const innocent = request({
      title: 'Author names lose their cardinality in the export',
      description: 'The recharged battery icon and the charged-items list render twice.',
    });

    // Act
    const assessment = classifyRisk(innocent, rules);

    // Assess
    expect(assessment.tier).toBe('low');
    expect(assessment.reasons[0]?.rule).toBe('default');
  });

  it('matches a CI workflow or a migration path mentioned in the request', () => {
    // Prepare
    const ciRequest = request({ title: 'Cache node_modules in `.github/workflows/ci.yml`' });
    const migrationRequest = request({
      title: 'Discount column default',
      description: 'db/migrations/0042_add_discount.sql sets no default.',
    });

    // Act
    const ci = classifyRisk(ciRequest, rules);
    const migration = classifyRisk(migrationRequest, rules);

    // Assess
    expect(ci.tier).toBe('high');
    expect(ci.reasons).toEqual([
      expect.objectContaining({
        rule: 'paths.ci-workflows',
        tier: 'high',
        evidence: ['.github/workflows/ci.yml'],
      }),
    ]);
    expect(migration.reasons).toEqual([
      expect.objectContaining({
        rule: 'paths.migrations',
        evidence: ['db/migrations/0042_add_discount.sql'],
      }),
    ]);
    expect(migration.requiredApprovals).toEqual(['plan', 'code-owner']);
  });

  it('resolves a bare file name against the repository’s sensitive paths when a context is given', () => {
    // Prepare
    const vague = request({ title: 'Speed up ci.yml by caching dependencies' });
    const context = {
      sensitivePaths: [
        { path: '.github/workflows/ci.yml', rule: 'paths.ci-workflows' },
        { path: 'db/migrations/0001_init.sql', rule: 'paths.migrations' },
      ],
    };

    // Act
    const withoutContext = classifyRisk(vague, rules);
    const withContext = classifyRisk(vague, rules, context);

    // Assess
    expect(withoutContext.tier).toBe('low');
    expect(withContext.tier).toBe('high');
    expect(withContext.reasons).toEqual([
      expect.objectContaining({
        rule: 'paths.ci-workflows',
        evidence: ['.github/workflows/ci.yml (mentioned as ci.yml)'],
      }),
    ]);
  });

  it('marks a broad request medium by the number of acceptance criteria or of paths', () => {
    // Prepare
    const manyCriteria = request({
      title: 'Tidy the invoice module',
      acceptanceCriteria: ['one', 'two', 'three', 'four', 'five', 'six'],
    });
    const manyPaths = request({
      title: 'Rename the total helpers',
      description: 'Touches src/a.ts, src/b.ts, src/c.ts, src/d.ts, src/e.ts and src/f.ts.',
    });
    const fewCriteria = request({ title: 'Tidy the invoice module', acceptanceCriteria: ['one', 'two'] });

    // Act
    const byCriteria = classifyRisk(manyCriteria, rules);
    const byPaths = classifyRisk(manyPaths, rules);
    const small = classifyRisk(fewCriteria, rules);

    // Assess
    expect(byCriteria.tier).toBe('medium');
    expect(byCriteria.maxAutonomyTier).toBe(2);
    expect(byCriteria.requiredApprovals).toEqual(['plan']);
    expect(byCriteria.reasons[0]).toMatchObject({
      rule: 'scope.broad-change',
      evidence: ['6 acceptance criteria (more than 5)'],
    });
    expect(byPaths.reasons[0]?.evidence[0]).toMatch(
      /^6 distinct paths mentioned \(more than 5\): src\/a\.ts/,
    );
    expect(small.tier).toBe('low');
  });

  it('takes the highest tier, the lowest autonomy and every approval when several rules match', () => {
    // Prepare
    const mixed = request({
      title: 'Rotate the API key used at login',
      description: 'Update .env.production and the password reset flow.',
    });

    // Act
    const assessment = classifyRisk(mixed, rules);

    // Assess
    expect(assessment.tier).toBe('critical');
    expect(assessment.maxAutonomyTier).toBe(0);
    expect(assessment.requiredApprovals).toEqual(['plan', 'code-owner', 'security-owner']);
    expect(assessment.reasons.map((reason) => reason.rule)).toEqual([
      'domain.authentication',
      'domain.secrets',
      'paths.secret-files',
    ]);
  });

  it('gives the same assessment for the same input', () => {
    // Prepare
    const authRequest = request({
      title: 'SSO login fails for new users',
      description: 'see .github/CODEOWNERS',
    });

    // Act
    const first = classifyRisk(authRequest, rules);
    const second = classifyRisk(structuredClone(authRequest), structuredClone(rules));

    // Assess
    expect(second).toEqual(first);
    expect(first.reasons.map((reason) => reason.rule)).toEqual([
      'domain.authentication',
      'paths.code-owners',
    ]);
  });
});

describe('classifyRisk reads paths, not words', () => {
  let rules: RiskRules;

  beforeAll(async () => {
    rules = await loadRiskRules();
  });

  it('keeps an issue low whose inline code names types and methods, not files', () => {
    // Prepare
    const codeWords = request({
      title: '`NormalizedOptions` drops the `method`',
      description:
        'When `retry` wraps `fetch`, `NormalizedOptions` loses `method`; `headers` and `body` survive, `Options.method` is read before.',
    });

    // Act
    const assessment = classifyRisk(codeWords, rules);

    // Assess
    expect(assessment.tier).toBe('low');
    expect(assessment.reasons.map((reason) => reason.rule)).toEqual(['default']);
  });

  it('counts a token that looks like a path, and says why', () => {
    // Prepare
    const paths = request({
      title: 'Session refresh',
      description:
        'See `src/auth/session.ts`, `./refresh`, `token.ts`, `cookie.ts`, `store.json`, `.github/CODEOWNERS` and `NormalizedOptions`.',
    });

    // Act
    const assessment = classifyRisk(paths, rules);
    const scope = assessment.reasons.find((reason) => reason.rule === 'scope.broad-change');
    const owners = assessment.reasons.find((reason) => reason.rule === 'paths.code-owners');

    // Assess
    expect(scope?.evidence).toEqual([
      '6 distinct paths mentioned (more than 5): src/auth/session.ts, refresh, token.ts, cookie.ts, store.json, .github/CODEOWNERS',
    ]);
    expect(scope?.explanation).toContain('src/auth/session.ts (looks like a path: it contains a /)');
    expect(scope?.explanation).toContain('refresh (looks like a path: it starts with ./)');
    expect(scope?.explanation).toContain('token.ts (looks like a path: it ends in .ts)');
    expect(owners?.explanation).toContain('.github/CODEOWNERS (looks like a path: it contains a /)');
  });

  it('counts inline code that exists in the repository’s file list, naming the file', () => {
    // Prepare
    const vague = request({
      title: 'The `deploy` role is too wide',
      description: '`NormalizedOptions` too.',
    });
    const files = ['infra/deploy/role.tf', 'src/options.ts'];

    // Act
    const withoutFiles = classifyRisk(vague, rules);
    const withFiles = classifyRisk(vague, rules, { files });

    // Assess
    expect(withoutFiles.tier).toBe('low');
    expect(withFiles.tier).toBe('high');
    expect(withFiles.reasons).toEqual([
      expect.objectContaining({
        rule: 'paths.infrastructure',
        evidence: ['infra/deploy/role.tf (mentioned as deploy)'],
      }),
    ]);
    expect(withFiles.reasons[0]?.explanation).toContain(
      'deploy exists in the repository: infra/deploy/role.tf',
    );
  });
});

describe('classifyRisk with tuned rules', () => {
  it('keeps a domain cap when the domain rule is tuned down to medium', async () => {
    // Prepare
    const shipped = await loadRiskRules();
    const tuned: RiskRules = {
      ...shipped,
      rules: shipped.rules.map((rule) =>
        rule.id === 'domain.authentication' ? { ...rule, tier: 'medium' as const } : rule,
      ),
    };

    // Act
    const assessment = classifyRisk(request({ title: 'Password reset email is not sent' }), tuned);

    // Assess
    expect(assessment.tier).toBe('medium');
    expect(assessment.maxAutonomyTier).toBe(1);
    expect(assessment.requiredApprovals).toEqual(['plan', 'security-owner']);
  });
});
