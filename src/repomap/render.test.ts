import { describe, expect, it } from 'vitest';
import { RepositoryContext } from '../domain/context.js';
import { renderRepositoryMap } from './render.js';

function contextWith(overrides: Partial<RepositoryContext>): RepositoryContext {
  return RepositoryContext.parse({
    repository: 'acme/billing',
    files: [],
    languages: {},
    commands: [],
    testLinks: [],
    codeOwners: [],
    sensitivePaths: [],
    agentContextFiles: [],
    ...overrides,
  });
}

describe('renderRepositoryMap', () => {
  it('summarises files, languages, commands by kind, links, owners, sensitive paths and agent files', () => {
    // Prepare
    const context = contextWith({
      commit: '0123abc',
      files: ['AGENTS.md', 'infra/main.tf', 'src/a.test.ts', 'src/a.ts', 'src/b.ts'],
      languages: { javascript: 1, typescript: 3, python: 1 },
      commands: [
        {
          ecosystem: 'npm',
          kind: 'install',
          argv: ['npm', 'ci'],
          declaredIn: 'package.json',
          needsNetwork: true,
        },
        {
          ecosystem: 'npm',
          kind: 'test',
          argv: ['npm', 'test'],
          declaredIn: 'package.json',
          needsNetwork: false,
        },
        {
          ecosystem: 'pytest',
          kind: 'test',
          argv: ['python3', '-m', 'pytest', 'my tests'],
          declaredIn: 'pytest.ini',
          needsNetwork: false,
        },
      ],
      testLinks: Array.from({ length: 7 }, (_, index) => ({
        test: `t${index}.test.ts`,
        source: `t${index}.ts`,
      })),
      codeOwners: [
        { pattern: '*', owners: ['@acme/all'], line: 1 },
        { pattern: '/vendor/', owners: [], line: 2 },
      ],
      sensitivePaths: [{ path: 'infra/main.tf', rule: 'infra', reason: 'Changes what gets deployed' }],
      agentContextFiles: [
        { path: 'AGENTS.md', trust: 'untrusted', sha256: 'ab'.repeat(32), excerpt: 'Do things.' },
      ],
    });

    // Act
    const text = renderRepositoryMap(context);

    // Assess
    expect(text).toContain('Repository acme/billing at 0123abc\nFiles: 5\n');
    expect(text).toContain('Languages: typescript 3, javascript 1, python 1\n');
    expect(text).toContain(
      [
        'Commands:',
        '  install:',
        '    npm ci  (package.json; npm; needs network)',
        '  build: none found',
        '  test:',
        '    npm test  (package.json; npm)',
        "    python3 -m pytest 'my tests'  (pytest.ini; pytest)",
      ].join('\n'),
    );
    expect(text).toContain('Test links: 7\n  t0.test.ts -> t0.ts\n');
    expect(text).toContain('  t4.test.ts -> t4.ts\n  ... and 2 more\n');
    expect(text).not.toContain('t5.test.ts');
    expect(text).toContain('Code owners: 2 rules\n  line 1: *  @acme/all\n  line 2: /vendor/  (no owners)\n');
    expect(text).toContain('Sensitive paths: 1\n  infra/main.tf  [infra] Changes what gets deployed\n');
    expect(text).toContain(`  UNTRUSTED  AGENTS.md  sha256:${'ab'.repeat(32)}  (10 characters excerpted)\n`);
    // The excerpt is data for the agent, not something the CLI repeats as if it were guidance.
    expect(text).not.toContain('Do things.');
  });

  it('says so when a section is empty', () => {
    const text = renderRepositoryMap(contextWith({}));

    expect(text).toContain('Languages: none recognised');
    expect(text).toContain('  install: none found\n  build: none found\n  test: none found\n');
    expect(text).toContain('Code owners: none');
    expect(text).toContain('Sensitive paths: none');
    expect(text).toContain('Agent context files: none');
    expect(text).not.toContain('UNTRUSTED');
  });

  it('escapes terminal control and bidirectional characters that came from the repository', () => {
    const text = renderRepositoryMap(
      contextWith({
        sensitivePaths: [{ path: 'evil\u001b[2Jname\u202e.ts', rule: 'r', reason: 'why' }],
      }),
    );

    expect(text).toContain('evil\\u{1b}[2Jname\\u{202e}.ts');
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u202e');
  });
});

describe('renderRepositoryMap selection', () => {
  it('shows sources, directories and confidence, the chosen command of each kind and why, and steps not run', () => {
    // Prepare
    const context = contextWith({
      commands: [
        {
          ecosystem: 'npm',
          kind: 'test',
          argv: ['npm', 'test'],
          cwd: 'web',
          declaredIn: 'web/package.json',
          line: 4,
          source: 'manifest',
          confidence: 0.99,
          foundIn: [
            { source: 'manifest', declaredIn: 'web/package.json', line: 4 },
            { source: 'ci', declaredIn: '.github/workflows/ci.yml', line: 9 },
          ],
          needsNetwork: false,
        },
      ],
      selection: {
        test: { index: 0, argv: ['npm', 'test'], cwd: 'web', reason: 'web/package.json scripts.test' },
      },
      packageManager: { name: 'pnpm', version: '9.1.0', declaredIn: 'package.json' },
      testFolders: ['web/test'],
      codeOwnersPath: '.github/CODEOWNERS',
      skippedSteps: [
        {
          uses: 'actions/checkout@v4',
          declaredIn: '.github/workflows/ci.yml',
          line: 6,
          source: 'ci',
          reason: 'an action',
        },
      ],
    });

    // Act
    const text = renderRepositoryMap(context);

    // Assess
    expect(text).toContain('Package manager: pnpm@9.1.0 (package.json)\n');
    expect(text).toContain(
      '    npm test  (web/package.json:4; npm; in web; manifest 0.99; found in 2 places)\n',
    );
    expect(text).toContain(
      'Selected:\n  test: npm test (in web)\n    because web/package.json scripts.test\n',
    );
    expect(text).toContain(
      'Seen but not run: 1\n  uses actions/checkout@v4  (.github/workflows/ci.yml:6: an action)\n',
    );
    expect(text).toContain('Test folders: 1\n  web/test\n');
    expect(text).toContain('Code owners: none (.github/CODEOWNERS)\n');
  });
});
