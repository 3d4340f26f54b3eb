import type { RepositoryContext } from '../domain/context.js';
import { excerptTestOutput } from '../domain/evidence.js';
import { parseUnifiedDiff, renderReview, reviewPullRequest as review } from '../review/index.js';
import { agentActor, journalFor, requestOf, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';
import { WorkspaceGit } from './workspace-git.js';

/**
 * Reviews the opened pull request: the deterministic checks first (untested source, incomplete
 * evidence, sensitive files, constraints, scope), then the model's findings through the model port,
 * ranked and capped. The review is stored by hash and posted on the pull request as a comment.
 */
export async function reviewPullRequest(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState },
): Promise<{ findings: number; blockers: number }> {
  const journal = await journalFor(deps, input.run);
  const actor = stepActor('reviewPullRequest');
  const done = await journal.once('review', 'review.completed', actor, async () => {
    const git = new WorkspaceGit(input.repo.workspace, deps.settings.workspacesDir);
    const diff = parseUnifiedDiff(await git.diff(input.repo.baseCommit));
    const events = journal.events();
    const scope = events.filter((e) => e.type === 'scope.checked').at(-1);
    const evidence = journal.find('evidence', 'evidence.assembled')?.data;
    const reproduced = journal.find('reproduction', 'reproduction.recorded')?.data;
    const verified = events.filter((e) => e.type === 'verification.completed').at(-1);
    const verification =
      verified?.type === 'verification.completed' && verified.data.argv.length > 0
        ? {
            argv: verified.data.argv,
            passed: verified.data.passed,
            excerpt: excerptTestOutput(await deps.artifacts.getText(verified.data.output)),
          }
        : undefined;
    // Rust tests live inside the sources (#[cfg(test)] modules): the review reads those files whole.
    const contentsAfter: Record<string, string> = {};
    for (const file of diff.filter((f) => f.path.endsWith('.rs'))) {
      const text = await git.show('HEAD', file.path);
      if (text !== undefined) contentsAfter[file.path] = text;
    }
    const context = JSON.parse(await deps.artifacts.getText(input.repo.context)) as RepositoryContext;
    const started = Date.now();
    const result = await review(
      {
        request: requestOf(journal),
        plan: journal.find('plan', 'plan.created')?.data.plan,
        diff,
        evidence: { completeness: evidence?.completeness ?? 0, missing: evidence?.missing ?? ['evidence'] },
        constraints: scope?.type === 'scope.checked' ? scope.data.checks : [],
        scopeViolations: scope?.type === 'scope.checked' ? scope.data.violations : [],
        sensitivePaths: journal.find('context', 'context.built')?.data.sensitivePaths ?? [],
        testLinks: context.testLinks,
        ...(reproduced
          ? { reproduction: { reproduced: reproduced.reproduced, testFiles: reproduced.testFiles } }
          : {}),
        ...(verification ? { verification } : {}),
        ...(Object.keys(contentsAfter).length > 0 ? { contentsAfter } : {}),
      },
      { model: deps.model, redactor: deps.redactor },
    );
    const artifact = await deps.artifacts.put(JSON.stringify(result, null, 2), 'application/json');
    if (result.model.status === 'ran') {
      // The review's tokens count against the run's budget and cost like the agent's own turns.
      await journal.record('review:model', 'model.turn', agentActor(deps), {
        phase: 'review',
        turn: 1,
        model: result.model.id ?? deps.model.id,
        response: artifact,
        inputTokens: result.model.inputTokens ?? 0,
        outputTokens: result.model.outputTokens ?? 0,
        stopReason: 'tool_use',
        durationMs: Date.now() - started,
      });
    }
    const pr = journal.find('pr', 'pr.opened');
    if (pr)
      await deps.forge.commentOnPullRequest(input.repo.repository, pr.data.number, renderReview(result));
    const bySeverity: Record<string, number> = {};
    for (const finding of result.findings)
      bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
    return {
      artifact,
      findings: result.findings.length,
      blockers: result.blockers,
      bySeverity,
      model: result.model.status,
      ...(result.model.reason ? { modelReason: deps.redactor.redact(result.model.reason).text } : {}),
    };
  });
  return { findings: done.findings, blockers: done.blockers };
}
