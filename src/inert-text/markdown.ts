import { plainLine, plainText } from './terminal.js';

/**
 * Characters GitHub-flavoured markdown acts on anywhere in a line. `<`, `>` and `&` become
 * entities, which ends raw HTML, HTML comments and `<scheme:…>` autolinks; the rest are
 * backslash-escaped: emphasis, code spans, links and images (`[`, `]`), table cells (`|`),
 * strikethrough (`~`), math (`$`), and the backslash itself, so text cannot undo an escape.
 */
const INLINE_SYNTAX = /[&<>\\`*_[\]|~$]/g;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * A zero-width joiner after `@` and before the digits of `#123`: the text reads the same, but
 * GitHub no longer sees a mention (`@org/team`), an email autolink or a cross-reference, so
 * untrusted text cannot notify anyone or link itself to another issue.
 */
const MENTION_OR_REFERENCE = /(@|#)(?=[\p{L}\p{N}])/gu;
const ZERO_WIDTH_JOINER = '\u200d';

/**
 * Escapes one line. What opens a block at the start of a line (a heading, a list item, a thematic
 * break, a setext underline, indented code) is escaped or removed too: a field rendered right
 * after `- ` is at the start of a block as well.
 */
function escapeLine(line: string): string {
  return line
    .replace(/^\s+/, '')
    .replace(INLINE_SYNTAX, (character) => ENTITIES[character] ?? `\\${character}`)
    .replace(MENTION_OR_REFERENCE, `$1${ZERO_WIDTH_JOINER}`)
    .replace(/^[#+\-=]/, (marker) => `\\${marker}`)
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/**
 * Escapes an untrusted single-line field (a title, a requester, a reason, a finding) for markdown:
 * newlines collapse into spaces and a leading block marker is escaped, so it cannot start a
 * heading, a list or a table row, even right after `- `; terminal controls and bidi overrides go;
 * no HTML, link, image, mention or reference survives; and `|` is escaped, so the result is also
 * safe inside a table cell.
 *
 * @example
 * markdownInline('Fix <img src=x onerror=alert(1)> [x](javascript:alert(1)) @acme/team #12\n# Heading');
 * // 'Fix &lt;img src=x onerror=alert(1)&gt; \\[x\\](javascript:alert(1)) @\u200dacme/team #\u200d12 # Heading'
 */
export function markdownInline(text: string): string {
  return escapeLine(plainLine(text));
}

/**
 * Escapes untrusted prose that may run over several lines (a model summary) for markdown: each line
 * as {@link markdownInline} escapes its one line, so no line opens a heading, a list or a table.
 *
 * @example
 * markdownText('Fixed it.\n# Approved by security\n1. merge now'); // 'Fixed it.\n\\# Approved by security\n1\\. merge now'
 */
export function markdownText(text: string): string {
  return plainText(text).split('\n').map(escapeLine).join('\n');
}

/**
 * An untrusted single-line value (a path, an argv, an id) as an inline code span. The backtick
 * delimiter is longer than any run inside, so the value cannot close the span; in a table cell
 * pass `{ tableCell: true }`, since GitHub splits cells on `|` even inside code.
 *
 * @example
 * markdownCode('src/a`b.ts'); // '``src/a`b.ts``'
 * markdownCode('a|b', { tableCell: true }); // '`a\\|b`'
 */
export function markdownCode(text: string, options: { tableCell?: boolean } = {}): string {
  let content = plainLine(text);
  if (options.tableCell) content = content.replaceAll('|', '\\|');
  if (content === '') return '` `';
  const delimiter = '`'.repeat(longestBacktickRun(content) + 1);
  // CommonMark strips one space from each side when both are there, and a backtick at an edge
  // would join the delimiter: padding keeps the value as it is.
  const pad = /^`|`$/.test(content) || /^ .* $/.test(content) ? ' ' : '';
  return `${delimiter}${pad}${content}${pad}${delimiter}`;
}

/**
 * Untrusted output (a test run, a log excerpt) as a fenced code block. The fence is longer than any
 * backtick run in the output, so no line of it can close the block, and terminal controls go, so
 * the block is inert on a terminal (`gantry show`) as well. The info string keeps only a language
 * name's characters.
 *
 * @example
 * markdownCodeBlock('not ok 1\n```\n# injected'); // '````\nnot ok 1\n```\n# injected\n````'
 */
export function markdownCodeBlock(text: string, language = ''): string {
  const content = plainText(text).replace(/\n+$/, '');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(content) + 1));
  return `${fence}${language.replace(/[^A-Za-z0-9_+-]/g, '')}\n${content}\n${fence}`;
}

/**
 * A link to an untrusted URL. Only http and https URLs become links; anything else (`javascript:`,
 * `data:`, `file:`, or no URL at all) is shown as code next to the label, so it can be read but
 * not followed.
 *
 * @example
 * markdownLink('pull request', 'https://github.com/acme/billing/pull/7'); // '[pull request](https://github.com/acme/billing/pull/7)'
 * markdownLink('click', 'javascript:alert(1)'); // 'click (`javascript:alert(1)`)'
 */
export function markdownLink(label: string, url: string): string {
  const href = httpUrl(url);
  if (!href) return `${markdownInline(label)} (${markdownCode(url)})`;
  return `[${markdownInline(label)}](${href.replaceAll('(', '%28').replaceAll(')', '%29')})`;
}

/**
 * An untrusted URL shown as itself (an issue's address, a pull request's): a link when it is http or
 * https, otherwise escaped text, which no renderer links. Unlike a bare URL in escaped text, the
 * link keeps working when the address holds `_` or `~`.
 *
 * @example
 * markdownUrl('https://github.com/acme/my_repo/issues/7'); // '[https://github.com/acme/my\\_repo/issues/7](https://github.com/acme/my_repo/issues/7)'
 * markdownUrl('javascript:alert(1)'); // 'javascript:alert(1)'
 */
export function markdownUrl(url: string): string {
  return httpUrl(url) ? markdownLink(url, url) : markdownInline(url);
}

/** The URL's serialised form when it is http or https; the serialiser percent-encodes spaces and `<>`. */
function httpUrl(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}
