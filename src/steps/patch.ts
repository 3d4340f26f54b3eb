import { RunHaltedError } from '../domain/errors.js';
import { runWorkspacePhase } from './agent-phase.js';
import { journalFor } from './run-context.js';
import type { AgentState, RepoState, RunRef, StepDeps } from './step-deps.js';
import { verificationFeedback } from './verify.js';

const firstGoal = `Phase: patch. Change the code so that the problem is fixed and the whole test suite passes, including the reproduction test, which you must not weaken.
Run the tests to check. Then call finish with outcome "patched" and a summary of the change.`;

/** One iteration of the patch loop; from the second on, the goal carries the verifier's reasoning error. */
export async function patch(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState; iteration: number; agent: AgentState },
): Promise<AgentState> {
  const journal = await journalFor(deps, input.run);
  // Read from the log, not the workflow state: free text does not travel through sandbox task inputs.
  const feedback = input.iteration > 1 ? await verificationFeedback(deps, journal, input.iteration - 1) : '';
  const goal =
    input.iteration === 1
      ? firstGoal
      : `Phase: patch, iteration ${input.iteration}. REASONING_ERROR from the runtime's verification of your last patch:\n${feedback}\nFix the patch, run the tests, then call finish with outcome "patched".`;
  const phase = await runWorkspacePhase(deps, journal, input.repo, {
    phase: `patch-${input.iteration}`,
    goal,
    baseCommit: input.agent.workspaceCommit,
    transcript: input.agent.transcript,
    commitMessage: `fix: patch iteration ${input.iteration}`,
  });
  if (phase.finish.outcome === 'gave_up') {
    throw new RunHaltedError(`the agent gave up while patching: ${phase.finish.summary}`, {
      input: `patch-${input.iteration}`,
    });
  }
  return {
    transcript: phase.transcriptHash,
    workspaceCommit: phase.workspaceCommit,
    outcome: phase.finish.outcome,
  };
}
