import { z } from 'zod';

/** The longest `message` a test keeps: the failure's first lines, enough to tell one failure from another. */
export const MAX_MESSAGE_CHARS = 1_000;

/** The parsers that can read a test run; `exit-code` is the verdict when none of them applied. */
export const ParserName = z.enum([
  'tap',
  'junit-xml',
  'jest-json',
  'vitest-json',
  'mocha-json',
  'go-test-json',
  'cargo-test',
  'pytest-summary',
  'unittest',
  'plain-summary',
  'exit-code',
]);
export type ParserName = z.infer<typeof ParserName>;

/** What a reporter plan asks for: one parser, or `auto` when only the command's default output is known. */
export const ParserChoice = z.union([ParserName, z.literal('auto')]);
export type ParserChoice = z.infer<typeof ParserChoice>;

export const TestStatus = z.enum(['passed', 'failed', 'skipped', 'todo']);
export type TestStatus = z.infer<typeof TestStatus>;

export const TestCase = z.strictObject({
  /** `file::suite::name` with the parts the format gives; the same test has the same id in every run. */
  id: z.string().min(1),
  name: z.string().min(1),
  file: z.string().optional(),
  suite: z.string().optional(),
  status: TestStatus,
  durationMs: z.number().nonnegative().optional(),
  /** The failure's first lines, ANSI colours removed. */
  message: z.string().max(MAX_MESSAGE_CHARS).optional(),
});
export type TestCase = z.infer<typeof TestCase>;

/**
 * Why the command ended. `tests-failed` needs a failure the runner attributed to a test; a non-zero exit
 * without one is `runner-error` (or `no-tests` when the runner said it found none).
 */
export const ExitReason = z.enum([
  'passed',
  'tests-failed',
  'no-tests',
  'runner-error',
  'crashed',
  'timed-out',
  'limit',
]);
export type ExitReason = z.infer<typeof ExitReason>;

export const TestCounts = z.strictObject({
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Skipped and todo tests. */
  skipped: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type TestCounts = z.infer<typeof TestCounts>;

export const TestRunResult = z.strictObject({
  /** The parser that read the results, or `exit-code` when none applied and only the exit code was judged. */
  parser: ParserName,
  exit: z.strictObject({
    code: z.number().int(),
    signal: z.string().optional(),
    reason: ExitReason,
  }),
  tests: z.array(TestCase),
  /** From `tests` when the runner named them, else from its own summary line. */
  counts: TestCounts,
  /** Why the command exited without (all of its) test results: a missing module, a compile error, ... */
  runnerError: z.string().optional(),
  /** What the parse had to work around: a report file that was missing, a fallback to stdout. */
  notes: z.array(z.string()),
});
export type TestRunResult = z.infer<typeof TestRunResult>;

/** One finished test command, as the sandbox returned it, plus the report files it was asked to write. */
export const TestRunOutput = z.strictObject({
  parser: ParserChoice,
  stdout: z.string(),
  stderr: z.string().default(''),
  exitCode: z.number().int(),
  signal: z.string().nullable().optional(),
  timedOut: z.boolean().default(false),
  /** The sandbox limit that stopped the command, if one did. */
  limitHit: z.string().nullable().optional(),
  /** Report files read after the run, by path; the caller removes stale ones before the run. */
  files: z.record(z.string(), z.string()).default({}),
  /** The workspace as the command saw it: absolute paths under it are made relative, so ids do not move. */
  root: z.string().optional(),
});
export type TestRunOutput = z.input<typeof TestRunOutput>;
