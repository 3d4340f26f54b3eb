import stripAnsi from 'strip-ansi';
import { MAX_MESSAGE_CHARS, type TestCase, type TestStatus } from './test-run-result.js';

/** What one parser read from one run, before the exit is judged. */
export interface ParsedTests {
  tests: TestCase[];
  /** Failures that are not a test's: a test file that could not load, a collection or build error. */
  runnerErrors: string[];
  /** Counts the runner printed, used when it names no tests (a C harness's `3 passed, 1 failed`). */
  summary?: { passed: number; failed: number; skipped: number };
  /** The runner said it found no tests. */
  noTests?: boolean;
  notes: string[];
}

export interface ParseOptions {
  /** The workspace as the command saw it; paths under it become relative. */
  root?: string;
}

export function emptyParse(): ParsedTests {
  return { tests: [], runnerErrors: [], notes: [] };
}

const MAX_MESSAGE_LINES = 8;
const MAX_LINE_CHARS = 300;

/** The first non-empty lines of a failure, colours removed, within MAX_MESSAGE_CHARS. */
export function boundMessage(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const lines = stripAnsi(text)
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
    .slice(0, MAX_MESSAGE_LINES)
    .map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line));
  const joined = lines.join('\n');
  if (joined === '') return undefined;
  return joined.length > MAX_MESSAGE_CHARS ? `${joined.slice(0, MAX_MESSAGE_CHARS - 1)}…` : joined;
}

/** `path` relative to `root` when it lies under it; `file://` URLs too. */
export function relativePath(path: string, root: string | undefined): string {
  const plain = path.startsWith('file://') ? decodeURIComponent(path.slice('file://'.length)) : path;
  if (!root) return plain;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return plain.startsWith(prefix) ? plain.slice(prefix.length) : plain;
}

export interface TestCaseParts {
  file?: string | undefined;
  suitePath?: readonly string[];
  name: string;
  status: TestStatus;
  durationMs?: number | undefined;
  message?: string | undefined;
}

/** A test case whose id joins file, suites and name with `::` (a pytest node id reads the same way). */
export function makeTestCase(parts: TestCaseParts): TestCase {
  const suitePath = (parts.suitePath ?? []).map((part) => part.trim()).filter((part) => part !== '');
  const name = parts.name.trim() || '(unnamed)';
  const file = parts.file?.trim() || undefined;
  const suite = suitePath.length > 0 ? suitePath.join('::') : undefined;
  const test: TestCase = {
    id: [file, suite, name].filter((part) => part !== undefined).join('::'),
    name,
    status: parts.status,
  };
  if (file) test.file = file;
  if (suite) test.suite = suite;
  if (parts.durationMs !== undefined && Number.isFinite(parts.durationMs) && parts.durationMs >= 0) {
    test.durationMs = Math.round(parts.durationMs * 1000) / 1000;
  }
  const message =
    parts.status === 'failed' || parts.status === 'skipped' ? boundMessage(parts.message) : undefined;
  if (message) test.message = message;
  return test;
}

/**
 * Ids made unique: a later test with an id already seen gets `#2`, `#3`, ... in the order the runner
 * reported them (two files with a test of the same name, in a format that does not name the file).
 */
export function withUniqueIds(tests: readonly TestCase[]): TestCase[] {
  const seen = new Map<string, number>();
  return tests.map((test) => {
    const count = (seen.get(test.id) ?? 0) + 1;
    seen.set(test.id, count);
    return count === 1 ? test : { ...test, id: `${test.id}#${count}` };
  });
}

/**
 * One entry per id, for formats that report the same test twice (Surefire writes a JUnit 5 `@Nested`
 * class's tests into the outer class's file as well): a failure wins over any other status.
 */
export function mergeById(tests: readonly TestCase[]): TestCase[] {
  const byId = new Map<string, TestCase>();
  for (const test of tests) {
    const existing = byId.get(test.id);
    if (!existing || (existing.status !== 'failed' && test.status === 'failed')) byId.set(test.id, test);
  }
  return [...byId.values()];
}
