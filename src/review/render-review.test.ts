import { describe, expect, it } from 'vitest';
import { HOSTILE_TEXT, liveMarkupIn, renderMarkdown } from '../inert-text/rendered-markdown.test-support.js';
import type { Finding, Review } from './finding.js';
import { renderReview } from './render-review.js';

const base: Omit<Finding, 'id' | 'severity'> = {
  file: 'src/invoice.js',
  lines: { start: 13, end: 13 },
  invariant: 'A zero discount stays zero.',
  consequence: 'Customers are overcharged.',
  suggestion: 'Use ?? instead of ||.',
  confidence: 0.9,
  source: 'model',
};

const review: Review = {
  findings: [
    {
      ...base,
      id: 'check:evidence-incomplete:pull-request',
      severity: 'blocker',
      file: '',
      lines: { start: 0, end: 0 },
      invariant: 'A pull request carries a complete evidence packet.',
      consequence: 'The packet is 75% complete.',
      source: 'check',
      check: 'evidence-incomplete',
      confidence: 1,
    },
    { ...base, id: 'model:1', severity: 'major', lines: { start: 10, end: 16 } },
    {
      ...base,
      id: 'model:2',
      severity: 'nit',
      invariant: 'Names | pipes\nand <script>alert(1)</script> stay in one cell.',
    },
  ],
  blockers: 1,
  dropped: { lowConfidence: 2, outsideDiff: 1, duplicate: 0, overCap: 0, invalid: 0 },
  model: { status: 'ran', id: 'cassette:bedrock:claude', inputTokens: 1200, outputTokens: 300 },
  summary: 'Blocked: 1 blocker.',
};

describe('renderReview', () => {
  it('renders the verdict, a table most important first, and each finding in full', () => {
    // Act
    const markdown = renderReview(review);

    // Assess
    expect(markdown.startsWith('## Gantry review — 1 blocker: not ready to merge\n')).toBe(true);
    const rows = markdown.split('\n').filter((line) => /^\| \d/.test(line));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('🛑 blocker | whole pull request |');
    expect(rows[0]).toContain('check `evidence-incomplete`');
    expect(rows[1]).toContain('`src/invoice.js` lines 10–16');
    expect(rows[2]).toContain('`src/invoice.js` line 13');
    expect(markdown).toContain('- **Consequence:** Customers are overcharged.');
    // `|` is escaped wherever untrusted text goes, in a table or not; it renders the same.
    expect(markdown).toContain('- **Suggestion:** Use ?? instead of \\|\\|.');
    expect(markdown).toContain('Model `cassette:bedrock:claude` (1200 tokens in, 300 out).');
    expect(markdown).toContain('Left out: 2 low confidence, 1 outside the diff');
  });

  it('keeps untrusted text from breaking the table or injecting HTML', () => {
    // Act
    const markdown = renderReview(review);

    // Assess
    const row = markdown.split('\n').find((line) => line.startsWith('| 3 '));
    expect(row).toContain('Names \\| pipes and &lt;script&gt;alert(1)&lt;/script&gt; stay in one cell.');
    expect(markdown).not.toContain('<script>');
  });

  it('shows a hostile finding, file name and model summary as inert text', () => {
    // Prepare
    const hostile: Review = {
      ...review,
      summary: HOSTILE_TEXT,
      findings: [
        {
          ...base,
          id: 'model:1',
          severity: 'major',
          file: `src/${HOSTILE_TEXT}|x.js`,
          invariant: HOSTILE_TEXT,
          consequence: `- ${HOSTILE_TEXT}`,
          suggestion: '[fix](javascript:alert(1)) cc @acme/security-team',
        },
      ],
      model: { status: 'unavailable', reason: HOSTILE_TEXT },
    };
    // Act
    const markdown = renderReview(hostile);
    // Assess: the renderer's headings only, one table row of six cells, no live markup or mention.
    expect(liveMarkupIn(markdown, ['Gantry review', '1. '])).toEqual([]);
    const html = renderMarkdown(markdown);
    expect(html.match(/<td>/g)).toHaveLength(6);
    const prose = html.replace(/<code>[\s\S]*?<\/code>/g, '');
    expect(prose).not.toContain('@acme/security-team');
    expect(prose).not.toContain('#123');
    expect(markdown).not.toContain('\u001b');
    expect(markdown).not.toContain('\u202e');
  });

  it('says when there is nothing to report and why the model did not take part', () => {
    // Act
    const markdown = renderReview({
      ...review,
      findings: [],
      blockers: 0,
      model: { status: 'unavailable', reason: 'no model configured for review' },
    });

    // Assess
    expect(markdown).toContain('## Gantry review — no blocker');
    expect(markdown).toContain('Nothing to report.');
    expect(markdown).toContain(
      'Model unavailable: no model configured for review. Only the deterministic checks ran.',
    );
  });
});
