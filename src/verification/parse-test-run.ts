import { parseCargoTest } from './parse-cargo-test.js';
import { parseGoTestJson } from './parse-go-test-json.js';
import { parseJestJson } from './parse-jest-json.js';
import { parseJunitXml } from './parse-junit-xml.js';
import { parseMochaJson } from './parse-mocha-json.js';
import { parsePlainSummary, parsePytestSummary, parseUnittest } from './parse-summaries.js';
import { parseTap } from './parse-tap.js';
import type { ParsedTests, ParseOptions } from './parsed-tests.js';
import { detectNoTests, detectRunnerError, lastOutputLine } from './runner-errors.js';
import {
  type ExitReason,
  type ParserName,
  type TestCounts,
  type TestRunOutput,
  TestRunOutput as TestRunOutputSchema,
  type TestRunResult,
} from './test-run-result.js';

type Run = ReturnType<typeof TestRunOutputSchema.parse>;
type Reader = (run: Run, options: ParseOptions) => ParsedTests | null;

const readers: Record<Exclude<ParserName, 'exit-code'>, Reader> = {
  tap: (run) => parseTap(run.stdout),
  'junit-xml': (run, options) => parseJunitXml(run.files, options),
  'jest-json': (run, options) => parseJestJson(run.files, run.stdout, options),
  'vitest-json': (run, options) => parseJestJson(run.files, run.stdout, options),
  'mocha-json': (run, options) => parseMochaJson(run.files, run.stdout, options),
  'go-test-json': (run) => parseGoTestJson(run.stdout, run.stderr),
  'cargo-test': (run) => parseCargoTest(run.stdout, run.stderr),
  'pytest-summary': (run) => parsePytestSummary(run.stdout),
  unittest: (run) => parseUnittest(`${run.stderr}\n${run.stdout}`),
  'plain-summary': (run) => parsePlainSummary(`${run.stdout}\n${run.stderr}`),
};

/** What is tried on the default output when the requested reporter left nothing, most specific first. */
const stdoutFallbacks: readonly Exclude<ParserName, 'exit-code'>[] = [
  'go-test-json',
  'tap',
  'cargo-test',
  'pytest-summary',
  'unittest',
  'plain-summary',
];

function readResults(run: Run): { parser: ParserName; parsed: ParsedTests | null; notes: string[] } {
  const notes: string[] = [];
  const options: ParseOptions = run.root ? { root: run.root } : {};
  if (run.parser !== 'auto' && run.parser !== 'exit-code') {
    const parsed = readers[run.parser](run, options);
    if (parsed) return { parser: run.parser, parsed, notes };
    const files = Object.keys(run.files);
    notes.push(
      files.length === 0
        ? `${run.parser}: no report file was read and stdout held none; the default output was tried instead`
        : `${run.parser}: ${files.join(', ')} held no report; the default output was tried instead`,
    );
  }
  for (const fallback of stdoutFallbacks) {
    if (fallback === run.parser) continue;
    const parsed = readers[fallback](run, options);
    if (parsed) return { parser: fallback, parsed, notes };
  }
  notes.push('no parser recognised the output: the run is judged by its exit code alone');
  return { parser: 'exit-code', parsed: null, notes };
}

/**
 * From the tests when the runner named them all; from its summary line when that counts more (pytest's
 * short summary lists failures only, a C harness names none).
 */
function countsOf(parsed: ParsedTests | null): TestCounts {
  const summary = parsed?.summary;
  const summarised = summary ? summary.passed + summary.failed + summary.skipped : 0;
  if (parsed && parsed.tests.length > 0 && parsed.tests.length >= summarised) {
    const passed = parsed.tests.filter((test) => test.status === 'passed').length;
    const failed = parsed.tests.filter((test) => test.status === 'failed').length;
    const skipped = parsed.tests.length - passed - failed;
    return { passed, failed, skipped, total: parsed.tests.length };
  }
  const counted = summary ?? { passed: 0, failed: 0, skipped: 0 };
  return { ...counted, total: summarised };
}

/** Signals a shell reports as exit 128 + N when a child dies of one. */
const shellSignals: Record<number, string> = {
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
};

function judge(
  run: Run,
  parsed: ParsedTests | null,
  counts: TestCounts,
): { reason: ExitReason; runnerError?: string; note?: string } {
  if (run.timedOut || run.limitHit === 'wall-time') return { reason: 'timed-out' };
  if (run.limitHit)
    return { reason: 'limit', note: `the sandbox's ${run.limitHit} limit stopped the command` };
  if (run.signal) return { reason: 'crashed' };
  const output = `${run.stdout}\n${run.stderr}`;
  const reported = parsed?.runnerErrors.length ? parsed.runnerErrors.join('; ') : undefined;
  if (counts.failed > 0) {
    return reported ? { reason: 'tests-failed', runnerError: reported } : { reason: 'tests-failed' };
  }
  if (reported) return { reason: 'runner-error', runnerError: reported };
  if (run.exitCode === 0) {
    // A reporter that ran and listed nothing found no tests, whatever the exit code says.
    if (counts.total === 0 && (parsed !== null || detectNoTests(output))) return { reason: 'no-tests' };
    return { reason: 'passed' };
  }
  const detected = detectRunnerError(output);
  if (detected) return { reason: 'runner-error', runnerError: detected };
  if (counts.total === 0 && (parsed?.noTests || detectNoTests(output))) return { reason: 'no-tests' };
  if (run.exitCode === 127)
    return { reason: 'runner-error', runnerError: 'command not found: exit code 127' };
  const signal = shellSignals[run.exitCode - 128];
  if (signal)
    return { reason: 'crashed', note: `exit code ${run.exitCode} is a shell's report of ${signal}` };
  const last = lastOutputLine(run.stderr) ?? lastOutputLine(run.stdout);
  return {
    reason: 'runner-error',
    runnerError: `exited with code ${run.exitCode} and no failing test${last ? `; last output: ${last}` : ''}`,
  };
}

/**
 * Judges a finished test command by what its reporter said, not by its exit code alone: per-test
 * results from the parser `reporterFor` chose (falling back to the default output when its report is
 * missing), counts, and why it exited. A non-zero exit is `tests-failed` only when a test failed;
 * otherwise it is `runner-error` (with the cause: a missing module, a compile error, ...) or `no-tests`.
 *
 * @example
 * const result = parseTestRun({ parser: 'go-test-json', stdout, stderr, exitCode: 1, signal: null, timedOut: false });
 * if (result.exit.reason === 'runner-error') console.log(result.runnerError);
 */
export function parseTestRun(input: TestRunOutput): TestRunResult {
  const run = TestRunOutputSchema.parse(input);
  const { parser, parsed, notes } = readResults(run);
  const counts = countsOf(parsed);
  const verdict = judge(run, parsed, counts);
  const result: TestRunResult = {
    parser,
    exit: { code: run.exitCode, reason: verdict.reason },
    tests: parsed?.tests ?? [],
    counts,
    notes: [...notes, ...(parsed?.notes ?? []), ...(verdict.note ? [verdict.note] : [])],
  };
  if (run.signal) result.exit.signal = run.signal;
  if (verdict.runnerError) result.runnerError = verdict.runnerError;
  return result;
}
