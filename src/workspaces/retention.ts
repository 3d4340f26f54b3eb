import { z } from 'zod';
import { RunState } from '../domain/run.js';

/** Where a run's pull request stands; `none` when the run never opened one. */
export const PullRequestState = z.enum(['none', 'open', 'closed', 'merged']);
export type PullRequestState = z.infer<typeof PullRequestState>;

/** What retention needs to know of a run: its state and where its pull request stands. */
export const RunForRetention = z.strictObject({
  runId: z.string().min(1),
  state: RunState,
  pullRequest: PullRequestState.default('none'),
});
export type RunForRetention = z.input<typeof RunForRetention>;

export interface RetentionDecision {
  runId: string;
  action: 'keep' | 'remove';
  reason: string;
}

/**
 * Decides, run by run, whether its workspace may be removed. Kept: a run still going (received,
 * running, waiting at an approval gate), and any run with an open pull request, since review may
 * send it back to the workspace. Removed: a run that failed, was rejected, aborted or rolled back,
 * and a completed run whose pull request was closed, merged, or never opened. Pure: the caller
 * removes the workspaces, after each run and at start-up.
 *
 * @example
 * const decisions = decideWorkspaceRetention([{ runId: 'r1', state: 'completed', pullRequest: 'merged' }]);
 * for (const d of decisions) if (d.action === 'remove') await disks.remove(join(workspacesDir, d.runId));
 */
export function decideWorkspaceRetention(runs: readonly RunForRetention[]): RetentionDecision[] {
  return runs.map((input) => {
    const run = RunForRetention.parse(input);
    const [action, reason] = retentionOf(run.state, run.pullRequest);
    return { runId: run.runId, action, reason };
  });
}

function retentionOf(state: RunState, pullRequest: PullRequestState): [RetentionDecision['action'], string] {
  if (state === 'received' || state === 'running') return ['keep', 'the run is still going'];
  if (state === 'waiting_for_approval') return ['keep', 'the run is waiting at an approval gate'];
  if (pullRequest === 'open') return ['keep', `the run is ${state} but its pull request is open`];
  if (state === 'rolled_back') return ['remove', 'the change was rolled back'];
  if (state === 'completed') {
    return [
      'remove',
      pullRequest === 'none'
        ? 'the run completed without a pull request'
        : `the run completed and its pull request is ${pullRequest}`,
    ];
  }
  if (state === 'rejected') return ['remove', 'the run was rejected'];
  return ['remove', `the run ${state}`];
}
