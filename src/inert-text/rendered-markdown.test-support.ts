import MarkdownIt from 'markdown-it';

/**
 * Renders markdown as a permissive forge would: raw HTML passes, bare URLs link, and every link
 * scheme is accepted (markdown-it refuses `javascript:` by default; a forge's sanitiser is a second
 * line, not the one under test).
 */
const permissive = new MarkdownIt({ html: true, linkify: true });
permissive.validateLink = () => true;

/** The tags markdown itself produces; any other tag in the HTML came from raw HTML in the input. */
const MARKDOWN_TAGS = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'ul',
  'ol',
  'li',
  'strong',
  'em',
  'code',
  'pre',
  'a',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'hr',
  'br',
  's',
]);

/** The HTML a permissive renderer makes of `markdown`. */
export function renderMarkdown(markdown: string): string {
  return permissive.render(markdown);
}

/**
 * What in the rendered markdown is not inert: tags raw HTML added, HTML comments, links and images
 * whose scheme is not http or https, and headings other than the ones the renderer wrote.
 */
export function liveMarkupIn(markdown: string, expectedHeadings: readonly string[] = []): string[] {
  const html = renderMarkdown(markdown);
  const problems: string[] = [];
  if (html.includes('<!--')) problems.push('an HTML comment');
  for (const match of html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)) {
    const tag = (match[1] ?? '').toLowerCase();
    if (!MARKDOWN_TAGS.has(tag)) problems.push(`a <${tag}> tag`);
  }
  for (const match of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
    if (!/^https?:\/\//i.test(match[2] ?? '')) problems.push(`${match[1]}="${match[2]}"`);
  }
  const headings = [...html.matchAll(/<h\d>([\s\S]*?)<\/h\d>/g)].map((m) => m[1] ?? '');
  for (const heading of headings) {
    if (!expectedHeadings.some((expected) => heading.startsWith(expected)))
      problems.push(`a heading "${heading}"`);
  }
  return problems;
}

/** A text that tries every way out of a markdown field and a terminal line at once. */
export const HOSTILE_TEXT =
  '</details><!-- hide the rest <img src=x onerror=alert(1)> [click](javascript:alert(1)) ' +
  '![x](data:image/png;base64,AAAA) <javascript:alert(1)> [f](file:///etc/passwd) ' +
  '\n```\n# Injected heading\n| a | b |\n|---|---|\n@acme/security-team #123 ' +
  '\u001b]8;;http://evil.example\u0007link\u001b]8;;\u0007 \u001b]52;c;ZWNobyBwd25lZA==\u0007' +
  '\u001b[2J\u001b[31mred\u001b[0m ok\rFAIL \u202egnp.exe\u202c \u2066x\u2069 \u0007\u0008\u009b';
