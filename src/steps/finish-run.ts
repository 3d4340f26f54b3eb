import { z } from 'zod';
import { RunHaltedError } from '../domain/errors.js';
import { journalFor, refreshSummary, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

const StepError = z.object({ Error: z.string(), Cause: z.unknown().optional() });

/**
 * Records the run's terminal state. `completed` is refused unless a complete evidence packet and a
 * pull request are in the log: the workflow's shape already ensures it, this makes it an invariant.
 */
export async function finishRun(
  deps: StepDeps,
  input: {
    run: RunRef;
    outcome: 'completed' | 'rejected' | 'failed' | 'aborted' | 'rolled_back';
    reason?: string;
    error?: unknown;
  },
): Promise<{ state: string; reason: string }> {
  const journal = await journalFor(deps, input.run);
  let reason = input.reason ?? '';
  let outcome = input.outcome;
  if (input.error !== undefined) {
    reason = describeStepError(input.error);
    // A kill switch ends a run as aborted: it was stopped, it did not fail.
    if (StepError.safeParse(input.error).data?.Error === 'RunAbortedError') outcome = 'aborted';
  }
  if (outcome === 'completed') {
    const evidence = journal.find('evidence', 'evidence.assembled');
    if (evidence?.data.completeness !== 1 || !journal.find('pr', 'pr.opened')) {
      throw new RunHaltedError(
        'a run cannot complete without a complete evidence packet and a pull request',
        {
          input: input.run.runId,
        },
      );
    }
    // After a merge, a run completes only once production took the change and stayed healthy.
    const merged = journal.find('merge', 'pr.merged');
    const rollout = journal.find('deploy:production', 'deploy.finished');
    const observed = journal.find('observe', 'observation.completed');
    const delivered = rollout?.data.outcome === 'promoted' && observed?.data.healthy === true;
    const rollbackRun = requestOf(journal).capability === 'rollback';
    if (merged && journal.find('release', 'release.prepared') && !delivered && !rollbackRun) {
      throw new RunHaltedError(
        'a merged and released change completes only after a promoted rollout and a healthy observation',
        {
          input: input.run.runId,
        },
      );
    }
  }
  if (
    outcome === 'rolled_back' &&
    journal.find('rollback:finish', 'rollback.finished')?.data.outcome !== 'recovered'
  ) {
    throw new RunHaltedError('a run is rolled back only once its rollback recovered production', {
      input: input.run.runId,
    });
  }
  const final = await journal.once('run:final', 'run.state', stepActor('finishRun'), async () => ({
    state: outcome,
    reason: reason || undefined,
  }));
  await refreshSummary(deps, journal);
  return { state: final.state, reason: final.reason ?? '' };
}

/** Step Functions hands a caught error over as `{ Error, Cause }`; Cause may be JSON from a Lambda. */
export function describeStepError(error: unknown): string {
  const parsed = StepError.safeParse(error);
  if (!parsed.success) return String(error);
  const cause = parsed.data.Cause;
  if (typeof cause === 'string') {
    try {
      const inner = JSON.parse(cause) as { errorMessage?: string; errorType?: string };
      if (inner.errorMessage) return `${inner.errorType ?? parsed.data.Error}: ${inner.errorMessage}`;
    } catch {
      // Not JSON: the cause is the message itself.
    }
    return `${parsed.data.Error}: ${cause}`;
  }
  return parsed.data.Error;
}
