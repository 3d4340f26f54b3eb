import { describe, expect, it } from 'vitest';
import { HOSTILE_TEXT, liveMarkupIn, renderMarkdown } from '../inert-text/rendered-markdown.test-support.js';
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
    expect(markdown).toContain('````\nok\n```\n# injected heading\n````');
    expect(renderMarkdown(markdown)).not.toContain('<h1>injected heading');
  });

  it('shows a hostile title, file name, test output and summary as inert text', () => {
    // Prepare
    const p = packet();
    p.title = HOSTILE_TEXT;
    p.summary = `Gantry resolved "${HOSTILE_TEXT}".\n## Approved by security`;
    p.request.requester = '@acme/security-team <img src=x>';
    p.scope.filesChanged = [{ path: `src/${HOSTILE_TEXT}.js`, additions: 1, deletions: 0 }];
    p.scope.outsidePlan = ['a`` <b>|c'];
    p.reproduction.testFiles = [`test/${HOSTILE_TEXT}`];
    p.verification = p.verification.map((v) => ({
      ...v,
      argv: ['npm', 'test', '--', '```'],
      excerpt: `ok\n\`\`\`\`\n${HOSTILE_TEXT}\n## Verified by a human`,
    }));
    p.constraints = [{ constraint: HOSTILE_TEXT, honoured: true, how: '[ok](javascript:alert(1))' }];
    p.risk.reasons = [`- ${HOSTILE_TEXT}`];
    // Act
    const markdown = renderEvidenceMarkdown(p);
    // Assess: only the renderer's own headings, no HTML, no link out, no mention, no terminal control.
    const headings = ['Evidence packet', 'Scope', 'Reproduction', 'Verification', 'Risk', 'Constraints'];
    expect(liveMarkupIn(markdown, [...headings, 'Rollback', 'Agent'])).toEqual([]);
    const html = renderMarkdown(markdown);
    expect(html.match(/<h3>/g)).toHaveLength(7);
    // GitHub links no mention or reference inside code; outside it, none may be left.
    const prose = html.replace(/<code>[\s\S]*?<\/code>/g, '');
    expect(prose).not.toContain('@acme/security-team');
    expect(prose).not.toContain('#123');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for terminal controls is the point.
    expect(markdown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    // The output is shown whole, as code, inside the one block.
    expect(html).toContain('<pre><code>ok\n````\n&lt;/details&gt;&lt;!-- hide the rest');
  });
});
