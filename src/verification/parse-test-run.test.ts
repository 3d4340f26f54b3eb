import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTestRun } from './parse-test-run.js';
import { TestRunResult } from './test-run-result.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const run = { stdout: '', stderr: '', exitCode: 0, signal: null, timedOut: false, files: {} };
const statuses = (result: TestRunResult) =>
  Object.fromEntries(result.tests.map((test) => [test.id, test.status]));

describe('parseTestRun: how the command ended', () => {
  it('is timed-out, limit or crashed before anything the output says', () => {
    // Prepare
    const failing = 'TAP version 13\nnot ok 1 - a\n1..1\n';

    // Act
    const timedOut = parseTestRun({ ...run, parser: 'tap', stdout: failing, exitCode: 1, timedOut: true });
    const limit = parseTestRun({ ...run, parser: 'tap', stdout: failing, exitCode: 1, limitHit: 'output' });
    const crashed = parseTestRun({ ...run, parser: 'tap', stdout: failing, exitCode: -1, signal: 'SIGSEGV' });

    // Assess
    expect(timedOut.exit.reason).toBe('timed-out');
    expect(limit.exit.reason).toBe('limit');
    expect(crashed.exit).toEqual({ code: -1, signal: 'SIGSEGV', reason: 'crashed' });
    expect(crashed.tests).toHaveLength(1);
  });

  it('is runner-error, not tests-failed, for a non-zero exit without a failing test', () => {
    // Act
    const generic = parseTestRun({ ...run, parser: 'auto', exitCode: 1, stderr: 'something broke\n' });
    const notFound = parseTestRun({
      ...run,
      parser: 'auto',
      exitCode: 127,
      stderr: 'sh: 1: vitest: not found\n',
    });
    const bare127 = parseTestRun({ ...run, parser: 'auto', exitCode: 127 });

    // Assess
    expect(generic).toMatchObject({
      parser: 'exit-code',
      exit: { reason: 'runner-error' },
      runnerError: 'exited with code 1 and no failing test; last output: something broke',
    });
    expect(notFound.runnerError).toBe('command not found: sh: 1: vitest: not found');
    expect(bare127.runnerError).toBe('command not found: exit code 127');
  });

  it.each([
    [
      'Traceback (most recent call last):\nModuleNotFoundError: No module named requests',
      /^missing module: ModuleNotFoundError/,
    ],
    [
      '  File "x.py", line 1\n    def (:\nSyntaxError: invalid syntax',
      /^syntax error: SyntaxError: invalid syntax/,
    ],
    ['error[E0433]: failed to resolve: use of undeclared crate', /^compile error: error\[E0433\]/],
    [
      '[ERROR] COMPILATION ERROR : \n[ERROR] /w/A.java:[3,5] cannot find symbol',
      /^compile error: \/w\/A\.java:\[3,5\] cannot find symbol/,
    ],
    [
      '# pkg\n./a.go:3:9: undefined: foo\nFAIL\tpkg [build failed]',
      /^compile error: \.\/a\.go:3:9: undefined: foo/,
    ],
    ["make: *** No rule to make target 'test'.  Stop.", /^no make rule: /],
    ['src/a.ts(1,1): error TS2307: Cannot find module', /^compile error: src\/a\.ts\(1,1\): error TS2307/],
  ])('names the cause in %j', (stderr, cause) => {
    // Act
    const result = parseTestRun({ ...run, parser: 'auto', exitCode: 1, stderr });

    // Assess
    expect(result.exit.reason).toBe('runner-error');
    expect(result.runnerError).toMatch(cause);
  });

  it('is no-tests when the runner says it found none, with any exit code', () => {
    // Act
    const jest = parseTestRun({
      ...run,
      parser: 'auto',
      exitCode: 1,
      stderr: 'No tests found, exiting with code 1\n',
    });
    const go = parseTestRun({
      ...run,
      parser: 'auto',
      exitCode: 0,
      stdout: '?   \texample.com/x\t[no test files]\n',
    });
    const emptyJunit = parseTestRun({
      ...run,
      parser: 'junit-xml',
      exitCode: 0,
      files: { 'r.xml': '<testsuites><testsuite name="pytest" tests="0"/></testsuites>' },
    });

    // Assess
    expect(jest.exit.reason).toBe('no-tests');
    expect(go.exit.reason).toBe('no-tests');
    expect(emptyJunit).toMatchObject({ parser: 'junit-xml', exit: { reason: 'no-tests' } });
  });

  it('is tests-failed when a test failed even though the exit code is 0, and passed on exit 0 otherwise', () => {
    // Act
    const contradicted = parseTestRun({
      ...run,
      parser: 'tap',
      stdout: 'TAP version 13\nnot ok 1 - a\n1..1\n',
    });
    const passed = parseTestRun({ ...run, parser: 'auto', stdout: 'all good\n' });

    // Assess
    expect(contradicted.exit.reason).toBe('tests-failed');
    expect(passed).toMatchObject({ parser: 'exit-code', exit: { reason: 'passed' } });
  });

  it('keeps a runner error beside failing tests (one package failed to build, another failed a test)', () => {
    // Prepare
    const stdout = [
      '{"Action":"run","Package":"example.com/a","Test":"TestA"}',
      '{"Action":"fail","Package":"example.com/a","Test":"TestA","Elapsed":0}',
      '{"Action":"fail","Package":"example.com/a","Elapsed":0}',
      'FAIL\texample.com/b [build failed]',
    ].join('\n');

    // Act
    const result = parseTestRun({
      ...run,
      parser: 'go-test-json',
      stdout,
      stderr: '# example.com/b\nb/b.go:1:2: undefined: x\n',
      exitCode: 2,
    });

    // Assess
    expect(result.exit.reason).toBe('tests-failed');
    expect(statuses(result)).toEqual({ 'example.com/a::TestA': 'failed' });
    expect(result.runnerError).toMatch(
      /example\.com\/b \[build failed\]: compile error: b\/b\.go:1:2: undefined: x/,
    );
  });

  it('always returns a result the schema accepts', () => {
    // Act
    const result = parseTestRun({ ...run, parser: 'jest-json', stdout: '{not json', exitCode: 1 });

    // Assess
    expect(TestRunResult.parse(result)).toEqual(result);
    expect(result.notes[0]).toMatch(/jest-json: no report file was read/);
  });
});

