import { findAmbiguity } from '../intake/ambiguity.js';
import { journalFor, refreshSummary, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** Accepts the request, or rejects it with its reason when the agent could not know when it is done. */
export async function checkRequest(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ accepted: boolean; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const actor = stepActor('checkRequest');
  await journal.record('run:started', 'run.state', actor, { state: 'running' });
  await refreshSummary(deps, journal);
  const ambiguity = findAmbiguity(requestOf(journal));
  if (!ambiguity) return { accepted: true, reason: '' };
  await journal.record('request:rejected', 'request.rejected', actor, {
    reason: ambiguity.reason,
    missing: ambiguity.missing,
  });
  return { accepted: false, reason: ambiguity.reason };
}
