import stripAnsi from 'strip-ansi';
import { emptyParse, makeTestCase, type ParsedTests, withUniqueIds } from './parsed-tests.js';
import type { TestStatus } from './test-run-result.js';

const pytestResultLine = /^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+?)(?: - (.*))?$/;
const pytestFinalLine =
  /^=+ (.*\b(?:passed|failed|error|errors|skipped|xfailed|xpassed|deselected|no tests ran)\b.*) in [\d.]+s\b.*=+$/;
const pytestStatuses: Record<string, TestStatus> = {
  PASSED: 'passed',
  FAILED: 'failed',
  ERROR: 'failed',
  XFAIL: 'skipped',
  XPASS: 'passed',
};

/** Splits a pytest node id `tests/test_x.py::TestGroup::test_y[1]` into file, classes and name. */
function nodeIdParts(nodeId: string): { file: string | undefined; suitePath: string[]; name: string } {
  const parts = nodeId.split('::');
  if (parts.length === 1) return { file: undefined, suitePath: [], name: nodeId };
  return { file: parts[0], suitePath: parts.slice(1, -1), name: parts.at(-1) ?? nodeId };
}

function pytestCounts(line: string): { passed: number; failed: number; skipped: number } {
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}\\b`).exec(line)?.[1] ?? 0);
  return {
    passed: count('passed') + count('xpassed'),
    failed: count('failed') + count('errors?'),
    skipped: count('skipped') + count('xfailed'),
  };
}

/**
 * pytest's terminal summary, for a run whose JUnit file is missing: the `short test summary info` lines
 * (`FAILED tests/test_x.py::test_y - AssertionError`; passed tests only under `-rA`) and the final
 * `=== 1 failed, 3 passed in 0.1s ===` line. An `ERROR` of a whole module is a collection error.
 * Returns null when neither is there.
 */
export function parsePytestSummary(stdout: string): ParsedTests | null {
  const lines = stripAnsi(stdout).split(/\r?\n/);
  const final = lines.map((line) => pytestFinalLine.exec(line.trim())).findLast((match) => match !== null);
  const out = emptyParse();
  const tests = [];
  let inSummary = false;
  for (const line of lines) {
    if (/^=+ short test summary info =+$/.test(line.trim())) {
      inSummary = true;
      continue;
    }
    if (!inSummary) continue;
    if (/^=+ .* =+$/.test(line.trim())) break;
    const match = pytestResultLine.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    if (match[1] === 'ERROR' && !match[2].includes('::')) {
      out.runnerErrors.push(`collection error in ${match[2]}${match[3] ? `: ${match[3]}` : ''}`);
      continue;
    }
    tests.push(
      makeTestCase({
        ...nodeIdParts(match[2]),
        status: pytestStatuses[match[1]] ?? 'failed',
        message: match[3],
      }),
    );
  }
  if (!final && tests.length === 0 && out.runnerErrors.length === 0) return null;
  out.tests = withUniqueIds(tests);
  if (final?.[1]) {
    out.summary = pytestCounts(final[1]);
    if (/no tests ran/.test(final[1])) out.noTests = true;
  }
  return out;
}

const plainLine = /^(?:[\w-]+:\s*)?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\.?$/;
const mochaSpecLine = /^(\d+) (passing|failing|pending)(?: \(.*\))?$/;

/**
 * A closing `N passed, N failed` line (`, N skipped` may follow, one `word:` may precede it), as C
 * harnesses and shell test scripts print it, or Mocha's spec reporter's `N passing` / `N failing` /
 * `N pending`. It gives counts, never test ids. Returns null when no such line is there.
 */
export function parsePlainSummary(text: string): ParsedTests | null {
  const lines = stripAnsi(text)
    .split(/\r?\n/)
    .map((line) => line.trim());
  const plain = lines.map((line) => plainLine.exec(line)).findLast((match) => match !== null);
  const out = emptyParse();
  if (plain) {
    out.summary = { passed: Number(plain[1]), failed: Number(plain[2]), skipped: Number(plain[3] ?? 0) };
    return out;
  }
  const mocha = new Map<string, number>();
  for (const line of lines) {
    const match = mochaSpecLine.exec(line);
    if (match?.[1] && match[2]) mocha.set(match[2], Number(match[1]));
  }
  if (!mocha.has('passing') && !mocha.has('failing')) return null;
  out.summary = {
    passed: mocha.get('passing') ?? 0,
    failed: mocha.get('failing') ?? 0,
    skipped: mocha.get('pending') ?? 0,
  };
  return out;
}

const unittestVerboseLine =
  /^(\w+) \(([\w.]+)\)(?: \.\.\.|\n)? ?(?:\.\.\. )?(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$/;
const unittestProblemLine = /^(FAIL|ERROR): (\w+) \(([\w.]+)\)/;
const unittestRanLine = /^Ran (\d+) tests? in [\d.]+s$/;
const unittestResultLine = /^(OK|FAILED)(?: \((.*)\))?$/;

/**
 * Python's unittest output (`python -m unittest`, also under make or tox): with `-v`, one
 * `test_x (module.Class) ... ok|FAIL|ERROR|skipped` line a test; always the `FAIL: test_x
 * (module.Class)` blocks, `Ran N tests` and `OK` / `FAILED (failures=1, errors=1, skipped=2)`. Ids are
 * `module.Class::test_x`. Returns null when there is no `Ran N tests` line.
 *
 * @example
 * parseUnittest('FAIL: test_total (tests.test_invoice.InvoiceTest)\n...\nRan 3 tests in 0.01s\n\nFAILED (failures=1)');
 */
export function parseUnittest(text: string): ParsedTests | null {
  const lines = stripAnsi(text)
    .split(/\r?\n/)
    .map((line) => line.trimEnd());
  const ran = lines.map((line) => unittestRanLine.exec(line)).findLast((match) => match !== null);
  if (!ran?.[1]) return null;
  const out = emptyParse();
  const byId = new Map<string, TestStatus>();
  for (const line of lines) {
    const verbose = unittestVerboseLine.exec(line);
    if (verbose?.[1] && verbose[2] && verbose[3]) {
      const word = verbose[3];
      const status: TestStatus =
        word === 'ok' || word === 'unexpected success'
          ? 'passed'
          : word === 'FAIL' || word === 'ERROR'
            ? 'failed'
            : 'skipped';
      byId.set(`${verbose[2]}::${verbose[1]}`, status);
    }
    const problem = unittestProblemLine.exec(line);
    if (problem?.[2] && problem[3]) byId.set(`${problem[3]}::${problem[2]}`, 'failed');
  }
  out.tests = withUniqueIds(
    [...byId].map(([id, status]) => {
      const [suite = '', name = id] = id.split('::');
      return makeTestCase({ suitePath: [suite], name, status });
    }),
  );
  const result = lines.map((line) => unittestResultLine.exec(line)).findLast((match) => match !== null);
  const count = (word: string) => Number(new RegExp(`${word}=(\\d+)`).exec(result?.[2] ?? '')?.[1] ?? 0);
  const failed = count('failures') + count('errors');
  const skipped = count('skipped') + count('expected failures');
  out.summary = { passed: Math.max(0, Number(ran[1]) - failed - skipped), failed, skipped };
  if (Number(ran[1]) === 0) out.noTests = true;
  return out;
}
