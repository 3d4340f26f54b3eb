import { describe, expect, it } from 'vitest';
import { ownersOf, parseCodeOwners } from './code-owners.js';

describe('parseCodeOwners', () => {
  it('skips comments and blank lines, keeps line numbers, and drops trailing comments', () => {
    const rules = parseCodeOwners(
      [
        '# Global owners',
        '',
        '*   @acme/all  # everyone',
        '   ',
        '/src/my\\ dir/ @acme/spaced',
        'docs/ docs@acme.test',
      ].join('\r\n'),
    );

    expect(rules).toEqual([
      { pattern: '*', owners: ['@acme/all'], line: 3 },
      { pattern: '/src/my\\ dir/', owners: ['@acme/spaced'], line: 5 },
      { pattern: 'docs/', owners: ['docs@acme.test'], line: 6 },
    ]);
  });
});

describe('ownersOf', () => {
  const rules = parseCodeOwners(
    [
      '*           @acme/all',
      '*.js        @acme/js',
      '/build/logs/ @acme/logs',
      'apps/       @acme/apps',
      'docs/*      @acme/docs',
      '**/migrations @acme/db',
      '/src/vendor/',
      '/src/vendor/keep.js @acme/vendor',
    ].join('\n'),
  );

  it('gives the owners of the last matching rule', () => {
    expect(ownersOf('README.md', rules)).toEqual(['@acme/all']);
    expect(ownersOf('src/index.js', rules)).toEqual(['@acme/js']);
    expect(ownersOf('build/logs/2024/app.js', rules)).toEqual(['@acme/logs']);
    expect(ownersOf('services/apps/web/main.ts', rules)).toEqual(['@acme/apps']);
    expect(ownersOf('db/migrations/001.sql', rules)).toEqual(['@acme/db']);
    expect(ownersOf('src/vendor/keep.js', rules)).toEqual(['@acme/vendor']);
  });

  it('leaves paths unowned when the last match has no owners', () => {
    expect(ownersOf('src/vendor/lib.js', rules)).toEqual([]);
  });

  it("applies GitHub's docs/* to direct children only", () => {
    expect(ownersOf('docs/getting-started.md', rules)).toEqual(['@acme/docs']);
    expect(ownersOf('docs/build-app/troubleshooting.md', rules)).toEqual(['@acme/all']);
  });

  it('anchors a leading slash to the root and accepts ./-prefixed paths', () => {
    const anchored = parseCodeOwners('/README.md @acme/readme\n');

    expect(ownersOf('./README.md', anchored)).toEqual(['@acme/readme']);
    expect(ownersOf('pkg/README.md', anchored)).toEqual([]);
    expect(ownersOf('../outside.md', rules)).toEqual([]);
  });
});
