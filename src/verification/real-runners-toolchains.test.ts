import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTool, makeProject, runReal, statuses } from './real-runner-harness.js';

const hasPytest = spawnSync('python3', ['-m', 'pytest', '--version']).status === 0;

const pytestFile = (sum: string) => `import pytest
def add(a, b): return ${sum}
def test_ok(): assert add(1, 1) == 2
def test_sum(): assert add(2, 2) == 4, "sum wrong"
@pytest.mark.skip(reason="later")
def test_skip(): pass
@pytest.mark.xfail
def test_xfail(): assert False
class TestGroup:
    @pytest.mark.parametrize("n", [1, 2])
    def test_param(self, n): assert add(0, n) == n
`;

describe.skipIf(!hasPytest)('pytest (real, python3 -m pytest)', () => {
  it('reads the JUnit XML report, classes and parameters included, and keeps ids once fixed', () => {
    // Prepare
    const broken = makeProject({ 'tests/test_x.py': pytestFile('a + b + (1 if a == 2 else 0)') });
    const fixed = makeProject({ 'tests/test_x.py': pytestFile('a + b') });

    // Act
    const before = runReal(broken, ['python3', '-m', 'pytest', '-p', 'no:cacheprovider']);
    const after = runReal(fixed, ['python3', '-m', 'pytest', '-p', 'no:cacheprovider']);

    // Assess
    expect(before.plan.added[1]).toBe('-o');
    expect(before.result.parser).toBe('junit-xml');
    expect(statuses(before.result)).toEqual({
      'tests.test_x::test_ok': 'passed',
      'tests.test_x::test_sum': 'failed',
      'tests.test_x::test_skip': 'skipped',
      'tests.test_x::test_xfail': 'skipped',
      'tests.test_x.TestGroup::test_param[1]': 'passed',
      'tests.test_x.TestGroup::test_param[2]': 'passed',
    });
    expect(before.result.tests.find((test) => test.name === 'test_sum')?.message).toMatch(/sum wrong/);
    expect(before.result.exit.reason).toBe('tests-failed');
    expect(after.result.exit.reason).toBe('passed');
    expect(statuses(after.result)['tests.test_x::test_sum']).toBe('passed');
  });

  it('falls back to the short test summary when the report is missing', () => {
    // Prepare
    const root = makeProject({ 'tests/test_x.py': pytestFile('a + b + (1 if a == 2 else 0)') });
    const run = runReal(root, ['python3', '-m', 'pytest', '-p', 'no:cacheprovider']);

    // Act
    const fallback = runReal(root, [
      'python3',
      '-m',
      'pytest',
      '-p',
      'no:cacheprovider',
      '--junitxml=/dev/null',
    ]);

    // Assess
    expect(run.result.parser).toBe('junit-xml');
    expect(fallback.plan.added).toEqual([]);
    expect(fallback.result.parser).toBe('pytest-summary');
    expect(statuses(fallback.result)).toEqual({ 'tests/test_x.py::test_sum': 'failed' });
    expect(fallback.result.counts).toEqual({ passed: 3, failed: 1, skipped: 2, total: 6 });
    expect(fallback.result.exit.reason).toBe('tests-failed');
  });

  it('calls a module that cannot be imported a runner error (collection error), not a failing test', () => {
    // Prepare
    const root = makeProject({ 'tests/test_e.py': 'import nosuchmod\ndef test_a(): pass\n' });

    // Act
    const run = runReal(root, ['python3', '-m', 'pytest', '-p', 'no:cacheprovider']);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(
      /tests\.test_e could not be loaded: missing module: ModuleNotFoundError: No module named 'nosuchmod'/,
    );
    expect(run.result.tests).toEqual([]);
  });

  it('says no-tests for exit 5', () => {
    // Prepare
    const root = makeProject({ 'README.md': 'nothing\n' });

    // Act
    const run = runReal(root, ['python3', '-m', 'pytest', '-p', 'no:cacheprovider']);

    // Assess
    expect(run.exitCode).toBe(5);
    expect(run.result.exit.reason).toBe('no-tests');
  });
});

const cargoLib = (sum: string) => `/// Adds.
///
/// \`\`\`
/// assert_eq!(demo::add(1, 2), 3);
/// \`\`\`
pub fn add(a: i32, b: i32) -> i32 { ${sum} }
#[cfg(test)]
mod tests {
    use super::*;
    #[test] fn ok() { assert_eq!(add(1, 1), 2); }
    #[test] fn sum() { assert_eq!(add(2, 2), 4, "sum wrong"); }
    #[test] #[ignore] fn later() {}
    #[test] #[should_panic(expected = "boom")] fn panics() { panic!("boom"); }
}
`;
const cargoProject = (lib: string) => ({
  'Cargo.toml': '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n',
  'src/lib.rs': lib,
  'tests/it.rs': '#[test] fn ok() { assert_eq!(demo::add(1, 1), 2); }\n',
});

