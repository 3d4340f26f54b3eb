/**
 * Finds the file paths a piece of request text mentions, in order of first mention, without
 * duplicates. A token counts as a path when it has a directory separator, a file extension, or is
 * written as inline code (`CODEOWNERS`). URLs, version numbers and abbreviations like "e.g." are
 * not paths.
 *
 * @example
 * pathsMentionedIn('The job in `.github/workflows/ci.yml` fails, see src/invoice.ts.');
 * // ['.github/workflows/ci.yml', 'src/invoice.ts']
 */
export function pathsMentionedIn(text: string): string[] {
  const found = new Set<string>();
  for (const token of candidateTokens(text)) {
    const candidate = normalisePath(token.text);
    if (candidate !== undefined && (token.quoted || looksLikePath(candidate))) found.add(candidate);
  }
  return [...found];
}

interface Token {
  text: string;
  /** Written as inline code, so the author meant a literal name. */
  quoted: boolean;
}

function* candidateTokens(text: string): Generator<Token> {
  const inlineCode = /`([^`\s]+)`/g;
  for (const match of text.matchAll(inlineCode)) {
    if (match[1]) yield { text: match[1], quoted: true };
  }
  for (const word of text.replace(inlineCode, ' ').split(/[\s"'()[\]<>{},;|]+/)) {
    if (word) yield { text: word, quoted: false };
  }
}

function normalisePath(token: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(token) || token.startsWith('mailto:')) return undefined;
  const trimmed = token
    .replace(/[.,:;!?]+$/, '')
    .replace(/^\.\//, '')
    .replace(/^\/+/, '')
    .replace(/:\d+(?::\d+)?$/, '');
  return /[\p{L}\p{N}]/u.test(trimmed) ? trimmed : undefined;
}

function looksLikePath(candidate: string): boolean {
  if (candidate.includes('/')) return /^[\w.@+~-]+(?:\/[\w.@+~-]+)*\/?$/.test(candidate);
  const file = /^([\w@+~-]*(?:\.[\w@+~-]+)*)\.([A-Za-z][A-Za-z0-9]*)$/.exec(candidate);
  if (!file) return false;
  const stem = file[1] ?? '';
  // A one-letter stem is an abbreviation ("e.g", "i.e"); an empty one is a dot file (".env").
  return stem.length !== 1;
}
