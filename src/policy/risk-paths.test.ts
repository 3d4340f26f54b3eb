import { describe, expect, it } from 'vitest';
import { pathMentionsIn, pathsMentionedIn } from './risk-paths.js';

describe('pathsMentionedIn', () => {
  it('finds paths with directories, file names with extensions, dot files and inline code', () => {
    // Prepare
    const text = [
      'The job in `.github/workflows/ci.yml` fails (see ./src/invoice.ts:42).',
      'Also package-lock.json and .env, and `CODEOWNERS`.',
      'Mentioned again: src/invoice.ts.',
    ].join('\n');

    // Act
    const paths = pathsMentionedIn(text);

    // Assess
    expect(paths).toEqual([
      '.github/workflows/ci.yml',
      'CODEOWNERS',
      'src/invoice.ts',
      'package-lock.json',
      '.env',
    ]);
  });

  it('ignores URLs, version numbers, abbreviations and plain words', () => {
    // Act
    const paths = pathsMentionedIn(
      'See https://github.com/acme/billing/issues/1, e.g. version 1.2.3, i.e. the invoice total is wrong.',
    );

    // Assess
    expect(paths).toEqual([]);
  });

  it('takes inline code for a path only by its shape or when the repository has it', () => {
    // Prepare
    const text = '`NormalizedOptions`, `method`, `JSON.parse`, `Makefile`, `session`, `auth` and `e.g.`';

    // Act
    const alone = pathMentionsIn(text);
    const withFiles = pathMentionsIn(text, ['src/auth/session.ts', 'src/options.ts']);

    // Assess
    expect(alone.map((mention) => [mention.path, mention.because])).toEqual([
      ['Makefile', 'looks like a path: Makefile is a well-known file name'],
    ]);
    // `session` is the stem of a file, not a file or directory the repository has.
    expect(withFiles.map((mention) => mention.path)).toEqual(['Makefile', 'auth']);
    expect(withFiles.at(-1)).toEqual({
      path: 'auth',
      kind: 'exists-in-repository',
      because: 'exists in the repository: src/auth/session.ts',
      repositoryPaths: ['src/auth/session.ts'],
    });
  });
});
