import { z } from 'zod';
import {
  emptyParse,
  makeTestCase,
  type ParsedTests,
  type ParseOptions,
  relativePath,
  withUniqueIds,
} from './parsed-tests.js';
import { detectRunnerError } from './runner-errors.js';
import type { TestStatus } from './test-run-result.js';

/** The part of Jest's `--json` report (and Vitest's `json` reporter, which copies it) that names tests. */
const JestReport = z.looseObject({
  numTotalTests: z.number().optional(),
  testResults: z.array(
    z.looseObject({
      name: z.string(),
      status: z.string().optional(),
      message: z.string().optional(),
      failureMessage: z.string().nullish(),
      testExecError: z.unknown().optional(),
      assertionResults: z
        .array(
          z.looseObject({
            ancestorTitles: z.array(z.string()).default([]),
            title: z.string(),
            status: z.string(),
            duration: z.number().nullish(),
            failureMessages: z.array(z.string()).nullish(),
          }),
        )
        .default([]),
    }),
  ),
});

const statuses: Record<string, TestStatus> = {
  passed: 'passed',
  failed: 'failed',
  pending: 'skipped',
  skipped: 'skipped',
  disabled: 'skipped',
  focused: 'passed',
  todo: 'todo',
};

/** The first JSON object in `text` that parses: a report may follow a test's own console output. */
export function findJsonObject(text: string): unknown {
  const trimmed = text.trim();
  const starts = [0, ...[...trimmed.matchAll(/\n\{/g)].map((match) => match.index + 1)];
  for (const start of starts) {
    if (trimmed[start] !== '{') continue;
    const end = trimmed.lastIndexOf('}');
    if (end <= start) continue;
    try {
      return JSON.parse(trimmed.slice(start, end + 1));
    } catch {
      // A console line that starts with `{`; try the next one.
    }
  }
  return undefined;
}

/**
 * Jest's `--json` report or Vitest's `json` reporter: read from the first report file, else from
 * stdout. A test file that failed to run (no assertion results, an error message) is a runner error.
 * Returns null when no report is there.
 */
export function parseJestJson(
  files: Readonly<Record<string, string>>,
  stdout: string,
  options: ParseOptions = {},
): ParsedTests | null {
  const sources = [...Object.values(files), stdout];
  let report: z.infer<typeof JestReport> | undefined;
  for (const source of sources) {
    const result = JestReport.safeParse(findJsonObject(source));
    if (result.success) {
      report = result.data;
      break;
    }
  }
  if (!report) return null;
  const out = emptyParse();
  const tests = [];
  for (const file of report.testResults) {
    const path = relativePath(file.name, options.root);
    if (file.assertionResults.length === 0 && file.status === 'failed') {
      const message = file.message || file.failureMessage || '';
      const cause =
        detectRunnerError(message) ??
        message
          .split('\n')
          .find((line) => line.trim() !== '')
          ?.trim();
      out.runnerErrors.push(`${path} failed to run${cause ? `: ${cause}` : ''}`);
      continue;
    }
    for (const assertion of file.assertionResults) {
      const status = statuses[assertion.status] ?? 'skipped';
      tests.push(
        makeTestCase({
          file: path,
          suitePath: assertion.ancestorTitles,
          name: assertion.title,
          status,
          durationMs: assertion.duration ?? undefined,
          message: assertion.failureMessages?.[0],
        }),
      );
    }
  }
  out.tests = withUniqueIds(tests);
  if (report.testResults.length === 0 || report.numTotalTests === 0)
    out.noTests = out.runnerErrors.length === 0;
  return out;
}
