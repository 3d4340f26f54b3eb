import { describe, expect, it } from 'vitest';
import { pathsMentionedIn } from './risk-paths.js';

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
});
