import { describe, expect, it } from 'vitest';
import {
  isTestFile,
  makeTestPrerequisites,
  rustTestModuleRanges,
  splitRustChange,
  testFileMatcher,
} from './test-files.js';

describe('isTestFile', () => {
  it.each([
    ['JS/TS suffixes and directories', ['src/a.test.ts', 'src/a.spec.js', 'src/__tests__/a.js', 'test/a.js']],
    ['Python', ['pkg/test_calc.py', 'pkg/calc_test.py', 'tests/helpers.py', 'conftest.py']],
    ['Go', ['internal/parse/parse_test.go']],
    [
      'Rust integration tests, benchmarks and test modules',
      ['tests/cli.rs', 'benches/speed.rs', 'src/tests.rs'],
    ],
    ['JVM source sets', ['src/test/java/com/acme/ParserTest.java', 'core/src/test/kotlin/FooTest.kt']],
    ['Kotlin Multiplatform source sets', ['src/jvmTest/kotlin/FooTest.kt', 'lib/src/commonTest/kotlin/A.kt']],
    [
      'C and C++ harnesses',
      ['t/t0001-init.sh', 'src/test_parse.c', 'parse_test.c', 'lex_test.cc', 'check_list.c'],
    ],
    ['Ruby', ['spec/models/user_spec.rb', 'lib/user_spec.rb']],
    ['shell suites', ['suite/cli.bats']],
  ])('recognises %s', (_, paths) => {
    for (const path of paths) expect(isTestFile(path), path).toBe(true);
  });

  it('does not take sources for tests', () => {
    // Prepare
    const sources = [
      'src/parse.c',
      'src/lib.rs',
      'src/main/java/com/acme/Parser.java',
      'src/jvmMain/kotlin/Foo.kt',
    ];

    // Assess
    for (const path of sources) expect(isTestFile(path), path).toBe(false);
  });

  it('counts a declared file whatever its name', () => {
    expect(isTestFile('./harness/cases.c', ['harness/cases.c'])).toBe(true);
    expect(testFileMatcher({ declared: ['harness/cases.c'] })('harness/cases.c')).toBe(true);
    expect(testFileMatcher({ patterns: ['checks/**'] })('test/a.test.js')).toBe(false);
  });
});

describe('makeTestPrerequisites', () => {
  it('lists the code a test or check target depends on, following continuations', () => {
    // Prepare
    const makefile = [
      'CFLAGS := -O2',
      'all: parse',
      'check: harness/run.c \\',
      '       harness/cases.sh $(OBJS) libparse.a | build',
      '\tcc -o run harness/run.c && ./run',
      'test:: unit/lex_cases.c',
    ].join('\n');

    // Act
    const files = makeTestPrerequisites(makefile);

    // Assess
    expect(files).toEqual(['harness/run.c', 'harness/cases.sh', 'unit/lex_cases.c']);
  });
});

const lib = [
  'pub fn add(a: i32) -> i32 {', // 1
  '    a + 1', // 2
  '}', // 3
  '', // 4
  '#[cfg(test)]', // 5
  'mod tests {', // 6
  '    use super::*;', // 7
  '', // 8
  '    #[test]', // 9
  '    fn adds_two() {', // 10
  '        assert_eq!(add(2), 3);', // 11
  '    }', // 12
  '}', // 13
  '',
].join('\n');

describe('Rust test modules', () => {
  it('finds a #[cfg(test)] module from its attribute to its closing brace', () => {
    expect(rustTestModuleRanges(lib)).toEqual([{ start: 5, end: 13 }]);
  });

  it('splits a change inside the test module from one in the code, with the file content', () => {
    // Prepare
    const patch = [
      '@@ -1,12 +1,12 @@',
      ' pub fn add(a: i32) -> i32 {',
      '-    a + 2',
      '+    a + 1',
      ' }',
      ' ',
      ' #[cfg(test)]',
      ' mod tests {',
      '     use super::*;',
      ' ',
      '     #[test]',
      '+    fn adds_two() {',
      '+        assert_eq!(add(2), 3);',
      '+    }',
    ].join('\n');

    // Act
    const change = splitRustChange(patch, lib);

    // Assess
    expect(change.otherLines).toEqual(['    a + 2', '    a + 1']);
    expect(change.testLines).toEqual(['    fn adds_two() {', '        assert_eq!(add(2), 3);', '    }']);
  });

  it('reads the test module from the hunks alone: a new module, or a hunk git labels mod tests', () => {
    // Prepare
    const newModule = [
      '@@ -3,0 +4,7 @@ pub fn add(a: i32) -> i32 {',
      '+',
      '+#[cfg(test)]',
      '+mod tests {',
      '+    #[test]',
      '+    fn adds() { assert_eq!(super::add(1), 2); }',
      '+}',
      '+pub fn after() {}',
    ].join('\n');
    const insideModule = [
      '@@ -9,3 +9,6 @@ mod tests {',
      '     #[test]',
      '+    fn more() {',
      '+    }',
      ' }',
    ].join('\n');

    // Act
    const added = splitRustChange(newModule);
    const inside = splitRustChange(insideModule);

    // Assess
    expect(added.testLines).toHaveLength(5);
    expect(added.otherLines).toEqual(['', 'pub fn after() {}']);
    expect(inside).toEqual({ testLines: ['    fn more() {', '    }'], otherLines: [] });
  });
});
