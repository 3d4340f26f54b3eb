import picomatch from 'picomatch';
import type { RunJournal } from '../evidence/run-journal.js';
import { TestRunResult } from '../verification/test-run-result.js';
import type { StepDeps } from './step-deps.js';

/** The recorded results of a runtime test run, by its key; undefined when it has none. */
export async function recordedResults(
  deps: StepDeps,
  journal: RunJournal,
  key: string,
): Promise<TestRunResult | undefined> {
  const run = journal.find(key, 'test.run');
  if (!run?.data.results) return undefined;
  return TestRunResult.parse(JSON.parse(await deps.artifacts.getText(run.data.results)));
}

/** The suite could not run at all: a result that says nothing about the code. */
export const couldNotRun = (result: TestRunResult, baseline?: TestRunResult) =>
  !(baseline?.exit.reason === 'passed' && unreadFailure(result)) &&
  (result.exit.reason === 'runner-error' ||
    result.exit.reason === 'no-tests' ||
    result.exit.reason === 'crashed');

/**
 * A failing run no parser could read and no known runner error explains (a home-grown harness under
 * make): it says the command failed, not why. After a baseline that passed, that failure is the
 * change's; it names no test.
 */
export const unreadFailure = (result: TestRunResult) =>
  result.parser === 'exit-code' &&
  result.exit.reason === 'runner-error' &&
  (result.runnerError === undefined || result.runnerError.startsWith('exited with code'));

/**
 * What a reproduction shows: the tests that fail now and did not fail in the baseline. With no named
 * tests (a runner whose summary only counts), more failures than the baseline's count as one unnamed.
 *
 * @example
 * newFailures(baseline, afterNewTest); // [{ id: 'invoice > zero discount', message: 'expected 153.6…' }]
 */
export function newFailures(
  baseline: TestRunResult | undefined,
  now: TestRunResult,
): { id: string; message?: string }[] {
  const failedBefore = new Set((baseline?.tests ?? []).filter((t) => t.status === 'failed').map((t) => t.id));
  if (now.tests.length > 0) {
    return now.tests
      .filter((t) => t.status === 'failed' && !failedBefore.has(t.id))
      .map((t) => ({ id: t.id, ...(t.message ? { message: t.message.slice(0, 500) } : {}) }));
  }
  const extra = now.counts.failed - (baseline?.counts.failed ?? 0);
  if (extra > 0) return [{ id: `(${extra} unnamed failing test${extra === 1 ? '' : 's'})` }];
  if (baseline?.exit.reason === 'passed' && unreadFailure(now)) {
    return [{ id: '(the test command failed; its runner names no tests)' }];
  }
  return [];
}

/**
 * Why a verification run does not prove the patch, one problem a line; empty when it does: the
 * reproduction tests pass, every test that passed in the baseline still runs and passes (none removed or
 * skipped), and nothing fails that did not fail before. Failures the baseline already had are allowed
 * unless `strict` (the repository asks for a green suite).
 */
export function verificationProblems(options: {
  baseline: TestRunResult | undefined;
  reproduction: readonly { id: string }[];
  now: TestRunResult;
  strict: boolean;
  /** Tests the repository declares environment-dependent (.gantry.yaml knownFailing): ids or globs. */
  knownFailing?: readonly string[];
}): string[] {
  const { baseline, now } = options;
  if (couldNotRun(now)) return [`the suite could not run: ${now.runnerError ?? now.exit.reason}`];
  const problems: string[] = [];
  const status = new Map(now.tests.map((t) => [t.id, t.status]));
  const named = now.tests.length > 0;
  if (named) {
    for (const test of options.reproduction) {
      if (test.id.startsWith('(')) continue;
      const result = status.get(test.id);
      if (result !== 'passed')
        problems.push(`the reproduction test ${test.id} ${result ? `is ${result}` : 'no longer runs'}`);
    }
    for (const test of baseline?.tests ?? []) {
      if (test.status !== 'passed') continue;
      const result = status.get(test.id);
      if (result === undefined)
        problems.push(`${test.id} passed in the baseline and no longer runs (removed or renamed?)`);
      else if (result !== 'passed') problems.push(`${test.id} passed in the baseline and is now ${result}`);
    }
    for (const failure of newFailures(baseline, now)) {
      if (!problems.some((problem) => problem.includes(failure.id))) problems.push(`${failure.id} fails`);
    }
  } else {
    if (now.counts.failed > (baseline?.counts.failed ?? 0))
      problems.push(
        `${now.counts.failed} tests fail, ${baseline?.counts.failed ?? 0} failed in the baseline`,
      );
    if (
      now.exit.reason !== 'passed' &&
      now.counts.failed === 0 &&
      (baseline?.exit.reason ?? 'passed') === 'passed'
    ) {
      problems.push(`the test command exited ${now.exit.code}`);
    }
  }
  if (now.counts.skipped > (baseline?.counts.skipped ?? 0)) {
    problems.push(
      `${now.counts.skipped} tests are skipped, ${baseline?.counts.skipped ?? 0} were in the baseline`,
    );
  }
  if (options.strict) {
    // A known-failing test excuses only a failure the baseline already had, never one the change made.
    const known = options.knownFailing?.length ? picomatch([...options.knownFailing]) : () => false;
    const failedBefore = new Set(
      (baseline?.tests ?? []).filter((t) => t.status === 'failed').map((t) => t.id),
    );
    const unexcused = named
      ? now.tests.filter((t) => t.status === 'failed' && !(failedBefore.has(t.id) && known(t.id)))
      : now.counts.failed > 0
        ? [{ id: 'unnamed' }]
        : [];
    if (unexcused.length > 0 || (now.exit.reason !== 'passed' && now.counts.failed === 0)) {
      problems.push('the repository asks for a green suite (strict) and it is not');
    }
  }
  return problems;
}
