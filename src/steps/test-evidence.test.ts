import { describe, expect, it } from 'vitest';
import type { TestRunResult } from '../verification/test-run-result.js';
import { newFailures, verificationProblems } from './test-evidence.js';

type Status = 'passed' | 'failed' | 'skipped';
const run = (
  tests: Record<string, Status>,
  reason: TestRunResult['exit']['reason'] = 'passed',
): TestRunResult => {
  const list = Object.entries(tests).map(([id, status]) => ({ id, name: id, status }));
  const count = (status: Status) => list.filter((t) => t.status === status).length;
  return {
    parser: 'tap',
    exit: { code: reason === 'passed' ? 0 : 1, reason },
    tests: list,
    counts: {
      passed: count('passed'),
      failed: count('failed'),
      skipped: count('skipped'),
      total: list.length,
    },
    notes: [],
  };
};

describe('newFailures', () => {
  it('names only the tests that fail now and did not fail in the baseline', () => {
    // Prepare
    const baseline = run({ a: 'passed', flaky: 'failed' }, 'tests-failed');

    // Act
    const failing = newFailures(
      baseline,
      run({ a: 'passed', flaky: 'failed', 'zero discount': 'failed' }, 'tests-failed'),
    );

    // Assess
    expect(failing.map((f) => f.id)).toEqual(['zero discount']);
  });

  it('finds none when only the baseline failures fail: unrelated failures are no reproduction', () => {
    // Act + Assess
    expect(
      newFailures(run({ flaky: 'failed' }, 'tests-failed'), run({ flaky: 'failed' }, 'tests-failed')),
    ).toEqual([]);
  });
});

describe('verificationProblems', () => {
  const baseline = run({ a: 'passed', b: 'passed', old: 'failed' }, 'tests-failed');
  const reproduction = [{ id: 'new' }];

  it('accepts a patch whose reproduction passes and whose baseline passes stay passing', () => {
    // Act
    const problems = verificationProblems({
      baseline,
      reproduction,
      now: run({ a: 'passed', b: 'passed', old: 'failed', new: 'passed' }, 'tests-failed'),
      strict: false,
    });

    // Assess
    expect(problems).toEqual([]);
  });

  it.each([
    ['a test deleted', { b: 'passed', new: 'passed' }, 'a passed in the baseline and no longer runs'],
    [
      'a test skipped',
      { a: 'skipped', b: 'passed', new: 'passed' },
      'a passed in the baseline and is now skipped',
    ],
    [
      'the reproduction still failing',
      { a: 'passed', b: 'passed', new: 'failed' },
      'the reproduction test new is failed',
    ],
    ['the reproduction removed', { a: 'passed', b: 'passed' }, 'the reproduction test new no longer runs'],
    [
      'a new failure',
      { a: 'passed', b: 'failed', new: 'passed' },
      'b passed in the baseline and is now failed',
    ],
  ] as const)('refuses %s', (_case, tests, problem) => {
    // Act
    const problems = verificationProblems({ baseline, reproduction, now: run(tests), strict: false });

    // Assess
    expect(problems.some((entry) => entry.startsWith(problem))).toBe(true);
  });

  it('asks for a green suite in strict mode, even when the failure predates the change', () => {
    // Act
    const problems = verificationProblems({
      baseline,
      reproduction,
      now: run({ a: 'passed', b: 'passed', old: 'failed', new: 'passed' }, 'tests-failed'),
      strict: true,
    });

    // Assess
    expect(problems).toContain('the repository asks for a green suite (strict) and it is not');
  });

  it('refuses a run that could not run at all, whatever it exited with', () => {
    // Act
    const problems = verificationProblems({
      baseline,
      reproduction,
      now: run({}, 'runner-error'),
      strict: false,
    });

    // Assess
    expect(problems[0]).toMatch(/^the suite could not run/);
  });

  it('excuses, in strict mode, a known-failing test only when the baseline already had it failing', () => {
    // Prepare
    const base = run({ a: 'passed', feed: 'failed' }, 'tests-failed');

    // Act
    const excused = verificationProblems({
      baseline: base,
      reproduction,
      now: run({ a: 'passed', feed: 'failed', new: 'passed' }, 'tests-failed'),
      strict: true,
      knownFailing: ['feed'],
    });
    const madeByTheChange = verificationProblems({
      baseline: base,
      reproduction,
      now: run({ a: 'failed', feed: 'failed', new: 'passed' }, 'tests-failed'),
      strict: true,
      knownFailing: ['a', 'feed'],
    });

    // Assess
    expect(excused).toEqual([]);
    expect(madeByTheChange).toContain('the repository asks for a green suite (strict) and it is not');
  });
});
