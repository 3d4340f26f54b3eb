import { z } from 'zod';
import { emptyParse, makeTestCase, type ParsedTests, withUniqueIds } from './parsed-tests.js';
import { detectRunnerError } from './runner-errors.js';
import type { TestStatus } from './test-run-result.js';

/** One `go test -json` event (test2json); `build-output` and `FailedBuild` come from Go 1.24 on. */
const GoTestEvent = z.looseObject({
  Action: z.string(),
  Package: z.string().optional(),
  ImportPath: z.string().optional(),
  Test: z.string().optional(),
  Elapsed: z.number().optional(),
  Output: z.string().optional(),
  FailedBuild: z.string().optional(),
});
type GoTestEvent = z.infer<typeof GoTestEvent>;

interface GoTest {
  pkg: string;
  name: string;
  status: TestStatus | undefined;
  elapsedSeconds: number | undefined;
  output: string[];
}

const outcome: Record<string, TestStatus> = { pass: 'passed', fail: 'failed', skip: 'skipped' };

function readEvents(stdout: string): { events: GoTestEvent[]; other: string[] } {
  const events: GoTestEvent[] = [];
  const other: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (line.startsWith('{')) {
      try {
        const event = GoTestEvent.safeParse(JSON.parse(line));
        if (event.success) {
          events.push(event.data);
          continue;
        }
      } catch {
        // Not an event: a line the test binary printed.
      }
    }
    other.push(line);
  }
  return { events, other };
}

/** The lines a test printed, without the `=== RUN` / `--- FAIL` frame lines test2json repeats. */
function testOutput(lines: readonly string[]): string {
  return lines
    .filter((line) => !/^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)|--- (?:PASS|FAIL|SKIP):)/.test(line))
    .join('');
}

/**
 * `go test -json` events. Subtests are named `Parent/child`; a parent counts only when it failed on its
 * own (every subtest passed). A package that failed without a failing test (a build error, a panic
 * before any test, a timeout) is a runner error, with `go`'s own lines (`FAIL pkg [build failed]`,
 * stderr's `undefined: x`) as the cause. Returns null when stdout holds no events.
 */
export function parseGoTestJson(stdout: string, stderr: string): ParsedTests | null {
  const { events, other } = readEvents(stdout);
  const buildFailed = other.filter((line) => /^FAIL\s+\S+\s+\[(?:build|setup) failed\]/.test(line));
  if (events.length === 0 && buildFailed.length === 0) return null;
  const out = emptyParse();
  const tests = new Map<string, GoTest>();
  const packageOutput = new Map<string, string[]>();
  const failedPackages: string[] = [];
  const failedBuilds = new Map<string, string>();
  for (const event of events) {
    const pkg = event.Package ?? event.ImportPath ?? '';
    if (event.Action === 'build-output' || !event.Test) {
      if (event.Output !== undefined)
        packageOutput.set(pkg, [...(packageOutput.get(pkg) ?? []), event.Output]);
      if (event.Action === 'fail') failedPackages.push(pkg);
      if (event.FailedBuild) failedBuilds.set(pkg, event.FailedBuild);
      continue;
    }
    const id = `${pkg}\0${event.Test}`;
    const test = tests.get(id) ?? {
      pkg,
      name: event.Test,
      status: undefined,
      elapsedSeconds: undefined,
      output: [],
    };
    tests.set(id, test);
    if (event.Output !== undefined) test.output.push(event.Output);
    const status = outcome[event.Action];
    if (status) {
      test.status = status;
      test.elapsedSeconds = event.Elapsed;
    }
  }

  const all = [...tests.values()];
  const cases = [];
  for (const test of all) {
    if (!test.status) continue;
    const children = all.filter((other) => other.pkg === test.pkg && other.name.startsWith(`${test.name}/`));
    if (
      children.length > 0 &&
      !(test.status === 'failed' && children.every((child) => child.status !== 'failed'))
    ) {
      continue;
    }
    cases.push(
      makeTestCase({
        suitePath: [test.pkg],
        name: test.name,
        status: test.status,
        durationMs: test.elapsedSeconds === undefined ? undefined : test.elapsedSeconds * 1000,
        message: test.status === 'failed' ? testOutput(test.output) : undefined,
      }),
    );
  }
  out.tests = withUniqueIds(cases);

  for (const pkg of new Set(failedPackages)) {
    if (cases.some((test) => test.suite === pkg && test.status === 'failed')) continue;
    const build = failedBuilds.get(pkg);
    const printed = [
      ...(build ? (packageOutput.get(build) ?? []) : []),
      ...(packageOutput.get(pkg) ?? []),
    ].join('');
    const cause =
      detectRunnerError(printed) ??
      printed
        .split('\n')
        .find((line) => /panic:|FAIL/.test(line))
        ?.trim();
    out.runnerErrors.push(`${pkg} failed without a failing test${cause ? `: ${cause}` : ''}`);
  }
  for (const line of buildFailed) {
    const cause = detectRunnerError(
      stderr
        .split(/\r?\n/)
        .filter((l) => !l.startsWith('#'))
        .join('\n'),
    );
    out.runnerErrors.push(`${line.trim().replace(/\s+/g, ' ')}${cause ? `: ${cause}` : ''}`);
  }
  const noTestFiles = [...packageOutput.values()].flat().some((line) => /\[no test files\]/.test(line));
  if (out.tests.length === 0 && out.runnerErrors.length === 0 && (noTestFiles || events.length > 0))
    out.noTests = true;
  return out;
}
