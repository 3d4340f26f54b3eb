import { z } from 'zod';
import { findJsonObject } from './parse-jest-json.js';
import {
  emptyParse,
  makeTestCase,
  type ParsedTests,
  type ParseOptions,
  relativePath,
  withUniqueIds,
} from './parsed-tests.js';
import type { TestStatus } from './test-run-result.js';

const MochaTest = z.looseObject({
  title: z.string(),
  fullTitle: z.string(),
  file: z.string().optional(),
  duration: z.number().optional(),
  err: z.looseObject({ message: z.string().optional(), stack: z.string().optional() }).optional(),
});
type MochaTest = z.infer<typeof MochaTest>;

const MochaReport = z.looseObject({
  stats: z.looseObject({ tests: z.number() }),
  tests: z.array(MochaTest),
  pending: z.array(MochaTest).default([]),
  failures: z.array(MochaTest).default([]),
});

const key = (test: MochaTest) => `${test.file ?? ''}\0${test.fullTitle}`;

/**
 * Mocha's `json` reporter, from its `output` file or stdout. A failing hook (`"before all" hook for
 * ...`) is listed as a failure under the hook's title. Returns null when no report is there.
 */
export function parseMochaJson(
  files: Readonly<Record<string, string>>,
  stdout: string,
  options: ParseOptions = {},
): ParsedTests | null {
  let report: z.infer<typeof MochaReport> | undefined;
  for (const source of [...Object.values(files), stdout]) {
    const result = MochaReport.safeParse(findJsonObject(source));
    if (result.success) {
      report = result.data;
      break;
    }
  }
  if (!report) return null;
  const pending = new Set(report.pending.map(key));
  const failed = new Map(report.failures.map((test) => [key(test), test]));
  const listed = new Set(report.tests.map(key));
  const hooks = report.failures.filter((test) => !listed.has(key(test)));
  const out = emptyParse();
  out.tests = withUniqueIds(
    [...report.tests, ...hooks].map((test) => {
      const failure = failed.get(key(test));
      const status: TestStatus = failure ? 'failed' : pending.has(key(test)) ? 'skipped' : 'passed';
      const suite = test.fullTitle.endsWith(test.title)
        ? test.fullTitle.slice(0, -test.title.length).trim()
        : '';
      return makeTestCase({
        file: test.file ? relativePath(test.file, options.root) : undefined,
        suitePath: suite ? [suite] : [],
        name: test.title,
        status,
        durationMs: test.duration,
        message: failure?.err?.message ?? failure?.err?.stack,
      });
    }),
  );
  if (report.stats.tests === 0 && hooks.length === 0) out.noTests = true;
  return out;
}
