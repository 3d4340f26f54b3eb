import path from 'node:path';
import { ForgeError } from '../domain/errors.js';
import type { Forge } from '../ports/forge.js';
import { GANTRY_BRANCH_PREFIX } from './branch-name.js';
import { AGENT_IDENTITY, GitRunner } from './git-command.js';

/** What prepareRevert pushed: a branch holding one revert commit on top of the default head. */
export interface PreparedRevert {
  branch: string;
  /** The revert commit, head of `branch`. */
  head: string;
  /** The default-branch merge commit of the pull request that was reverted. */
  reverted: string;
  /** The default head the revert was made on. */
  base: string;
}

/**
 * Prepares the revert of a merged pull request through any forge: checks out the default branch
 * into `dir`, reverts the pull request's own merge commit (found by its `Merge pull request #<n>`
 * subject on the first-parent history, so a PR merged in a batch is reverted alone), and pushes
 * `branch`. Opening the revert pull request, with its evidence, is the caller's next step.
 * A revert that does not apply cleanly is a ForgeError: it needs a person, not a guess.
 *
 * @example
 * const revert = await prepareRevert(forge, { repository: 'billing-service', pullRequest: 7, dir: '/tmp/revert', branch: branchNameFor(runId, 'Revert #7') });
 * await forge.openPullRequest({ repository: 'billing-service', branch: revert.branch, base: 'main', title: 'Revert #7', body, runId });
 */
export async function prepareRevert(
  forge: Forge,
  input: { repository: string; pullRequest: number; dir: string; branch: string },
): Promise<PreparedRevert> {
  if (!input.branch.startsWith(GANTRY_BRANCH_PREFIX)) {
    throw new ForgeError(
      `refusing to prepare a revert on ${input.branch}: Gantry pushes only ${GANTRY_BRANCH_PREFIX}* branches`,
      {
        input: input.branch,
        hint: 'name the branch with branchNameFor(runId, title)',
      },
    );
  }
  const pull = await forge.getPullRequest(input.repository, input.pullRequest);
  if (pull?.state !== 'merged') {
    throw new ForgeError(
      `pull request #${input.pullRequest} of ${input.repository} is ${pull ? pull.state : 'missing'}, so there is nothing to revert`,
      { input: String(input.pullRequest), hint: 'only a merged pull request can be reverted' },
    );
  }
  const head = await forge.defaultHead(input.repository);
  const history = await forge.commitsBetween(input.repository, undefined, head.commit);
  const merge = history.find((commit) => commit.pullRequest === input.pullRequest)?.commit;
  if (!merge) {
    throw new ForgeError(
      `the default branch of ${input.repository} has no merge commit of pull request #${input.pullRequest}`,
      {
        input: String(input.pullRequest),
        hint: 'it was not merged with a "Merge pull request #n" commit (squashed or rebased); revert it by hand',
      },
    );
  }
  await forge.checkout(input.repository, head.branch, input.dir);
  const git = new GitRunner(path.dirname(path.resolve(input.dir)), AGENT_IDENTITY);
  const cwd = input.dir;
  await git.output(['checkout', '--quiet', '-b', input.branch], { cwd });
  const revert = await git.run(['revert', '--no-edit', '-m', '1', merge], { cwd });
  if (!revert.ok) {
    await git.run(['revert', '--abort'], { cwd });
    throw new ForgeError(
      `reverting pull request #${input.pullRequest} (${merge}) does not apply cleanly on ${head.branch} at ${head.commit}: ${revert.stderr.trim() || revert.stdout.trim()}`,
      {
        input: String(input.pullRequest),
        hint: 'later changes touch the same lines; a person has to resolve the revert',
      },
    );
  }
  const pushed = await forge.pushBranch(input.repository, cwd, input.branch);
  return { branch: input.branch, head: pushed, reverted: merge, base: head.commit };
}
