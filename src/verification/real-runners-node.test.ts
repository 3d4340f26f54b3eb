import { existsSync } from 'node:fs';
import { join } from 'node:path';
import stripAnsi from 'strip-ansi';
import { describe, expect, it } from 'vitest';
import { hasTool, makeProject, runReal, statuses } from './real-runner-harness.js';

const nodeTests = (sum: string) => `import { test, describe, it } from 'node:test';
import assert from 'node:assert';
const add = (a, b) => ${sum};
test('adds', () => assert.equal(add(1, 1), 2));
test('adds three', () => assert.equal(add(1, 2), 3));
test('skipped', { skip: 'not now' }, () => {});
test('todo one', { todo: true }, () => {});
describe('outer', () => {
  describe('inner', () => {
    it('deep pass', () => {});
    it('deep sum', () => assert.equal(add(2, 2), 4, 'deep sum wrong'));
  });
});
`;

describe('node --test (real, Node 20)', () => {
  it('reads TAP with nested describe blocks, skip and todo, and keeps ids between the failing and fixed run', () => {
    // Prepare
    const broken = makeProject({ 'test/sum.test.mjs': nodeTests('a + b + (a === 2 ? 1 : 0)') });
    const fixed = makeProject({ 'test/sum.test.mjs': nodeTests('a + b') });

    // Act
    const before = runReal(broken, ['node', '--test']);
    const after = runReal(fixed, ['node', '--test']);

    // Assess
    expect(before.plan.argv).toEqual(['node', '--test', '--test-reporter=tap']);
    expect(before.result.parser).toBe('tap');
    expect(statuses(before.result)).toEqual({
      adds: 'passed',
      'adds three': 'passed',
      skipped: 'skipped',
      'todo one': 'todo',
      'outer::inner::deep pass': 'passed',
      'outer::inner::deep sum': 'failed',
    });
    expect(before.result.tests.find((test) => test.id === 'outer::inner::deep sum')?.message).toContain(
      'deep sum wrong',
    );
    expect(before.result.exit.reason).toBe('tests-failed');
    expect(before.result.counts).toEqual({ passed: 3, failed: 1, skipped: 2, total: 6 });
    expect(after.result.exit.reason).toBe('passed');
    expect(after.result.tests.find((test) => test.id === 'outer::inner::deep sum')?.status).toBe('passed');
  });

  it('inserts the reporter right after --test, since options after a file name are taken for files', () => {
    // Prepare
    const root = makeProject({ 'a.test.mjs': nodeTests('a + b') });

    // Act
    const run = runReal(root, ['node', '--test', 'a.test.mjs']);

    // Assess
    expect(run.plan.argv).toEqual(['node', '--test', '--test-reporter=tap', 'a.test.mjs']);
    expect(run.result.exit.reason).toBe('passed');
    expect(run.result.counts.total).toBe(6);
  });

  it('reads `npm test` of a `node --test` script from its default output (TAP when stdout is a pipe)', () => {
    // Prepare
    const scripts = { test: 'node --test' };
    const root = makeProject({
      'package.json': JSON.stringify({ name: 'demo', private: true, scripts }),
      'test/sum.test.mjs': nodeTests('a + b + (a === 2 ? 1 : 0)'),
    });

    // Act
    const run = runReal(root, ['npm', 'test'], { scripts });

    // Assess
    expect(run.plan.added).toEqual([]);
    expect(run.plan.note).toMatch(/NODE_OPTIONS/);
    expect(run.result.parser).toBe('tap');
    expect(run.result.exit.reason).toBe('tests-failed');
    expect(run.result.tests.filter((test) => test.status === 'failed').map((test) => test.id)).toEqual([
      'outer::inner::deep sum',
    ]);
  });

  it('calls a test file that cannot import its module a runner error, not a failing test', () => {
    // Prepare
    const root = makeProject({
      'test/broken.test.mjs':
        "import { add } from '../src/missing.mjs';\nimport { test } from 'node:test';\ntest('a', () => add());\n",
      'test/fine.test.mjs': "import { test } from 'node:test';\ntest('fine', () => {});\n",
    });

    // Act
    const run = runReal(root, ['node', '--test']);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(/broken\.test\.mjs exited with code 1 .*Cannot find module/);
    expect(statuses(run.result)).toEqual({ fine: 'passed' });
  });

  it('reports a describe body that threw and a failing hook as failures of their suites', () => {
    // Prepare
    const root = makeProject({
      'a.test.mjs': `import { describe, it, before } from 'node:test';
describe('broken suite', () => { throw new Error('setup blew up'); });
describe('hooked', () => { before(() => { throw new Error('hook blew up'); }); it('never runs', () => {}); });
`,
    });

    // Act
    const run = runReal(root, ['node', '--test']);

    // Assess
    expect(statuses(run.result)).toEqual({
      'broken suite': 'failed',
      hooked: 'failed',
      'hooked::never runs': 'skipped',
    });
    expect(run.result.tests.map((test) => test.message)).toEqual([
      'setup blew up',
      'test did not finish before its parent and was cancelled',
      'hook blew up',
    ]);
    expect(run.result.exit.reason).toBe('tests-failed');
  });

  it('says no-tests when node finds no test files', () => {
    // Prepare
    const root = makeProject({ 'README.md': 'no tests here\n' });

    // Act
    const run = runReal(root, ['node', '--test']);

    // Assess
    expect(run.result.exit.reason).toBe('no-tests');
  });
});