describe('parseTestRun: reports captured from real runners', () => {
  it('reads a Jest 30 --json report', () => {
    // Act
    const result = parseTestRun({
      ...run,
      parser: 'jest-json',
      exitCode: 1,
      files: { '/r/jest.json': fixture('jest-30-run.json') },
      root: '/workspace',
    });

    // Assess
    expect(statuses(result)).toEqual({
      'jt/a.test.js::adds': 'passed',
      'jt/a.test.js::fails': 'failed',
      'jt/a.test.js::skipped': 'skipped',
      'jt/a.test.js::todo one': 'todo',
      'jt/a.test.js::outer::inner::deep': 'passed',
    });
    expect(result.tests[1]?.message).toMatch(/^Error: expect\(received\)\.toBe\(expected\)/);
    expect(result.exit.reason).toBe('tests-failed');
  });

  it('calls a Jest suite that failed to run a runner error', () => {
    // Act
    const result = parseTestRun({
      ...run,
      parser: 'jest-json',
      exitCode: 1,
      files: { '/r/jest.json': fixture('jest-30-missing-module.json') },
      root: '/workspace',
    });

    // Assess
    expect(result.exit.reason).toBe('runner-error');
    expect(result.runnerError).toBe(
      "je/b.test.js failed to run: missing module: Cannot find module './nope' from 'b.test.js'",
    );
  });

  it('reads a Mocha 12 json report, pending tests as skipped', () => {
    // Act
    const result = parseTestRun({
      ...run,
      parser: 'mocha-json',
      exitCode: 1,
      files: { '/r/mocha.json': fixture('mocha-12-run.json') },
      root: '/workspace',
    });

    // Assess
    expect(statuses(result)).toEqual({
      'mt/a.test.cjs::adds': 'passed',
      'mt/a.test.cjs::fails': 'failed',
      'mt/a.test.cjs::skipped': 'skipped',
      'mt/a.test.cjs::pending': 'skipped',
      'mt/a.test.cjs::outer inner::deep': 'passed',
    });
    expect(result.tests[1]?.message).toBe('2 == 3');
  });

  it('calls Mocha\'s "Exception during run" (no report written) a runner error', () => {
    // Act
    const result = parseTestRun({
      ...run,
      parser: 'mocha-json',
      exitCode: 1,
      stderr:
        "\n Exception during run: Error: Cannot find module './nope'\nRequire stack:\n- /workspace/mt/e.test.cjs\n",
    });

    // Assess
    expect(result.exit.reason).toBe('runner-error');
    expect(result.runnerError).toBe("missing module: Cannot find module './nope'");
  });
});

