import { journalFor, stepActor } from './run-context.js';
import { runtimeTestRun } from './runtime-test-run.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';

/** Feedback sent back to the patch loop is capped: the tail of a failing run says the most. */
const FEEDBACK_LIMIT = 4_000;

/**
 * The runtime, not the agent, runs the test command on the patched workspace. A failure becomes a
 * REASONING_ERROR for the next patch iteration, until the plan's iteration limit.
 */
export async function verify(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState; iteration: number; maxIterations: number },
): Promise<{ iteration: number; passed: boolean; exhausted: boolean; feedback: string }> {
  const journal = await journalFor(deps, input.run);
  const actor = stepActor('verify');
  const argv = input.repo.testCommand;
  if (!argv) {
    throw new Error('the repository has no test command, so the patch cannot be verified; add a test script');
  }
  const test = await runtimeTestRun(deps, journal, {
    key: `verify-${input.iteration}:test`,
    purpose: 'verify',
    argv,
    workspace: input.repo.workspace,
    step: 'verify',
  });
  await journal.once(`verify-${input.iteration}`, 'verification.completed', actor, async () => ({
    iteration: input.iteration,
    passed: test.passed,
    argv,
    exitCode: test.exitCode,
    output: test.output,
  }));
  const exhausted = !test.passed && input.iteration >= input.maxIterations;
  let feedback = '';
  if (!test.passed) {
    const output = await deps.artifacts.getText(test.output);
    feedback = `\`${argv.join(' ')}\` exited ${test.exitCode}${test.timedOut ? ' (timed out)' : ''}. Last output:\n${output.slice(-FEEDBACK_LIMIT)}`;
  }
  await journal.once(`patch-${input.iteration}:iteration`, 'patch.iteration', actor, async () => ({
    iteration: input.iteration,
    outcome: test.passed ? 'verified' : exhausted ? 'exhausted' : 'retry',
    feedback: feedback ? feedback.slice(0, 500) : undefined,
  }));
  return {
    iteration: test.passed || exhausted ? input.iteration : input.iteration + 1,
    passed: test.passed,
    exhausted,
    feedback,
  };
}
