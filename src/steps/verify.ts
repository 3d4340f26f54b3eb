import { untrusted } from '../agent/prompt.js';
import type { RepositoryContext } from '../domain/context.js';
import { RunHaltedError } from '../domain/errors.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { checkDiffScope, type DiffScopeReport, renderViolationsForAgent } from '../policy/diff-scope.js';
import { repositoryConfigOf } from './repository-config-of.js';
import { journalFor, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';
import { recordedResults, verificationProblems } from './test-evidence.js';
import { checkTestIntegrity } from './test-integrity.js';
import { runTestSuite } from './test-suite-run.js';
import { cheapLevelProblems } from './verification-levels.js';
import { WorkspaceGit } from './workspace-git.js';

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
  // The verified tree is the commit: the work tree put back at it exactly (what a build or the agent's
  // commands left is gone; the setup phase's dependencies stay), and that commit is what gets pushed.
  const git = new WorkspaceGit(input.repo.workspace, deps.settings.workspacesDir);
  const commit = await git.head();
  if (!journal.find(`verify-${input.iteration}:test`, 'test.run')) await git.resetTo(commit);
  // The hierarchy: the cheap levels the map found first (format, lint, type-check, build), each on the
  // commit; a new failure there is the first problem. Then the suite, compared with the baseline.
  const context = JSON.parse(await deps.artifacts.getText(input.repo.context)) as RepositoryContext;
  const level = await cheapLevelProblems(deps, journal, input.repo, context, input.iteration);
  const suite = await runTestSuite(deps, journal, {
    key: `verify-${input.iteration}:test`,
    purpose: 'verify',
    argv,
    workspace: input.repo.workspace,
    step: 'verify',
    profile: input.repo.profile,
  });
  // Verification is a comparison with the baseline, test by test: the reproduction now passes, nothing
  // that passed stopped passing or running, nothing new fails. Judged once: a resumed run reads it back.
  const judged = await journal.once(
    `verify-${input.iteration}:problems`,
    'verification.judged',
    actor,
    async () => {
      const problems = verificationProblems({
        baseline: await recordedResults(deps, journal, 'baseline'),
        reproduction: journal.find('reproduction', 'reproduction.recorded')?.data.failingTests ?? [],
        now: suite.results,
        ...(await strictness(deps, journal)),
      });
      // A test that rewrites another test (or the code) while the suite runs has proven nothing.
      const rewritten = await git.trackedChanges();
      if (rewritten.length > 0) problems.push(`the test run changed tracked files: ${rewritten.join(', ')}`);
      await git.resetTo(commit);
      if (problems.length === 0)
        problems.push(...(await checkTestIntegrity(deps, journal, input.repo, input.iteration)));
      if (level) problems.unshift(level.problem);
      return { iteration: input.iteration, problems, parser: suite.results.parser };
    },
  );
  const problems = judged.problems;
  const test = { ...suite, passed: problems.length === 0, timedOut: false };
  // Passing tests are not enough: the final diff must also keep to the plan and the request's constraints.
  const scope = test.passed ? await checkScope(deps, journal, input.repo, input.iteration) : undefined;
  const passed = test.passed && scope?.violations.length === 0;
  await journal.once(`verify-${input.iteration}`, 'verification.completed', actor, async () => ({
    iteration: input.iteration,
    passed,
    argv,
    exitCode: test.exitCode,
    output: test.output,
    commit,
  }));
  if (!test.passed) await guardReflection(deps, journal, input.iteration, test.output);
  const exhausted = !passed && input.iteration >= input.maxIterations;
  const feedback = passed ? '' : await verificationFeedback(deps, journal, input.iteration);
  await journal.once(`patch-${input.iteration}:iteration`, 'patch.iteration', actor, async () => ({
    iteration: input.iteration,
    outcome: passed ? 'verified' : exhausted ? 'exhausted' : 'retry',
    feedback: feedback ? feedback.slice(0, 500) : undefined,
  }));
  return {
    iteration: passed || exhausted ? input.iteration : input.iteration + 1,
    passed,
    exhausted,
    feedback,
  };
}

/** Durations and counters differ between runs of the same failure; the failure itself does not. */
const normalise = (output: string) => output.replace(/\d+(\.\d+)?/g, '#');

/**
 * The recursion guard on reflection: when consecutive iterations fail verification with the same output,
 * feeding the same reasoning error back again will not help, so the run stops before the iteration limit.
 */