describe('parseTestRun: formats not on this machine', () => {
  it('reads a Go 1.24 build failure from its build-output events', () => {
    // Prepare: the event shapes Go 1.24 documents for `go test -json` (this machine has Go 1.19).
    const stdout = [
      '{"ImportPath":"example.com/demo [example.com/demo.test]","Action":"build-output","Output":"# example.com/demo [example.com/demo.test]\\n"}',
      '{"ImportPath":"example.com/demo [example.com/demo.test]","Action":"build-output","Output":"./demo.go:2:25: undefined: missing\\n"}',
      '{"ImportPath":"example.com/demo [example.com/demo.test]","Action":"build-fail"}',
      '{"Action":"start","Package":"example.com/demo"}',
      '{"Action":"output","Package":"example.com/demo","Output":"FAIL\\texample.com/demo [build failed]\\n"}',
      '{"Action":"fail","Package":"example.com/demo","Elapsed":0,"FailedBuild":"example.com/demo [example.com/demo.test]"}',
    ].join('\n');

    // Act
    const result = parseTestRun({ ...run, parser: 'go-test-json', stdout, exitCode: 1 });

    // Assess
    expect(result.exit.reason).toBe('runner-error');
    expect(result.runnerError).toBe(
      'example.com/demo failed without a failing test: compile error: ./demo.go:2:25: undefined: missing',
    );
  });

  it('escapes and directives in generic TAP', () => {
    // Prepare
    const stdout =
      'TAP version 14\n1..3\nok 1 - a \\# b\nnot ok 2 - later # TODO not yet\nok 3 - c # skip no db\n';

    // Act
    const result = parseTestRun({ ...run, parser: 'tap', stdout });

    // Assess
    expect(statuses(result)).toEqual({ 'a # b': 'passed', later: 'todo', c: 'skipped' });
    expect(result.exit.reason).toBe('passed');
  });

  it("does not take a harness's `ok name` lines for TAP", () => {
    // Act
    const result = parseTestRun({
      ...run,
      parser: 'auto',
      stdout: 'ok adds\nFAIL sums\n1 passed, 1 failed\n',
      exitCode: 1,
    });

    // Assess
    expect(result).toMatchObject({ parser: 'plain-summary', exit: { reason: 'tests-failed' } });
    expect(result.counts).toEqual({ passed: 1, failed: 1, skipped: 0, total: 2 });
  });

  it("reads Mocha's spec summary when no JSON reporter could be added", () => {
    // Act
    const result = parseTestRun({
      ...run,
      parser: 'plain-summary',
      stdout: '  2 passing (5ms)\n  1 pending\n  1 failing\n',
      exitCode: 1,
    });

    // Assess
    expect(result.counts).toEqual({ passed: 2, failed: 1, skipped: 1, total: 4 });
  });

  it('bounds a failure message to its first lines', () => {
    // Prepare
    const error = Array.from({ length: 50 }, (_, index) => `line ${index} ${'x'.repeat(400)}`).join('\\n');
    const stdout = `TAP version 13\nnot ok 1 - long\n  ---\n  error: "${error}"\n  ...\n1..1\n`;

    // Act
    const result = parseTestRun({ ...run, parser: 'tap', stdout, exitCode: 1 });

    // Assess
    const message = result.tests[0]?.message ?? '';
    expect(message.split('\n').length).toBeLessThanOrEqual(8);
    expect(message.length).toBeLessThanOrEqual(1000);
  });
});

describe('parseTestRun: node:test suites', () => {
  it('keeps a describe block that failed on its own, and drops one whose test carries the failure', () => {
    // Prepare: node:test's TAP for a describe whose body threw, and one with a failing test.
    const stdout = [
      'TAP version 13',
      '# Subtest: broken suite',
      'not ok 1 - broken suite',
      '  ---',
      "  type: 'suite'",
      "  error: 'setup blew up'",
      '  ...',
      '# Subtest: plain suite',
      '    # Subtest: it fails',
      '    not ok 1 - it fails',
      '    1..1',
      'not ok 2 - plain suite',
      '  ---',
      "  type: 'suite'",
      '  ...',
      '1..2',
    ].join('\n');

    // Act
    const result = parseTestRun({ ...run, parser: 'tap', stdout, exitCode: 1 });

    // Assess
    expect(statuses(result)).toEqual({ 'broken suite': 'failed', 'plain suite::it fails': 'failed' });
    expect(result.tests[0]?.message).toBe('setup blew up');
  });
});