describe.skipIf(!hasTool('cargo'))('cargo test (real)', () => {
  it('reads libtest lines per target, with should-panic, ignored and doc-tests', () => {
    // Prepare
    const root = makeProject(cargoProject(cargoLib('a + b + if a == 2 { 1 } else { 0 }')));

    // Act
    const run = runReal(root, ['cargo', 'test', '--offline'], { env: { RUST_BACKTRACE: '0' } });

    // Assess
    expect(run.plan.argv).toEqual(['cargo', 'test', '--no-fail-fast', '--offline']);
    expect(run.result.parser).toBe('cargo-test');
    expect(statuses(run.result)).toEqual({
      'unittests src/lib.rs::tests::ok': 'passed',
      'unittests src/lib.rs::tests::sum': 'failed',
      'unittests src/lib.rs::tests::later': 'skipped',
      'unittests src/lib.rs::tests::panics': 'passed',
      'tests/it.rs::ok': 'passed',
      'doc-tests demo::src/lib.rs - add (line 3)': 'passed',
    });
    expect(run.result.tests.find((test) => test.name === 'tests::sum')?.message).toMatch(/sum wrong/);
    expect(run.result.exit.reason).toBe('tests-failed');
  }, 240_000);

  it('calls a compile error a runner error', () => {
    // Prepare
    const root = makeProject(cargoProject('pub fn add(a: i32, b: i32) -> i32 { a + c }\n'));

    // Act
    const run = runReal(root, ['cargo', 'test', '--offline']);

    // Assess
    expect(run.exitCode).toBe(101);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(/^compile error: error\[E0425\]/);
  }, 240_000);
});

const goTests = `package demo
import "testing"
func TestOk(t *testing.T) { if Add(1, 1) != 2 { t.Fatal("bad") } }
func TestSum(t *testing.T) { if Add(2, 2) != 4 { t.Errorf("sum wrong: %d", Add(2, 2)) } }
func TestSkip(t *testing.T) { t.Skip("later") }
func TestSub(t *testing.T) {
  t.Run("one", func(t *testing.T) {})
  t.Run("two", func(t *testing.T) { if Add(2, 0) != 2 { t.Fatal("sub wrong") } })
}
`;
const goProject = (add: string) => ({
  'go.mod': 'module example.com/demo\n\ngo 1.19\n',
  'demo.go': `package demo\nfunc Add(a, b int) int { ${add} }\n`,
  'demo_test.go': goTests,
});

describe.skipIf(!hasTool('go'))('go test -json (real)', () => {
  const env = {
    GOFLAGS: '-mod=mod',
    GOPROXY: 'off',
    GOCACHE: join(process.env.TMPDIR ?? '/tmp', 'gantry-go-cache'),
  };

  it('reads test2json events, subtests as Parent/child, the parent only when it failed on its own', () => {
    // Prepare
    const root = makeProject(goProject('if a == 2 { return a + b + 1 }; return a + b'));

    // Act
    const run = runReal(root, ['go', 'test', './...'], { env });

    // Assess
    expect(run.plan.argv).toEqual(['go', 'test', '-json', './...']);
    expect(statuses(run.result)).toEqual({
      'example.com/demo::TestOk': 'passed',
      'example.com/demo::TestSum': 'failed',
      'example.com/demo::TestSkip': 'skipped',
      'example.com/demo::TestSub/one': 'passed',
      'example.com/demo::TestSub/two': 'failed',
    });
    expect(run.result.tests.find((test) => test.name === 'TestSum')?.message).toMatch(/sum wrong: 5/);
    expect(run.result.exit.reason).toBe('tests-failed');
  }, 120_000);

  it('calls a build failure (undefined: x) a runner error', () => {
    // Prepare
    const root = makeProject(goProject('return a + missing'));

    // Act
    const run = runReal(root, ['go', 'test', './...'], { env });

    // Assess
    expect(run.exitCode).not.toBe(0);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(/\[build failed\].*undefined: missing/);
  }, 120_000);
});

const m2 = '/root/.m2/repository/org/apache/maven/plugins/maven-surefire-plugin/3.2.5';
const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>demo</groupId><artifactId>demo</artifactId><version>1.0</version>
  <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <dependencies>
    <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId><version>5.10.2</version><scope>test</scope></dependency>
  </dependencies>
  <build><plugins>
    <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin>
    <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
    <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
  </plugins></build>
