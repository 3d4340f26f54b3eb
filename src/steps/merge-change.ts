import { RunHaltedError } from '../domain/errors.js';
import { deliveryOf } from './delivery-context.js';
import { authorizeLifecycle } from './policy-context.js';
import { journalFor, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';

/**
 * Puts the run's pull request in the merge queue and processes the queue: the change is tested on top
 * of the latest default branch (batched with whatever else waits, bisected when a batch fails) and
 * lands only when green. Policy decides `merge` first, with the approvals collected so far.
 */
export async function mergeChange(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState },
): Promise<{ merged: boolean; mergeCommit: string; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const actor = stepActor('mergeChange');
  const recorded = journal.find('merge', 'pr.merged');
  if (recorded) return { merged: true, mergeCommit: recorded.data.mergeCommit, reason: 'merged' };
  const ejected = journal.find('merge:ejected', 'merge.ejected');
  if (ejected)
    return {
      merged: false,
      mergeCommit: '',
      reason: `merge queue ejected the pull request: ${ejected.data.reason}`,
    };
  const pr = journal.find('pr', 'pr.opened');
  if (!pr) throw new RunHaltedError('there is no pull request to merge', { input: input.run.runId });
  await authorizeLifecycle(deps, journal, 'merge');
  const delivery = deliveryOf(deps);
  const repository = input.repo.repository;
  const base = await deps.forge.defaultHead(repository);
  await delivery.mergeQueue.enqueue({
    repository,
    pullRequest: pr.data.number,
    runId: input.run.runId,
    testCommand: input.repo.testCommand ?? [],
  });
  await journal.once('merge:queued', 'merge.queued', actor, async () => ({
    pullRequest: pr.data.number,
    repository,
  }));
  await delivery.mergeQueue.process(repository);
  const entry = await delivery.mergeQueue.entry(repository, pr.data.number);
  if (entry?.state === 'merged' && entry.mergeCommit) {
    await journal.record('merge', 'pr.merged', actor, {
      number: pr.data.number,
      mergeCommit: entry.mergeCommit,
      base: base.commit,
      testRuns: entry.testRuns,
      batches: entry.batches,
    });
    return { merged: true, mergeCommit: entry.mergeCommit, reason: 'merged' };
  }
  const reason = deps.redactor.redact(entry?.reason ?? `the queue left it ${entry?.state ?? 'unknown'}`).text;
  await journal.record('merge:ejected', 'merge.ejected', actor, { number: pr.data.number, reason });
  return { merged: false, mergeCommit: '', reason: `merge queue ejected the pull request: ${reason}` };
}
