import { describe, expect, it } from 'vitest';
import { type EvidencePacket, renderEvidenceMarkdown, scoreEvidence } from './evidence.js';

const hash = 'a'.repeat(64);

function packet(): EvidencePacket {
  return {
    runId: 'run-1',
    traceId: 'b'.repeat(32),
    title: 'Invoice total is wrong',
    summary: 'Fixed the zero discount.',
    request: { source: 'file', requester: 'maria' },
    scope: { filesChanged: [{ path: 'src/invoice.js', additions: 1, deletions: 1 }], outsidePlan: [] },
    reproduction: {
      reproduced: true,
      before: { argv: ['npm', 'test'], exitCode: 1, passed: false, output: hash, excerpt: 'not ok 1' },
      testFiles: ['test/zero.test.js'],
    },
    verification: [{ argv: ['npm', 'test'], exitCode: 0, passed: true, output: hash, excerpt: 'ok' }],
    risk: { tier: 'low', reasons: ['default: no rule matched'], maxAutonomyTier: 3 },
    constraints: [{ constraint: 'Do not change dependencies', honoured: true, how: 'no manifest changed' }],
    rollback: { method: 'revert', steps: ['git revert'] },
    agent: { model: 'cassette:x', turns: 9, toolCalls: 11, deniedToolCalls: 0 },
    policyVersion: 'v1',
  };
}

describe('evidence packet completeness', () => {
  it('scores a sound packet complete', () => {
    expect(scoreEvidence(packet())).toEqual({ completeness: 1, missing: [] });
  });

  it.each<[string, (p: EvidencePacket) => void]>([
    [
      'summary',
      (p) => {
        p.summary = ' ';
      },
    ],
    [
      'scope',
      (p) => {
        p.scope.filesChanged = [];
      },
    ],
    [
      'reproduction',
      (p) => {
        p.reproduction = { reproduced: true, testFiles: [] };
      },
    ],
    [
      'reproduction',
      (p) => {
        p.reproduction = { reproduced: false, testFiles: [] };
      },
    ],
    [
      'verification',
      (p) => {
        p.verification = p.verification.map((v) => ({ ...v, passed: false }));
      },
    ],
    [
      'verification',
      (p) => {
        p.verification = [];
      },
    ],
    [
      'risk',
      (p) => {
        p.risk.reasons = [];
      },
    ],
    [
      'constraints',
      (p) => {
        p.constraints = p.constraints.map((c) => ({ ...c, honoured: false }));
      },
    ],
    [
      'rollback',
      (p) => {
        p.rollback.steps = [];
      },
    ],
    [
      'traceId',
      (p) => {
        p.traceId = 'not-a-trace';
      },
    ],
  ])('marks %s missing when it is absent or unsound', (section, spoil) => {
    // Prepare
    const p = packet();
    spoil(p);
    // Act
    const score = scoreEvidence(p);
    // Assess
    expect(score.missing).toEqual([section]);
    expect(score.completeness).toBeCloseTo(7 / 8);
  });

  it('accepts a recorded reason in place of a reproduction', () => {
    const p = packet();
    p.reproduction = { reproduced: false, testFiles: [], reason: 'the bug needs production data' };
    expect(scoreEvidence(p).missing).toEqual([]);
  });

  it('renders every section, and fences output so it cannot close the block', () => {
    // Prepare
    const p = packet();
    p.verification = p.verification.map((v) => ({ ...v, excerpt: 'ok\n```\n# injected heading' }));
    // Act
    const markdown = renderEvidenceMarkdown(p);
    // Assess
    for (const heading of [
      '### Scope',
      '### Reproduction',
      '### Verification',
      '### Risk',
      '### Constraints',
      '### Rollback',
    ]) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).toContain('Completeness: 100%');
    expect(markdown).toContain('`src/invoice.js` (+1 −1)');
    expect(markdown).not.toMatch(/^```\n# injected heading/m);
  });
});