</project>
`;
const javaTest = `package demo;
import static org.junit.jupiter.api.Assertions.*;
import org.junit.jupiter.api.*;
class CalcTest {
  @Test void adds() { assertEquals(2, Calc.add(1, 1)); }
  @Test void sums() { assertEquals(4, Calc.add(2, 2), "sum wrong"); }
  @Test @Disabled("later") void skipped() {}
  @Nested class Inner { @Test void deep() {} }
}
`;
const mavenProject = (add: string) => ({
  'pom.xml': pom,
  'src/main/java/demo/Calc.java': `package demo; public class Calc { public static int add(int a, int b) { ${add} } }\n`,
  'src/test/java/demo/CalcTest.java': javaTest,
});

describe.skipIf(!hasTool('mvn') || !existsSync(m2))('mvn -B -o -q test (real, offline)', () => {
  it('reads the Surefire reports, a @Nested class counted once', () => {
    // Prepare
    const root = makeProject(mavenProject('return a == 2 ? a + b + 1 : a + b;'));

    // Act
    const run = runReal(root, ['mvn', '-B', '-o', '-q', 'test']);

    // Assess
    expect(run.plan.added).toEqual([]);
    expect(run.result.parser).toBe('junit-xml');
    expect(statuses(run.result)).toEqual({
      'demo.CalcTest::adds': 'passed',
      'demo.CalcTest::sums': 'failed',
      'demo.CalcTest::skipped': 'skipped',
      'demo.CalcTest$Inner::deep': 'passed',
    });
    expect(run.result.tests.find((test) => test.name === 'sums')?.message).toMatch(
      /sum wrong ==> expected: <4> but was: <5>/,
    );
    expect(run.result.exit.reason).toBe('tests-failed');
  }, 240_000);

  it('calls a COMPILATION ERROR (cannot find symbol) a runner error', () => {
    // Prepare
    const root = makeProject(mavenProject('return missingThing(a, b);'));

    // Act
    const run = runReal(root, ['mvn', '-B', '-o', '-q', 'test']);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.result.parser).toBe('exit-code');
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(/^compile error: .*Calc\.java:\[1,\d+\] cannot find symbol/);
  }, 240_000);
});

const harness = (sum: string) => `#include <stdio.h>
static int passed, failed;
#define CHECK(name, cond) do { if (cond) { passed++; printf("ok %s\\n", name); } else { failed++; printf("FAIL %s\\n", name); } } while (0)
int add(int a, int b) { return ${sum}; }
int main(void) {
  CHECK("adds", add(1, 1) == 2);
  CHECK("sums", add(2, 2) == 4);
  printf("%d passed, %d failed\\n", passed, failed);
  return failed ? 1 : 0;
}
`;
const makefile = 'test: t\n\t./t\nt: t.c\n\tcc -o t t.c\n';

describe.skipIf(!hasTool('make') || !hasTool('cc'))('make test with a C harness (real)', () => {
  it("reads the harness's `N passed, N failed` line as counts", () => {
    // Prepare
    const root = makeProject({ Makefile: makefile, 't.c': harness('a + b + (a == 2)') });

    // Act
    const run = runReal(root, ['make', 'test']);

    // Assess
    expect(run.plan.parser).toBe('auto');
    expect(run.result.parser).toBe('plain-summary');
    expect(run.result.counts).toEqual({ passed: 1, failed: 1, skipped: 0, total: 2 });
    expect(run.result.tests).toEqual([]);
    expect(run.result.exit.reason).toBe('tests-failed');
  });

  it('calls a C compile error a runner error', () => {
    // Prepare
    const root = makeProject({ Makefile: makefile, 't.c': harness('a + missing') });

    // Act
    const run = runReal(root, ['make', 'test']);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.result.exit.reason).toBe('runner-error');
    expect(run.result.runnerError).toMatch(/^compile error: t\.c:\d+:\d+: error: .*missing/);
  });
});

describe.skipIf(!hasTool('cmake') || !hasTool('ctest') || !hasTool('cc'))(
  'ctest --output-junit (real)',
  () => {
    it('reads the JUnit report, a SKIP_RETURN_CODE test as skipped', () => {
      // Prepare
      const root = makeProject({
        't.c': harness('a + b + (a == 2)'),
        'CMakeLists.txt': `cmake_minimum_required(VERSION 3.10)
project(demo C)
enable_testing()
add_executable(t t.c)
add_test(NAME harness COMMAND t)
add_test(NAME truth COMMAND true)
add_test(NAME skipper COMMAND sh -c "exit 77")
set_tests_properties(skipper PROPERTIES SKIP_RETURN_CODE 77)
`,
      });
      const build = join(root, 'build');
      spawnSync('cmake', ['-S', root, '-B', build, '-Wno-dev'], { encoding: 'utf8' });
      spawnSync('cmake', ['--build', build], { encoding: 'utf8' });

      // Act
      const run = runReal(build, ['ctest']);

      // Assess
      expect(run.result.parser).toBe('junit-xml');
      expect(statuses(run.result)).toEqual({ harness: 'failed', truth: 'passed', skipper: 'skipped' });
      expect(run.result.tests.find((test) => test.id === 'harness')?.message).toMatch(/FAIL sums/);
      expect(run.result.exit.reason).toBe('tests-failed');
    }, 120_000);
  },
);
