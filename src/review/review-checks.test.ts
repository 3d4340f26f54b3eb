import { describe, expect, it } from 'vitest';
import { runReviewChecks } from './review-checks.js';
import { invoiceChange, invoiceTest, reviewInput } from './review-fixtures.test-support.js';
import type { DiffFile } from './unified-diff.js';

const commentOnly: DiffFile = {
  path: 'src/tax.py',
  status: 'modified',
  patch: [
    '@@ -4,3 +4,3 @@',
    ' def tax(amount):',
    '-    # rounds half up',
    '+    # rounds half to even',
    '     return amount',
  ].join('\n'),
};

describe('runReviewChecks', () => {
  it('finds nothing in a tested, complete, in-scope change', () => {
    expect(runReviewChecks(reviewInput())).toEqual([]);
  });

  it('blocks a logic change when no test changed at all, pointing at the hunk lines', () => {
    // Act
    const findings = runReviewChecks(reviewInput({ diff: [invoiceChange] }));

    // Assess
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      id: 'check:source-without-test:src/invoice.js',
      severity: 'blocker',
      source: 'check',
      check: 'source-without-test',
      file: 'src/invoice.js',
      lines: { start: 10, end: 16 },
      confidence: 1,
    });
  });

  it('does not ask for a test when only comments changed', () => {
    expect(runReviewChecks(reviewInput({ diff: [commentOnly] }))).toEqual([]);
  });

  it('flags as major a logic change whose file no changed test is linked to', () => {
    // Prepare
    const otherTest: DiffFile = {
      ...invoiceTest,
      path: 'test/customer.test.js',
      patch: invoiceTest.patch.replaceAll('invoice', 'customer'),
    };

    // Act
    const unlinked = runReviewChecks(reviewInput({ diff: [invoiceChange, otherTest] }));
    const linkedByMap = runReviewChecks(
      reviewInput({
        diff: [invoiceChange, otherTest],
        testLinks: [{ test: 'test/customer.test.js', source: 'src/invoice.js' }],
      }),
    );

    // Assess
    expect(unlinked.map((f) => [f.check, f.severity, f.file])).toEqual([
      ['source-without-test', 'major', 'src/invoice.js'],
    ]);
    expect(unlinked[0]?.consequence).toContain('test/customer.test.js');
    expect(linkedByMap).toEqual([]);
  });

  it('links a test to a source by a name that starts with the source name, or by importing it', () => {
    // Prepare: neither test shares the source's exact stem
    const byPrefix: DiffFile = {
      ...invoiceTest,
      path: 'test/invoice-zero-discount.test.js',
      patch: invoiceTest.patch.replaceAll('invoice.js', 'money.js'),
    };
    const byImport: DiffFile = { ...invoiceTest, path: 'test/totals.test.js' };
    const neither: DiffFile = {
      ...invoiceTest,
      path: 'test/totals.test.js',
      patch: invoiceTest.patch.replaceAll('invoice.js', 'money.js'),
    };

    // Act
    const check = (test: DiffFile) => runReviewChecks(reviewInput({ diff: [invoiceChange, test] }));

    // Assess
    expect(check(byPrefix)).toEqual([]);
    expect(invoiceTest.patch).toContain('invoice.js');
    expect(check(byImport)).toEqual([]);
    expect(check(neither).map((f) => f.severity)).toEqual(['major']);
  });

  it('honours custom test file patterns', () => {
    // Prepare
    const specCheck: DiffFile = {
      ...invoiceTest,
      path: 'checks/totals_check.js',
      patch: invoiceTest.patch.replaceAll('invoice', 'totals'),
    };

    // Act
    const findings = runReviewChecks(
      reviewInput({ diff: [invoiceChange, specCheck], testFilePatterns: ['checks/**'] }),
    );

    // Assess: the check file counts as a test, though not linked by name
    expect(findings.map((f) => f.severity)).toEqual(['major']);
  });

  it('blocks incomplete evidence as a finding on the whole pull request', () => {
    // Act
    const findings = runReviewChecks(
      reviewInput({ evidence: { completeness: 0.75, missing: ['reproduction', 'rollback'] } }),
    );

    // Assess
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: 'blocker',
      check: 'evidence-incomplete',
      file: '',
      lines: { start: 0, end: 0 },
    });
    expect(findings[0]?.consequence).toContain('75% complete (missing: reproduction, rollback)');
  });

  it('blocks a touched sensitive path, by glob or exact path, including the old path of a rename', () => {
    // Prepare
    const infra: DiffFile = { path: 'infra/main.tf', status: 'modified', patch: '@@ -1,2 +1,2 @@\n-a\n+b' };
    const env: DiffFile = { path: '.env', status: 'modified', patch: '@@ -3 +3 @@\n-A=1\n+A=2' };
    const movedKey: DiffFile = {
      path: 'keys/old.txt',
      status: 'renamed',
      previousPath: 'certs/site.pem',
      patch: '',
    };

    // Act
    const findings = runReviewChecks(
      reviewInput({ diff: [invoiceChange, invoiceTest, infra, env, movedKey] }),
    );

    // Assess
    expect(findings.map((f) => [f.check, f.file, f.lines])).toEqual([
      ['sensitive-path', 'infra/main.tf', { start: 1, end: 2 }],
      ['sensitive-path', '.env', { start: 3, end: 3 }],
      ['sensitive-path', 'keys/old.txt', { start: 0, end: 0 }],
    ]);
    expect(findings.every((f) => f.severity === 'blocker')).toBe(true);
    expect(findings[2]?.consequence).toContain('**/*.pem');
  });

  it('folds a broken constraint and the violation that enforces it into one blocker, and blocks other violations', () => {
    // Prepare
    const input = reviewInput({
      constraints: [
        {
          constraint: 'Do not change the public API',
          honoured: false,
          how: 'exported symbols changed: src/invoice.js',
        },
        { constraint: 'Keep the response time', honoured: false, how: 'not machine-checkable' },
      ],
      scopeViolations: [
        {
          rule: 'constraint.public-api',
          constraint: 'Do not change the public API',
          files: ['src/invoice.js'],
          message: 'In src/invoice.js, the change removed exports total.',
        },
        { rule: 'scope.ci', files: ['.github/workflows/ci.yml'], message: 'The diff changes CI files.' },
      ],
    });

    // Act
    const findings = runReviewChecks(input);

    // Assess
    expect(findings.map((f) => [f.check, f.file])).toEqual([
      ['constraint-broken', 'src/invoice.js'],
      ['constraint-broken', ''],
      ['scope-violation', '.github/workflows/ci.yml'],
    ]);
    expect(findings[0]?.lines).toEqual({ start: 10, end: 16 });
    expect(findings[0]?.consequence).toContain('removed exports total');
    expect(findings.every((f) => f.severity === 'blocker')).toBe(true);
  });
});

