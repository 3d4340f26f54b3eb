import { afterEach, describe, expect, it } from 'vitest';
import { lines, mapOf, removeFixtures } from './fixture-repository.test-helper.js';

afterEach(removeFixtures);

const workflow = `name: CI
on: [push]
defaults:
  run:
    working-directory: .
jobs:
  test:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: backend
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install
        run: pip install -e .[test]
      - name: Test
        run: |
          # unit tests first
          python -m pytest -q tests/unit
          cd ../web && npm test
      - name: Lint
        working-directory: web
        run: npx eslint .
      - run: docker build .
      - run: pytest --python \${{ matrix.python }}
  windows:
    runs-on: windows-latest
    steps:
      - run: cargo test
`;

describe('GitHub Actions workflows', () => {
  it('reads every run step: multi-line scripts, working directories, cd, with file and line', async () => {
    // Prepare / Act
    const context = await mapOf({
      '.github/workflows/ci.yml': workflow,
      'backend/tests/unit/test_a.py': '',
      'web/index.js': '',
    });

    // Assess
    expect(lines(context.commands)).toEqual([
      'test: python3 -m pytest -q tests/unit (in backend)',
      'test: python3 -m pytest',
      'test: npm test (in web)',
      'lint: npx eslint . (in web)',
    ]);
    expect(context.commands.map((command) => [command.source, command.declaredIn, command.line])).toEqual([
      ['ci', '.github/workflows/ci.yml', 22],
      ['convention', 'backend/tests/unit/test_a.py', undefined],
      ['ci', '.github/workflows/ci.yml', 23],
      ['ci', '.github/workflows/ci.yml', 26],
    ]);
    expect(context.commands[0]?.confidence).toBe(0.9);
    expect(context.selection?.test?.reason).toBe(
      'CI workflow .github/workflows/ci.yml line 22 (job test) (confidence 0.9); runs in backend; chosen over 2 other test commands',
    );
  });

  it('keeps actions, other programs, unreadable lines and CI-only installs as skipped steps', async () => {
    const context = await mapOf({ '.github/workflows/ci.yml': workflow, 'backend/x.py': '', 'web/x.js': '' });

    expect(
      context.skippedSteps?.map((step) => [step.uses ?? step.run, step.line, step.reason.split(':')[0]]),
    ).toEqual([
      ['actions/checkout@v4', 13, 'a GitHub Action'],
      ['actions/setup-python@v5', 14, 'a GitHub Action'],
      ['docker build .', 27, 'docker is not a build or test program Gantry runs'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
      ['pytest --python ${{ matrix.python }}', 28, 'not read'],
      [
        'pip install -e .[test]',
        18,
        "an install written in CI or the documents; the setup phase runs the manifest's install",
      ],
    ]);
  });

  it('reads GitLab CI scripts', async () => {
    const context = await mapOf({
      '.gitlab-ci.yml':
        'stages: [test]\n.template:\n  script: [make nothing]\ntest:\n  stage: test\n  script:\n    - go vet ./...\n    - go test ./...\n',
    });

    expect(lines(context.commands)).toEqual(['test: go test ./...', 'lint: go vet ./...']);
    expect(context.commands[0]).toMatchObject({ source: 'ci', declaredIn: '.gitlab-ci.yml', line: 8 });
  });
});
