import { type AgentPhaseResult, runAgentPhase } from '../agent/coding-loop.js';
import { briefing } from '../agent/prompt.js';
import type { RepositoryContext } from '../domain/context.js';
import type { ModelMessage } from '../domain/model.js';
import type { Plan } from '../domain/plan.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { ToolGateway } from '../gateway/tool-gateway.js';
import { contractAllowsEdit } from '../policy/capabilities.js';
import { authorizationFrame } from './policy-context.js';
import { agentActor, requestOf } from './run-context.js';
import { assertRunMayContinue } from './run-guard.js';
import type { RepoState, StepDeps } from './step-deps.js';
import { WorkspaceGit } from './workspace-git.js';

/**
 * Runs one agent phase on the workspace and commits what it changed. Before it starts, the workspace
 * is put back at the phase's base commit and the edits already recorded for this phase are replayed
 * from their artifacts, so a phase interrupted by a crash resumes on exactly the files it had.
 */
export async function runWorkspacePhase(
  deps: StepDeps,
  journal: RunJournal,
  repo: RepoState,
  options: {
    phase: string;
    goal: string;
    baseCommit: string;
    transcript: string | undefined;
    commitMessage: string;
  },
): Promise<AgentPhaseResult & { workspaceCommit: string; transcriptHash: string }> {
  const git = new WorkspaceGit(repo.workspace, deps.settings.workspacesDir);
  await git.resetTo(options.baseCommit);
  for (const event of journal.events()) {
    if (event.type !== 'file.changed' || !event.key.startsWith(`${options.phase}:`)) continue;
    // Only edits whose call completed are replayed; an edit cut off by a crash runs again on the reset files.
    if (journal.find(event.key.replace(/:file$/, ':executed'), 'tool.executed')) {
      await replayEdit(deps, repo.workspace, event.data.path, event.data.after);
    }
  }

  const plan = await planOf(journal);
  const context = JSON.parse(await deps.artifacts.getText(repo.context)) as RepositoryContext;
  const transcript: ModelMessage[] = options.transcript
    ? (JSON.parse(await deps.artifacts.getText(options.transcript)) as ModelMessage[])
    : [{ role: 'user', content: [{ type: 'text', text: briefing(requestOf(journal), plan, context) }] }];

  const gateway = new ToolGateway(journal, deps.artifacts, deps.sandbox, deps.redactor, {
    workspace: repo.workspace,
    repositoryPrograms: new Set(context.commands.map((c) => c.argv[0] as string)),
    testCommand: repo.testCommand ?? undefined,
    limits: deps.settings.sandboxLimits,
    agent: agentActor(deps),
    maxIdenticalCalls: deps.settings.maxIdenticalToolCalls,
    policy: deps.policy,
    frame: authorizationFrame(deps, journal),
    mayEdit: (path) => contractAllowsEdit(deps.capabilities.get(requestOf(journal).capability), path),
    beforeCall: () => assertRunMayContinue(deps, journal, { killSwitch: false }),
  });
  const result = await runAgentPhase(
    {
      journal,
      model: deps.model,
      gateway,
      artifacts: deps.artifacts,
      agent: agentActor(deps),
      guard: () => assertRunMayContinue(deps, journal),
    },
    { phase: options.phase, goal: options.goal, transcript, maxTurns: deps.settings.maxTurnsPerPhase },
  );
  const workspaceCommit = await git.commitAll(options.commitMessage);
  const transcriptHash = await deps.artifacts.put(JSON.stringify(result.transcript), 'application/json');
  return { ...result, workspaceCommit, transcriptHash };
}

export async function planOf(journal: RunJournal): Promise<Plan> {
  const created = journal.find('plan', 'plan.created');
  if (!created) throw new Error(`run ${journal.runId} has no plan`);
  return created.data.plan;
}

async function replayEdit(deps: StepDeps, workspace: string, path: string, after: string): Promise<void> {
  const content = await deps.artifacts.get(after);
  // The replayed write goes through the sandbox too: only the workspace is writable there.
  const result = await deps.sandbox.run({
    argv: ['sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', 'gantry-replay', path],
    workspace,
    stdin: content,
    limits: deps.settings.sandboxLimits,
  });
  if (result.exitCode !== 0)
    throw new Error(`could not replay the recorded edit of ${path}: ${result.stderr}`);
}
