import { afterEach, describe, expect, it } from 'vitest';
import { lines, mapOf, removeFixtures } from './fixture-repository.test-helper.js';

afterEach(removeFixtures);

describe('commands written in documents', () => {
  it('reads shell and console blocks of the README: prompts stripped, comments and output skipped, cd followed', async () => {
    // Prepare
    const readme = [
      '# Project',
      '',
      '```console',
      '$ cd server',
      '$ make test',
      'ok  all tests passed',
      '```',
      '',
      '```bash',
      '# the linter',
      'cargo clippy \\',
      '  --all-targets',
      'cd nowhere',
      'cargo test',
      '```',
      '',
      '```python',
      'pytest',
      '```',
    ].join('\n');

    // Act
    const context = await mapOf({ 'README.md': readme, 'server/main.c': '' });

    // Assess
    expect(lines(context.commands)).toEqual([
      'test: make test (in server)',
      'lint: cargo clippy --all-targets',
    ]);
    expect(context.commands.map((command) => [command.source, command.line, command.confidence])).toEqual([
      ['readme', 5, 0.55],
      ['readme', 11, 0.55],
    ]);
  });

  it('reads CONTRIBUTING, docs/development and AGENTS.md, inline code included outside the README', async () => {
    const context = await mapOf({
      'CONTRIBUTING.md': 'Run the tests with `pnpm test` before you open a pull request.\n',
      'docs/development.md': '```sh\n$ pnpm run typecheck\n```\n',
      'AGENTS.md': '- Lint: `pnpm lint`\n- Never run `rm -rf /`\n',
      'README.md': 'Install with `npm install acme`.\n',
    });

    expect(lines(context.commands)).toEqual([
      'test: pnpm test',
      'lint: pnpm lint',
      'typecheck: pnpm run typecheck',
    ]);
    expect(
      context.commands.map((command) => [command.source, command.declaredIn, command.confidence]),
    ).toEqual([
      ['contributing', 'CONTRIBUTING.md', 0.5],
      ['agents', 'AGENTS.md', 0.5],
      ['contributing', 'docs/development.md', 0.65],
    ]);
  });

  it('reports an install the documents ask for as skipped, not as an install the setup phase runs', async () => {
    const context = await mapOf({ 'README.md': '```sh\npip install -r requirements-dev.txt\n```\n' });

    expect(context.commands).toEqual([]);
    expect(context.skippedSteps).toEqual([
      {
        run: 'pip install -r requirements-dev.txt',
        kind: 'install',
        declaredIn: 'README.md',
        line: 2,
        source: 'readme',
        reason: "an install written in CI or the documents; the setup phase runs the manifest's install",
      },
    ]);
  });
});
