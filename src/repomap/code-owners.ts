import ignore, { type Ignore } from 'ignore';
import type { CodeOwnerRule } from '../domain/context.js';
import { readRepositoryText } from './repository-files.js';

/** Where GitHub looks for CODEOWNERS, in the order it looks: the first one found is used. */
export const CODEOWNERS_LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/**
 * Parses a CODEOWNERS file: one rule per line, `pattern owner...`, with `#` comments (whole-line
 * or after the owners) and blank lines skipped. A pattern with no owners is kept: on GitHub it
 * means nobody owns those paths, overriding earlier rules.
 *
 * @example
 * parseCodeOwners('# owners\n*.ts @web\n/infra/ @platform\n');
 * // [{ pattern: '*.ts', owners: ['@web'], line: 2 }, { pattern: '/infra/', owners: ['@platform'], line: 3 }]
 */
export function parseCodeOwners(text: string): CodeOwnerRule[] {
  const rules: CodeOwnerRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    // A backslash keeps a space or a `#` inside the pattern.
    const tokens = raw.match(/(?:\\.|[^\s\\])+|\\/g) ?? [];
    const [pattern, ...rest] = tokens;
    if (!pattern || pattern.startsWith('#')) return;
    const comment = rest.findIndex((token) => token.startsWith('#'));
    const owners = comment < 0 ? rest : rest.slice(0, comment);
    rules.push({ pattern, owners, line: index + 1 });
  });
  return rules;
}

/**
 * Reads the repository's CODEOWNERS from the first of {@link CODEOWNERS_LOCATIONS} present in
 * `files`, as GitHub does; `undefined` when there is none.
 *
 * @example
 * const found = await readCodeOwners(root, files); // { path: '.github/CODEOWNERS', rules: [...] }
 */
export async function readCodeOwners(
  root: string,
  files: readonly string[],
): Promise<{ path: string; rules: CodeOwnerRule[] } | undefined> {
  const present = new Set(files);
  const location = CODEOWNERS_LOCATIONS.find((candidate) => present.has(candidate));
  if (!location) return undefined;
  const text = await readRepositoryText(root, location);
  return text === undefined ? undefined : { path: location, rules: parseCodeOwners(text) };
}

const matchers = new Map<string, Ignore>();

function matcherFor(pattern: string): Ignore {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    matcher = ignore().add(pattern);
    // Bounded: the cache only saves rebuilding matchers for the same CODEOWNERS file.
    if (matchers.size > 10_000) matchers.clear();
    matchers.set(pattern, matcher);
  }
  return matcher;
}

function matches(pattern: string, path: string): boolean {
  // GitHub does not support negation; such a line matches nothing.
  if (pattern.startsWith('!')) return false;
  const matcher = matcherFor(pattern);
  try {
    if (!matcher.ignores(path)) return false;
  } catch {
    // `ignore` refuses paths that leave the repository (`../x`); nothing in CODEOWNERS owns those.
    return false;
  }
  // Unlike .gitignore, GitHub's `docs/*` owns the files directly in docs/, not those nested deeper.
  if (pattern.endsWith('/*') && !pattern.endsWith('**/*')) {
    const segments = path.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      if (matcher.ignores(`${segments.slice(0, depth).join('/')}/`)) return false;
    }
  }
  return true;
}

/**
 * The owners of `path` under GitHub's CODEOWNERS semantics: gitignore-style patterns, and the
 * last matching rule wins (so a later rule with no owners leaves the path unowned).
 *
 * @example
 * const rules = parseCodeOwners('* @everyone\n/infra/ @platform\n');
 * ownersOf('infra/main.tf', rules); // ['@platform']
 * ownersOf('README.md', rules); // ['@everyone']
 */
export function ownersOf(path: string, rules: readonly CodeOwnerRule[]): string[] {
  const relative = path.replaceAll('\\', '/').replace(/^(?:\.\/|\/)+/, '');
  if (!relative) return [];
  for (let index = rules.length - 1; index >= 0; index -= 1) {
    const rule = rules[index];
    if (rule && matches(rule.pattern, relative)) return [...rule.owners];
  }
  return [];
}