async function guardReflection(
  deps: StepDeps,
  journal: RunJournal,
  iteration: number,
  output: string,
): Promise<void> {
  const depth = deps.settings.maxReflectionDepth;
  if (iteration < depth) return;
  const outputs: string[] = [];
  for (let i = iteration - depth + 1; i <= iteration; i++) {
    const hash =
      i === iteration ? output : journal.find(`verify-${i}`, 'verification.completed')?.data.output;
    if (!hash) return;
    outputs.push(normalise(await deps.artifacts.getText(hash)));
  }
  if (outputs.every((o) => o === outputs[0])) {
    const reason = `the patch loop made no progress: the last ${depth} iterations failed verification with the same output`;
    await journal.record(`guard:reflection:${iteration}`, 'guard.tripped', stepActor('verify'), {
      guard: 'reflection',
      reason,
    });
    throw new RunHaltedError(reason, {
      input: `patch-${iteration}`,
      hint: 'the agent is not converging; narrow the request or try another model',
    });
  }
}

/** Checks the final diff against the plan's scope and the request's constraints, once per iteration. */
async function checkScope(deps: StepDeps, journal: RunJournal, repo: RepoState, iteration: number) {
  return journal.once(`verify-${iteration}:scope`, 'scope.checked', stepActor('verify'), async () => {
    const git = new WorkspaceGit(repo.workspace, deps.settings.workspacesDir);
    const plan = journal.find('plan', 'plan.created')?.data.plan;
    const report = await checkDiffScope({
      constraints: plan?.constraints ?? [],
      changedFiles: await git.changes(repo.baseCommit),
      expectedScope: plan?.expectedScope ?? [],
      testFiles: journal.find('reproduction', 'reproduction.recorded')?.data.testFiles ?? [],
      readBefore: (path) => git.show(repo.baseCommit, path),
      readAfter: (path) => git.show('HEAD', path),
    });
    return {
      iteration,
      violations: report.violations.map((v) => ({ rule: v.rule, files: v.files, message: v.message })),
      checks: report.checks,
    };
  });
}

/**
 * The reasoning error a failed verification hands the next patch iteration: the test command's failing
 * output, or the diff scope violations. Built from the run's log, so the next step reads it there
 * rather than through the workflow's state.
 */
export async function verificationFeedback(
  deps: StepDeps,
  journal: RunJournal,
  iteration: number,
): Promise<string> {
  const test = journal.find(`verify-${iteration}:test`, 'test.run')?.data;
  const judged = journal.find(`verify-${iteration}:problems`, 'verification.judged')?.data;
  const failedLevel = journal
    .events()
    .find(
      (e) => e.type === 'verification.level' && e.key.startsWith(`verify-${iteration}:`) && !e.data.passed,
    );
  if (failedLevel?.type === 'verification.level') {
    const output = await deps.artifacts.getText(failedLevel.data.output);
    return `The ${failedLevel.data.level} check \`${failedLevel.data.argv.join(' ')}\` passed on the base commit and fails on the patch (exit ${failedLevel.data.exitCode}). Its output:\n${untrusted(`${failedLevel.data.level}-output`, output.slice(-FEEDBACK_LIMIT))}`;
  }
  if (test && judged && judged.problems.length > 0) {
    const output = await deps.artifacts.getText(test.output);
    // The problems quote test names, which the repository chose: data, inside an untrusted block.
    return `Compared with the baseline run before any change, the suite shows:\n${untrusted('verification', judged.problems.join('\n'))}\n\`${test.argv.join(' ')}\` exited ${test.exitCode}. Last output:\n${untrusted('test-output', output.slice(-FEEDBACK_LIMIT))}`;
  }
  if (test && !test.passed) {
    const output = await deps.artifacts.getText(test.output);
    // The output is the repository's tests speaking: data for the model, inside an untrusted block.
    return `\`${test.argv.join(' ')}\` exited ${test.exitCode}${test.timedOut ? ' (timed out)' : ''}. Last output:\n${untrusted('test-output', output.slice(-FEEDBACK_LIMIT))}`;
  }
  const scope = journal.find(`verify-${iteration}:scope`, 'scope.checked')?.data;
  // The recorded violations are the report's own, read back from the log.
  // The violations name the changed files, whose names the repository and the model chose.
  if (scope?.violations.length)
    return `The diff scope check failed:\n${untrusted('scope-check', renderViolationsForAgent(scope as unknown as DiffScopeReport))}`;
  return '';
}

/** The repository's demand for a green suite, and the environment-dependent tests it excuses then. */
async function strictness(
  deps: StepDeps,
  journal: RunJournal,
): Promise<{ strict: boolean; knownFailing: string[] }> {
  const config = await repositoryConfigOf(deps, journal);
  return { strict: config.strict, knownFailing: config.knownFailing.map((entry) => entry.test) };
}
