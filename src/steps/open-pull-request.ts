import { plainLine } from '../inert-text/index.js';
import { authorizeLifecycle } from './policy-context.js';
import { journalFor, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';

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
    const head = await deps.forge.pushBranch(input.repo.repository, input.repo.workspace, input.repo.branch);
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
