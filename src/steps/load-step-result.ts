import { GantryError } from '../domain/errors.js';
import { readStepOutput, stepKey } from '../workflows/step-journal.js';
import { journalFor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/**
 * Brings a sandbox task's output back into the execution. The ECS `.sync` integration returns the
 * task's description, not what the step produced, so the task records its output in the run journal
 * and this step reads it.
 */
export async function loadStepResult(
  deps: StepDeps,
  input: { run: RunRef; state: string; iteration?: number },
): Promise<unknown> {
  const journal = await journalFor(deps, input.run);
  const key = stepKey(input.state, input.iteration);
  const recorded = await readStepOutput(journal, deps.artifacts, key);
  if (!recorded) {
    throw new GantryError(
      `the sandbox task of state ${input.state} finished without recording its result (${key})`,
      {
        input: input.run.runId,
        hint: "read the task's logs in CloudWatch; the step failed before it could journal its output",
      },
    );
  }
  return recorded.output;
}
