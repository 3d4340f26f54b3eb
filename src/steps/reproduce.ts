import { RunHaltedError } from '../domain/errors.js';
import { runWorkspacePhase } from './agent-phase.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { AgentState, RepoState, RunRef, StepDeps } from './step-deps.js';
import { couldNotRun, newFailures, recordedResults } from './test-evidence.js';
import { runTestSuite } from './test-suite-run.js';

const goal = `Phase: reproduce. Find the cause of the problem and add or change a test that fails because of it. Do not fix the problem yet.
When the test is in place, call finish with outcome "reproduced" and the test files. If the problem cannot be shown by a test, call finish with outcome "not_reproducible" and say why in the summary.`;

/**
 * The agent writes a failing test; the runtime then runs the test command itself and records whether it
 * really fails before any patch. A claim of reproduction that the tests do not bear out is recorded as such.
 */
export async function reproduce(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState },
): Promise<AgentState> {
  const journal = await journalFor(deps, input.run);
  const phase = await runWorkspacePhase(deps, journal, input.repo, {
    phase: 'reproduce',
    goal,
    baseCommit: input.repo.baseCommit,
    transcript: undefined,
    commitMessage: 'test: reproduce the reported problem',
  });
  const { finish } = phase;
  if (finish.outcome === 'gave_up') {
    throw new RunHaltedError(`the agent gave up while reproducing: ${finish.summary}`, {
      input: 'reproduce',
    });
  }

  const actor = stepActor('reproduce');
  const argv = input.repo.testCommand;
  if (finish.outcome === 'reproduced' && argv) {
    const test = await runTestSuite(deps, journal, {
      key: 'reproduce:confirm',
      purpose: 'reproduce',
      argv,
      workspace: input.repo.workspace,
      step: 'reproduce',
      profile: input.repo.profile,
    });
    const baseline = await recordedResults(deps, journal, 'baseline');
    // A reproduction is a named test failing that did not fail before: not any non-zero exit.
    const failing = newFailures(baseline, test.results);
    await journal.once('reproduction', 'reproduction.recorded', actor, async () => {
      if (test.results.exit.reason === 'passed' || test.passed) {
        return {
          reproduced: false,
          testFiles: finish.testFiles,
          reason: `the agent reported a reproduction, but \`${argv.join(' ')}\` passed before any patch`,
        };
      }
      if (couldNotRun(test.results, baseline)) {
        return {
          reproduced: false,
          testFiles: finish.testFiles,
          reason: `the agent reported a reproduction, but \`${argv.join(' ')}\` could not run (${test.results.exit.reason}: ${test.results.runnerError ?? `exit ${test.exitCode}`}): a runner error is not a failing test`,
        };
      }
      if (failing.length === 0) {
        return {
          reproduced: false,
          testFiles: finish.testFiles,
          reason: `the agent reported a reproduction, but only tests that already failed in the baseline fail`,
        };
      }
      return {
        reproduced: true,
        argv,
        exitCode: test.exitCode,
        output: test.output,
        testFiles: finish.testFiles,
        failingTests: failing,
      };
    });
  } else {
    await journal.once('reproduction', 'reproduction.recorded', actor, async () => ({
      reproduced: false,
      testFiles: finish.testFiles,
      reason: argv ? finish.summary : `the repository has no test command; ${finish.summary}`,
    }));
  }
  // No patch without a proof of the problem where the contract asks for one: the run ends here.
  const recorded = journal.find('reproduction', 'reproduction.recorded')?.data;
  const contract = deps.capabilities.get(requestOf(journal).capability);
  const needsReproduction = contract.requiredEvidence.some(
    (kind) => kind === 'reproduction' || kind === 'failing-test-before',
  );
  if (needsReproduction && !recorded?.reproduced) {
    throw new RunHaltedError(
      `the problem was not reproduced (${recorded?.reason ?? 'no reproduction recorded'}), and the ${contract.id} contract needs a failing test before any patch`,
      {
        input: 'reproduce',
        hint: 'a person should look at the request: it may not be a bug, or it may need a test Gantry cannot write here',
      },
    );
  }
  return {
    transcript: phase.transcriptHash,
    workspaceCommit: phase.workspaceCommit,
    outcome: finish.outcome,
  };
}
