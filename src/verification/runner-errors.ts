import stripAnsi from 'strip-ansi';

/**
 * Output lines that say the command stopped before (some of) its tests could run, most specific first:
 * the line that names the missing module beats the line that says collection was interrupted.
 */
const runnerErrorPatterns: readonly { cause: string; pattern: RegExp }[] = [
  { cause: 'missing module', pattern: /ModuleNotFoundError: No module named .*/ },
  { cause: 'missing module', pattern: /Cannot find (?:module|package) ['"][^'"]+['"].*/ },
  { cause: 'missing module', pattern: /\bERR_MODULE_NOT_FOUND\b.*/ },
  { cause: 'missing module', pattern: /ImportError: cannot import name .*/ },
  { cause: 'command not found', pattern: /^.*(?:command not found|: not found)$/ },
  { cause: 'command not found', pattern: /^.*\bspawn \S+ ENOENT\b.*/ },
  { cause: 'compile error', pattern: /^error\[E\d{4}\]: .*/ },
  { cause: 'compile error', pattern: /^.*\.java:\[\d+,\d+\] .*/ },
  { cause: 'compile error', pattern: /^.*error: cannot find symbol.*/ },
  { cause: 'compile error', pattern: /^.*\.go:\d+:\d+: .*/ },
  { cause: 'compile error', pattern: /^.*\.(?:c|cc|cpp|h|hpp):\d+:\d+: (?:fatal )?error: .*/ },
  { cause: 'compile error', pattern: /^.*undefined reference to .*/ },
  { cause: 'compile error', pattern: /^.*error TS\d+: .*/ },
  { cause: 'syntax error', pattern: /^\s*(?:E\s+)?SyntaxError: .*/ },
  { cause: 'compile error', pattern: /^error: could not compile .*/ },
  { cause: 'test process crashed', pattern: /^.*process didn't exit successfully: .*\(signal: .*/ },
  { cause: 'compile error', pattern: /^.*COMPILATION ERROR.*/ },
  { cause: 'compile error', pattern: /^.*Compilation failed.*/ },
  { cause: 'dependency resolution', pattern: /^.*Could not resolve dependencies.*/ },
  { cause: 'dependency resolution', pattern: /^.*no required module provides package .*/ },
  { cause: 'build failed', pattern: /^FAIL\s+\S+\s+\[(?:build|setup) failed\]$/ },
  { cause: 'collection error', pattern: /^.*ImportError while importing test module.*/ },
  { cause: 'collection error', pattern: /^.*errors? during collection.*/ },
  { cause: 'collection error', pattern: /^ERROR collecting .*/ },
  { cause: 'no make rule', pattern: /^make(?:\[\d+\])?: \*\*\* No rule to make target .*/ },
  { cause: 'test suite failed to run', pattern: /^.*Test suite failed to run.*/ },
];

/** Lines in which a runner says it found no tests. */
const noTestsPatterns: readonly RegExp[] = [
  /^=+ no tests ran\b.*/,
  /^No tests found, exiting with code \d+/,
  /^No test files found, exiting with code \d+/,
  /^Error: No test files found.*/,
  /^No tests were found!!!/,
  /^No tests to run\./,
  /^\[?(?:WARNING|ERROR)\]? No tests (?:were executed|to run).*/,
  /^No tests found for given includes.*/,
  /^\?\s+\S+\s+\[no test files\]$/,
  /^testing: warning: no tests to run$/,
];

function outputLines(text: string): string[] {
  return stripAnsi(text)
    .split(/\r?\n/)
    .map((line) => line.replace(/^\[(?:ERROR|WARNING|INFO)\]\s*/, '').trim())
    .filter((line) => line !== '');
}

/**
 * The most telling line of output that explains a run without test results, prefixed with its cause
 * (`missing module: ModuleNotFoundError: No module named 'requests'`), or undefined when none is there.
 */
export function detectRunnerError(text: string): string | undefined {
  const lines = outputLines(text);
  for (const { cause, pattern } of runnerErrorPatterns) {
    for (const line of lines) {
      const match = pattern.exec(line);
      if (match) return `${cause}: ${match[0].trim().slice(0, 300)}`;
    }
  }
  return undefined;
}

/** The line in which the runner said it found no tests, if it did. */
export function detectNoTests(text: string): string | undefined {
  const lines = outputLines(text);
  for (const pattern of noTestsPatterns) {
    const line = lines.find((candidate) => pattern.test(candidate));
    if (line) return line;
  }
  return undefined;
}

/** The last non-empty line of output, for a runner error nothing more specific explains. */
export function lastOutputLine(text: string): string | undefined {
  return outputLines(text).at(-1)?.slice(0, 300);
}
