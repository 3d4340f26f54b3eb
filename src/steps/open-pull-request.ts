import { RunHaltedError } from '../domain/errors.js';
import { plainLine } from '../inert-text/index.js';
import { authorizeLifecycle } from './policy-context.js';
import { journalFor, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';
import { WorkspaceGit } from './workspace-git.js';

/**
 * Pushes the run's branch and opens its pull request with the evidence packet as the body.
 * The forge returns the existing pull request for a branch, so a retried step opens exactly one.
 */
export async function openPullRequest(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState; evidence: { markdown: string; complete: boolean } },
): Promise<{ number: number; url: string }> {
  const journal = await journalFor(deps, input.run);
  if (!input.evidence.complete)
    throw new Error('refusing to open a pull request with an incomplete evidence packet');
  await authorizeLifecycle(deps, journal, 'open_pr');
  const opened = await journal.once('pr', 'pr.opened', stepActor('openPullRequest'), async () => {
    // The verified tree is the pull request: the commit pushed is the commit the suite passed on.
    const verified = journal
      .events()
      .filter((e) => e.type === 'verification.completed' && e.data.passed)
      .at(-1);
    const verifiedCommit = verified?.type === 'verification.completed' ? verified.data.commit : undefined;
    const current = await new WorkspaceGit(input.repo.workspace, deps.settings.workspacesDir).head();
    if (verifiedCommit && current !== verifiedCommit) {
      throw new RunHaltedError(
        `the workspace is at ${current.slice(0, 12)}, not at the verified commit ${verifiedCommit.slice(0, 12)}: a change after verification invalidates it`,
        {
          input: input.repo.branch,
          hint: 'nothing may change the workspace between verification and the pull request; run the request again',
        },
      );
    }
    const head = await deps.forge.pushBranch(input.repo.repository, input.repo.workspace, input.repo.branch);
    if (verifiedCommit && head !== verifiedCommit) {
      throw new RunHaltedError(
        `the forge holds ${head.slice(0, 12)} for ${input.repo.branch}, not the verified commit ${verifiedCommit.slice(0, 12)}`,
        {
          input: input.repo.branch,
          hint: 'the pushed commit must be the one the tests passed on; run the request again',
        },
      );
    }
    const title = journal.find('request', 'request.received')?.data.request.title ?? input.repo.branch;
    const pr = await deps.forge.openPullRequest({
      repository: input.repo.repository,
      branch: input.repo.branch,
      base: input.repo.defaultBranch,
      // The title comes from the issue: one line, no terminal controls or bidi overrides.
      title: `fix: ${plainLine(title)}`,
      body: await deps.artifacts.getText(input.evidence.markdown),
      runId: input.run.runId,
    });
    return { number: pr.number, url: pr.url, branch: pr.branch, head, body: input.evidence.markdown };
  });
  return { number: opened.number, url: opened.url };
}