const vitestBin = join(process.cwd(), 'node_modules/.bin/vitest');
const vitestTests = (sum: string) => `import { describe, it, test, expect } from 'vitest';
const add = (a, b) => ${sum};
test('adds', () => expect(add(1, 1)).toBe(2));
test('adds three', () => expect(add(1, 2)).toBe(3));
test.skip('skipped', () => {});
test.todo('todo one');
describe('outer', () => { describe('inner', () => { it('deep', () => expect(add(2, 2)).toBe(4)); }); });
`;

describe.skipIf(!existsSync(vitestBin))('vitest (real, the project’s own)', () => {
  it('reads the JSON report written beside the default output', () => {
    // Prepare
    const root = makeProject({
      'package.json': '{"name":"demo","type":"module"}',
      'sum.test.mjs': vitestTests('a + b + (a === 2 ? 1 : 0)'),
    });

    // Act
    const run = runReal(root, [vitestBin, 'run', '--root', root]);

    // Assess
    expect(run.plan.added).toEqual(expect.arrayContaining(['--reporter=default', '--reporter=json']));
    expect(run.result.parser).toBe('vitest-json');
    expect(statuses(run.result)).toEqual({
      'sum.test.mjs::adds': 'passed',
      'sum.test.mjs::adds three': 'passed',
      'sum.test.mjs::skipped': 'skipped',
      'sum.test.mjs::todo one': 'todo',
      'sum.test.mjs::outer::inner::deep': 'failed',
    });
    expect(run.result.exit.reason).toBe('tests-failed');
    expect(stripAnsi(run.stdout)).toMatch(/Tests\s+1 failed/);
  });

  it('calls a test file whose import is missing a runner error', () => {
    // Prepare
    const root = makeProject({
      'package.json': '{"name":"demo","type":"module"}',
      'broken.test.mjs':
        "import { add } from './missing.mjs';\nimport { test } from 'vitest';\ntest('a', () => add());\n",
    });

    // Act
    const run = runReal(root, [vitestBin, 'run', '--root', root]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(
      /broken\.test\.mjs failed to run: missing module: Cannot find module/,
    );
  });
});

describe.skipIf(!hasTool('npm'))('a missing runner (real npm)', () => {
  it('calls `command not found` (exit 127) a runner error', () => {
    // Prepare
    const scripts = { test: 'jest-that-is-not-installed --ci' };
    const root = makeProject({ 'package.json': JSON.stringify({ name: 'demo', private: true, scripts }) });

    // Act
    const run = runReal(root, ['npm', 'test'], { scripts });

    // Assess
    expect(run.exitCode).toBe(127);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(/^command not found: .*not found/);
  });
});

/**
 * Jest and Mocha are not Gantry's dependencies: these run when they resolve from the project or from
 * the node_modules folder named by GANTRY_TEST_JS_RUNNERS; otherwise the parsers are checked against
 * reports captured from jest 30.5.2 and mocha 12.0.3 (fixtures/).
 */
function runnerBin(pkg: string, bin: string): string | undefined {
  const dirs = [process.env.GANTRY_TEST_JS_RUNNERS, join(process.cwd(), 'node_modules')];
  return dirs.map((dir) => dir && join(dir, pkg, bin)).find((path) => path !== undefined && existsSync(path));
}
const jestBin = runnerBin('jest', 'bin/jest.js');
const mochaBin = runnerBin('mocha', 'bin/mocha.js');

describe.skipIf(jestBin === undefined)('jest (real, when installed)', () => {
  it('reads the --json report and calls a missing module a runner error', () => {
    // Prepare
    const root = makeProject({
      'jest.config.cjs': 'module.exports = {};\n',
      'a.test.js': "test('adds', () => expect(1 + 1).toBe(2));\ntest('sums', () => expect(2 + 2).toBe(5));\n",
    });
    const broken = makeProject({
      'jest.config.cjs': 'module.exports = {};\n',
      'b.test.js': "require('./nope');\ntest('a', () => {});\n",
    });

    // Act
    const run = runReal(root, ['node', jestBin ?? '', '--rootDir', root]);
    const failed = runReal(broken, ['node', jestBin ?? '', '--rootDir', broken]);

    // Assess
    expect(run.plan.runner).toBe('jest');
    expect(run.result.parser).toBe('jest-json');
    expect(statuses(run.result)).toEqual({ 'a.test.js::adds': 'passed', 'a.test.js::sums': 'failed' });
    expect(run.result.exit.reason).toBe('tests-failed');
    expect(failed.result.exit.reason).toBe('runner-error');
    expect(failed.result.runnerError).toMatch(
      /b\.test\.js failed to run: missing module: Cannot find module '\.\/nope'/,
    );
  });
});

describe.skipIf(mochaBin === undefined)('mocha (real, when installed)', () => {
  it('reads the json reporter output file and calls a missing module a runner error', () => {
    // Prepare
    const root = makeProject({
      'a.test.cjs':
        "const assert = require('node:assert');\ndescribe('math', () => { it('adds', () => assert.equal(1 + 1, 2)); it('sums', () => assert.equal(2 + 2, 5)); });\n",
    });
    const broken = makeProject({ 'e.test.cjs': "require('./nope');\nit('a', () => {});\n" });

    // Act
    const run = runReal(root, [mochaBin ?? '', 'a.test.cjs']);
    const failed = runReal(broken, [mochaBin ?? '', 'e.test.cjs']);

    // Assess
    expect(run.result.parser).toBe('mocha-json');
    expect(statuses(run.result)).toEqual({
      'a.test.cjs::math::adds': 'passed',
      'a.test.cjs::math::sums': 'failed',
    });
    expect(failed.result.exit.reason).toBe('runner-error');
    expect(failed.result.runnerError).toMatch(/^missing module: Cannot find module '\.\/nope'/);
  });
});
