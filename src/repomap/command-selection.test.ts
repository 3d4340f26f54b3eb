import { afterEach, describe, expect, it } from 'vitest';
import { lines, mapOf, removeFixtures } from './fixture-repository.test-helper.js';

afterEach(removeFixtures);

const ci = (run: string) =>
  `on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci\n      - run: ${run}\n`;

describe('merging and selecting commands', () => {
  it('merges a manifest script with the CI step and README line that run it, keeping every source', async () => {
    // Prepare / Act
    const context = await mapOf({
      'package.json': JSON.stringify({ scripts: { test: 'vitest run' } }, null, 2),
      'package-lock.json': '{}',
      '.github/workflows/ci.yml': ci('npm run test'),
      'README.md': '```sh\nnpm test\n```\n',
    });

    // Assess
    expect(lines(context.commands)).toEqual(['install: npm ci --ignore-scripts', 'test: npm test']);
    const test = context.commands[1];
    expect(test?.foundIn).toEqual([
      { source: 'manifest', declaredIn: 'package.json', line: 3 },
      { source: 'ci', declaredIn: '.github/workflows/ci.yml', line: 8 },
      { source: 'readme', declaredIn: 'README.md', line: 2 },
    ]);
    expect(test?.confidence).toBe(0.998);
    expect(context.selection?.test).toEqual({
      index: 1,
      argv: ['npm', 'test'],
      reason:
        'package.json scripts.test, also run by CI workflow .github/workflows/ci.yml line 8 (job test), written in README.md line 2 (confidence 0.998)',
    });
    expect(context.commands[0]?.foundIn?.map((origin) => origin.source)).toEqual(['manifest', 'ci']);
  });

  it('prefers the command both declared and run in CI, and puts the selected test command first', async () => {
    const context = await mapOf({
      'package.json': JSON.stringify({ scripts: { test: 'jest', 'test:ci': 'jest --ci' } }),
      '.github/workflows/ci.yml': ci('npm run test:ci'),
      'pytest.ini': '',
    });

    expect(lines(context.commands).filter((line) => line.startsWith('test'))).toEqual([
      'test: npm run test:ci',
      'test: npm test',
      'test: python3 -m pytest',
    ]);
    expect(context.selection?.test?.reason).toBe(
      'CI workflow .github/workflows/ci.yml line 8 (job test), a script of package.json (confidence 0.995); chosen over 2 other test commands',
    );
    expect(context.commands.find((command) => command.kind === 'test')?.argv).toEqual(
      context.selection?.test?.argv,
    );
  });

  it('prefers a manifest over the documents, and treats equivalent spellings as one command', async () => {
    const context = await mapOf({
      'pyproject.toml': '[tool.pytest.ini_options]\n',
      'CONTRIBUTING.md': '```sh\n$ python -m pytest -v\n$ tox -e lint\n```\n',
      '.github/workflows/ci.yml': ci('pytest'),
    });

    expect(lines(context.commands)).toEqual(['test: python3 -m pytest', 'lint: tox -e lint']);
    expect(context.commands[0]?.foundIn?.map((origin) => origin.source)).toEqual([
      'manifest',
      'ci',
      'contributing',
    ]);
    expect(context.selection?.lint?.reason).toBe('CONTRIBUTING.md line 3 (confidence 0.65)');
  });

  it('reports the package manager, test folders and CODEOWNERS path', async () => {
    const context = await mapOf({
      'package.json': JSON.stringify({ packageManager: 'pnpm@9.1.0', scripts: { test: 'vitest' } }),
      '.github/CODEOWNERS': '* @acme/core\n',
      'src/__tests__/a.test.ts': '',
      'e2e/login.spec.ts': '',
    });

    expect(context.packageManager).toEqual({ name: 'pnpm', version: '9.1.0', declaredIn: 'package.json' });
    expect(context.testFolders).toEqual(['e2e', 'src/__tests__']);
    expect(context.codeOwnersPath).toBe('.github/CODEOWNERS');
  });
});
