import { describe, expect, it } from 'vitest';
import {
  markdownCode,
  markdownCodeBlock,
  markdownInline,
  markdownLink,
  markdownText,
  markdownUrl,
} from './markdown.js';
import { HOSTILE_TEXT, liveMarkupIn, renderMarkdown } from './rendered-markdown.test-support.js';

const ZWJ = '\u200d';

describe('markdownInline', () => {
  it.each([
    ['raw HTML', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['a closing tag', '</details>', '&lt;/details&gt;'],
    ['an HTML comment that would hide what follows', 'a <!-- b', 'a &lt;!-- b'],
    ['an entity', '&lt;b&gt;', '&amp;lt;b&amp;gt;'],
    ['a javascript: link', '[click](javascript:alert(1))', '\\[click\\](javascript:alert(1))'],
    ['a data: image', '![x](data:image/png;base64,AA)', '!\\[x\\](data:image/png;base64,AA)'],
    [
      'a file: reference link',
      '[f][1] [1]: file:///etc/passwd',
      '\\[f\\]\\[1\\] \\[1\\]: file:///etc/passwd',
    ],
    ['an autolink', '<javascript:alert(1)>', '&lt;javascript:alert(1)&gt;'],
    ['a backslash that would undo an escape', '\\[x](y)', '\\\\\\[x\\](y)'],
    [
      'emphasis and code',
      '**bold** _it_ `code` ~~s~~ $x$',
      '\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~ \\$x\\$',
    ],
    ['a table cell break', 'a | b', 'a \\| b'],
    ['a team mention', 'cc @acme/security-team', `cc @${ZWJ}acme/security-team`],
    ['a cross-reference', 'fixes #123 and acme/billing#7', `fixes #${ZWJ}123 and acme/billing#${ZWJ}7`],
    ['an email autolink', 'maria@example.com', `maria@${ZWJ}example.com`],
    ['a heading after a newline', 'title\n# Approved\n\n| a |', 'title # Approved \\| a \\|'],
    ['a heading at the start', '# Approved', '\\# Approved'],
    ['a list at the start', '- [x] reviewed', '\\- \\[x\\] reviewed'],
    ['an ordered list at the start', '1. merge', '1\\. merge'],
    ['a blockquote at the start', '> quoted', '&gt; quoted'],
  ])('neutralises %s', (_, hostile, inert) => {
    expect(markdownInline(hostile)).toBe(inert);
  });

  it('keeps ordinary text as it reads', () => {
    expect(markdownInline('Invoice total is wrong when the discount is 0%')).toBe(
      'Invoice total is wrong when the discount is 0%',
    );
  });

  it('removes terminal controls and bidi overrides', () => {
    expect(markdownInline('a\u001b]8;;http://evil\u0007link\u001b]8;;\u0007 \u202egnp.exe\u001b[31m')).toBe(
      'alink gnp.exe',
    );
  });

  it('leaves nothing live when a renderer shows the hostile text, even in a table cell or after a list marker', () => {
    // Prepare
    const field = markdownInline(HOSTILE_TEXT);
    // Act
    const markdown = `## Title — ${field}\n\n- ${field}\n\n| a | b |\n|---|---|\n| ${field} | x |\n`;
    // Assess
    expect(liveMarkupIn(markdown, ['Title'])).toEqual([]);
    expect(renderMarkdown(markdown).match(/<td>/g)).toHaveLength(2);
  });
});

describe('markdownText', () => {
  it('keeps lines, but none of them opens a block', () => {
    // Prepare
    const summary =
      'Fixed the rounding.\n# Approved by security\n  - merge now\n1) deploy\n===\n    indented';
    // Act
    const text = markdownText(summary);
    // Assess
    expect(text).toBe(
      'Fixed the rounding.\n\\# Approved by security\n\\- merge now\n1\\) deploy\n\\===\nindented',
    );
    expect(renderMarkdown(text)).toBe(
      '<p>Fixed the rounding.\n# Approved by security\n- merge now\n1) deploy\n===\nindented</p>\n',
    );
  });

  it('leaves nothing live in the hostile text', () => {
    expect(liveMarkupIn(markdownText(HOSTILE_TEXT))).toEqual([]);
  });

  it('turns a carriage return that would overwrite a line into a line break', () => {
    expect(markdownText('all tests passed\rFAILED: 3')).toBe('all tests passed\nFAILED: 3');
  });
});

describe('markdownCode', () => {
  it.each([
    ['a plain path', 'src/invoice.js', '`src/invoice.js`'],
    ['a backtick inside', 'src/a`b.ts', '``src/a`b.ts``'],
    ['a backtick run at the edge', '``x', '``` ``x ```'],
    ['spaces at both edges', ' x ', '`  x  `'],
    ['nothing', '', '` `'],
    ['a newline that would end the paragraph', 'a\n# b', '`a # b`'],
  ])('wraps %s so it cannot close the span', (_, value, code) => {
    expect(markdownCode(value)).toBe(code);
  });

  it('renders back to the value, HTML and all, as code', () => {
    const value = 'evil`` <img src=x onerror=alert(1)> [x](javascript:1)';
    expect(renderMarkdown(markdownCode(value))).toBe(
      '<p><code>evil`` &lt;img src=x onerror=alert(1)&gt; [x](javascript:1)</code></p>\n',
    );
  });

  it('escapes | in a table cell, where GitHub splits cells even inside code', () => {
    // Act
    const markdown = `| file | n |\n|---|---|\n| ${markdownCode('a|b.ts', { tableCell: true })} | 1 |\n`;
    // Assess
    expect(renderMarkdown(markdown)).toContain('<td><code>a|b.ts</code></td>');
  });
});

describe('markdownCodeBlock', () => {
  it('uses a fence longer than any backtick run in the output', () => {
    // Prepare
    const output = 'not ok 1\n```\n# Injected heading\n`````\n<img src=x onerror=alert(1)>';
    // Act
    const block = markdownCodeBlock(output);
    // Assess
    expect(block.startsWith('``````\n')).toBe(true);
    expect(block.endsWith('\n``````')).toBe(true);
    const markdown = `### Verification\n\n${block}\n\n### Risk\n`;
    expect(liveMarkupIn(markdown, ['Verification', 'Risk'])).toEqual([]);
    expect(renderMarkdown(markdown)).toContain('# Injected heading\n');
  });

  it('keeps at least three backticks, and a language name only', () => {
    expect(markdownCodeBlock('ok', 'ts"><script>')).toBe('```tsscript\nok\n```');
  });

  it('removes terminal controls, so `gantry show` prints the block inert', () => {
    expect(markdownCodeBlock('\u001b[2J\u001b]52;c;cHduZWQ=\u0007ok\r\n')).toBe('```\nok\n```');
  });
});

describe('markdownLink', () => {
  it('links http and https URLs', () => {
    expect(markdownLink('pull request #7', 'https://github.com/acme/billing/pull/7')).toBe(
      `[pull request #${ZWJ}7](https://github.com/acme/billing/pull/7)`,
    );
    expect(markdownLink('x', 'http://example.com/a(b)')).toBe('[x](http://example.com/a%28b%29)');
  });

  it.each([
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'vbscript:msgbox',
    'not a url',
  ])('shows %s as code, not as a link', (url) => {
    // Act
    const markdown = markdownLink('click [me]', url);
    // Assess
    expect(markdown.startsWith('click \\[me\\] (`')).toBe(true);
    expect(liveMarkupIn(markdown)).toEqual([]);
    expect(renderMarkdown(markdown)).not.toContain('<a ');
  });
});

describe('markdownUrl', () => {
  it('links an http address, even one whose escaped text would not autolink', () => {
    // Act
    const markdown = markdownUrl('https://github.com/acme/my_repo/issues/7');
    // Assess
    expect(markdown).toBe(
      '[https://github.com/acme/my\\_repo/issues/7](https://github.com/acme/my_repo/issues/7)',
    );
    expect(renderMarkdown(markdown)).toContain('href="https://github.com/acme/my_repo/issues/7"');
  });

  it('shows any other address as text nothing links', () => {
    // Act
    const markdown = markdownUrl('javascript:alert(1)//<b>');
    // Assess
    expect(markdown).toBe('javascript:alert(1)//&lt;b&gt;');
    expect(liveMarkupIn(markdown)).toEqual([]);
  });
});
