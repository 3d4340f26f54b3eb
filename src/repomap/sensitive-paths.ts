import picomatch from 'picomatch';
import type { SensitivePath } from '../domain/context.js';

/**
 * A set of paths that need extra care (infrastructure, auth, secrets, migrations), with the
 * reason a person reads when a change touches them.
 */
export interface SensitivePathRule {
  id: string;
  /** picomatch globs, matched against the whole repository-relative path, dotfiles included. */
  globs: string[];
  reason: string;
}

/**
 * Every file matching a rule, once per matching rule, in file order then rule order. Globs match
 * the whole path: `*.pem` matches only at the root, `**\/*.pem` anywhere.
 *
 * @example
 * findSensitivePaths(['infra/main.tf', 'src/app.ts'], [{ id: 'infra', globs: ['infra/**'], reason: 'Platform review' }]);
 * // [{ path: 'infra/main.tf', rule: 'infra', reason: 'Platform review' }]
 */
export function findSensitivePaths(
  files: readonly string[],
  rules: readonly SensitivePathRule[],
): SensitivePath[] {
  const matchers = rules.map((rule) => ({
    rule,
    isMatch: rule.globs.length ? picomatch(rule.globs, { dot: true }) : () => false,
  }));
  const found: SensitivePath[] = [];
  for (const file of files) {
    for (const { rule, isMatch } of matchers) {
      if (isMatch(file)) found.push({ path: file, rule: rule.id, reason: rule.reason });
    }
  }
  return found;
}
