import { describe, expect, it } from 'vitest';
import { HOSTILE_TEXT, liveMarkupIn, renderMarkdown } from '../inert-text/rendered-markdown.test-support.js';
import { type EvidencePacket, excerptTestOutput, renderEvidenceMarkdown, scoreEvidence } from './evidence.js';

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

describe('excerptTestOutput', () => {
  it('shows the failing test first, collapses repeated lines and keeps the TAP summary', () => {
    // Prepare
    const output = [
      'TAP version 13',
      ...Array.from({ length: 200 }, (_, i) => `ok ${i + 1} - totals case ${i + 1}`),
      ...Array.from({ length: 30 }, () => 'warning: Buffer() is deprecated'),
      'not ok 201 - zero discount gets no discount',
      '  ---',
      '  expected: 100',
      '  actual: 95',
      '  ...',
      '# tests 201',
      '# pass 200',
      '# fail 1',
    ].join('\n');

    // Act
    const excerpt = excerptTestOutput(output);
    const lines = excerpt.split('\n');

    // Assess
    expect(lines.find((line) => !line.startsWith('…'))).toBe('not ok 201 - zero discount gets no discount');
    expect(excerpt).toContain('  actual: 95');
    expect(lines.slice(-3)).toEqual(['# tests 201', '# pass 200', '# fail 1']);
    expect(excerpt).not.toContain('ok 17 - totals case 17');
    expect(lines.length).toBeLessThanOrEqual(40);
  });

  it('collapses runs of identical or near-identical lines with a count', () => {
    // Prepare
    const output = [
      ...Array.from({ length: 12 }, () => 'retrying connection'),
      ...Array.from({ length: 50 }, (_, i) => `progress ${i * 2}% (${i}ms)`),
      'test result: ok. 3 passed; 0 failed',
    ].join('\n');

    // Act
    const excerpt = excerptTestOutput(output);

    // Assess
    expect(excerpt.split('\n')).toEqual([
      'retrying connection  [repeated 12 times]',
      'progress 0% (0ms)  [and 49 similar lines]',
      'test result: ok. 3 passed; 0 failed',
    ]);
  });

  it.each([
    [
      'pytest',
      ['tests/test_x.py ..F', '_____ test_zero _____', 'E       assert 95 == 100'],
      'FAILED tests/test_x.py::test_zero - assert 95 == 100',
    ],
    [
      'cargo',
      ['---- tests::zero stdout ----', "thread 'tests::zero' panicked at src/lib.rs:9:5"],
      'test result: FAILED. 2 passed; 1 failed',
    ],
    [
      'go',
      ['=== RUN   TestZero', '--- FAIL: TestZero (0.00s)', '    total_test.go:9: got 95, want 100'],
      'FAIL',
    ],
  ])('keeps the failing test and the %s summary within the bounds', (_, failing, summary) => {
    // Prepare
    const noise = Array.from({ length: 500 }, (_, i) => `collecting module_${i} ${'.'.repeat(i % 50)}`);
    const output = [...noise, ...failing, ...noise, summary].join('\n');

    // Act
    const excerpt = excerptTestOutput(output, { maxLines: 20, maxChars: 1500 });

    // Assess
    for (const line of failing.slice(1)) expect(excerpt).toContain(line);
    expect(excerpt.split('\n').at(-1)).toBe(summary);
    expect(excerpt.length).toBeLessThanOrEqual(1500);
    expect(excerpt.split('\n').length).toBeLessThanOrEqual(20);
  });
});