/** A file the pull request adds or changes, its patch made of the given added lines. */
function changed(path: string, added: string[], header = '@@ -1,1 +1,2 @@'): DiffFile {
  return { path, status: 'modified', patch: [header, ...added.map((line) => `+${line}`)].join('\n') };
}

const untested = (input: Parameters<typeof reviewInput>[0]) =>
  runReviewChecks(reviewInput(input)).filter((finding) => finding.check === 'source-without-test');

describe('runReviewChecks on the repositories people have', () => {
  it('takes a C harness test beside its source as the test', () => {
    // Prepare
    const source = changed('src/parse.c', ['  if (len == 0) return NULL;']);
    const test = changed('tests/test_parse.c', ['  assert(parse("", 0) == NULL);']);

    // Act
    const findings = untested({ diff: [source, test] });

    // Assess
    expect(findings).toEqual([]);
  });

  it('takes a C test that includes the source header, or a declared harness file, as the test', () => {
    // Prepare
    const source = changed('src/lexer.c', ['  return TOKEN_EOF;']);
    const including = changed('tests/suite.c', ['#include "../src/lexer.h"', 'START_TEST(eof) {}']);
    const declared = changed('harness/cases.c', ['CASE(lexer_eof);']);

    // Act
    const byInclude = untested({ diff: [source, including] });
    const byMakefile = untested({ diff: [source, declared], declaredTestFiles: ['harness/cases.c'] });

    // Assess
    expect(byInclude).toEqual([]);
    expect(byMakefile.map((f) => f.severity)).toEqual(['major']);
    expect(byMakefile[0]?.consequence).toContain('harness/cases.c');
  });

  it('counts a #[test] added inside #[cfg(test)] mod tests as the test of its own Rust file', () => {
    // Prepare
    const lib: DiffFile = {
      path: 'src/lib.rs',
      status: 'modified',
      patch: [
        '@@ -1,3 +1,3 @@',
        ' pub fn add(a: i32) -> i32 {',
        '-    a + 2',
        '+    a + 1',
        ' }',
        '@@ -9,3 +9,7 @@ mod tests {',
        '     #[test]',
        '     fn adds() {}',
        '+',
        '+    #[test]',
        '+    fn adds_one() { assert_eq!(add(1), 2); }',
        ' }',
      ].join('\n'),
    };
    const onlyCode: DiffFile = { ...lib, patch: lib.patch.split('@@ -9')[0]?.trimEnd() ?? '' };

    // Act
    const tested = untested({ diff: [lib] });
    const notTested = untested({ diff: [onlyCode] });

    // Assess
    expect(tested).toEqual([]);
    expect(notTested.map((f) => [f.file, f.severity])).toEqual([['src/lib.rs', 'blocker']]);
  });

  it('counts a Rust integration test for any source of its crate', () => {
    // Prepare
    const source = changed('crates/calc/src/eval.rs', ['    Ok(0)']);
    const test = changed('crates/calc/tests/cli.rs', ['#[test] fn empty() {}']);

    // Assess
    expect(untested({ diff: [source, test] })).toEqual([]);
  });

  it('links Go tests by package, JVM and Kotlin Multiplatform tests by class name', () => {
    // Prepare
    const go = [
      changed('internal/parse/lex.go', ['\treturn nil']),
      changed('internal/parse/parse_test.go', ['func TestLex(t *testing.T) {}']),
    ];
    const jvm = [
      changed('src/main/java/com/acme/Parser.java', ['    return null;']),
      changed('src/test/java/com/acme/ParserTest.java', ['  @Test void empty() {}']),
    ];
    const kmp = [
      changed('shared/src/commonMain/kotlin/com/acme/Money.kt', ['    return 0']),
      changed('shared/src/jvmTest/kotlin/com/acme/MoneyTests.kt', ['  @Test fun zero() {}']),
    ];

    // Assess
    expect(untested({ diff: go })).toEqual([]);
    expect(untested({ diff: jvm })).toEqual([]);
    expect(untested({ diff: kmp })).toEqual([]);
  });

  it('trusts the run’s own reproduction, in a test file no convention recognises, once verification passed', () => {
    // Prepare
    const source = changed('src/parse.c', ['  if (len == 0) return NULL;']);
    const reproductionTest = changed('qa/empty_input.c', ['CHECK(parse("", 0) == NULL);']);
    const reproduction = { reproduced: true, testFiles: ['qa/empty_input.c'] };
    const passed = { argv: ['make', 'check'], passed: true };

    // Act
    const trusted = untested({ diff: [source, reproductionTest], reproduction, verification: passed });
    const failed = untested({
      diff: [source, reproductionTest],
      reproduction,
      verification: { ...passed, passed: false },
    });
    const notReproduced = untested({
      diff: [source],
      reproduction: { reproduced: false, testFiles: [] },
      verification: passed,
    });

    // Assess
    expect(trusted).toEqual([]);
    expect(failed.map((f) => f.severity)).toEqual(['major']);
    expect(failed[0]?.consequence).toContain('the verification (make check) did not pass');
    expect(notReproduced.map((f) => f.severity)).toEqual(['blocker']);
    expect(notReproduced[0]?.consequence).toContain('did not reproduce the problem');
  });
});
