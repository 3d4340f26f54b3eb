import { type AgentPhaseResult, runAgentPhase } from '../agent/coding-loop.js';
import { briefing } from '../agent/prompt.js';
import type { RepositoryContext } from '../domain/context.js';
import type { ModelMessage, ModelResponse } from '../domain/model.js';
import type { Plan } from '../domain/plan.js';
import { toolInputSchemas } from '../domain/tools.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { ToolGateway } from '../gateway/tool-gateway.js';
import { applyEdit } from '../gateway/workspace-edit.js';
import { generatedPathRule } from '../policy/generated-paths.js';
import { authorizationFrame } from './policy-context.js';
import { repositoryConfigOf } from './repository-config-of.js';
import { agentActor, requestOf } from './run-context.js';
import { assertRunMayContinue } from './run-guard.js';
import { profileCommand, type RepoState, type StepDeps } from './step-deps.js';
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
  await replayRecordedEdits(deps, journal, repo.workspace, options.phase);

  const plan = await planOf(journal);
  const context = JSON.parse(await deps.artifacts.getText(repo.context)) as RepositoryContext;
  const transcript: ModelMessage[] = options.transcript
    ? (JSON.parse(await deps.artifacts.getText(options.transcript)) as ModelMessage[])
    : [{ role: 'user', content: [{ type: 'text', text: briefing(requestOf(journal), plan, context) }] }];

  const config = await repositoryConfigOf(deps, journal);
  const gateway = new ToolGateway(journal, deps.artifacts, deps.sandbox, deps.redactor, {
    workspace: repo.workspace,
    repositoryPrograms: new Set(context.commands.map((c) => c.argv[0] as string)),
    testCommand: repo.testCommand ?? undefined,
    limits: deps.settings.sandboxLimits,
    profile: profileCommand(repo.profile),
    agent: agentActor(deps),
    maxIdenticalCalls: deps.settings.maxIdenticalToolCalls,
    policy: deps.policy,
    frame: authorizationFrame(deps, journal),
    // The contract narrowed by the operator's and the repository's configuration: a path is editable
    // only when every layer allows it and none forbids it.
    mayEdit: config.editable,
    generated: generatedPathRule(
      await git.show(options.baseCommit, '.gitignore'),
      requestText(requestOf(journal)),
    ),
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
      redactor: deps.redactor,
    },
    { phase: options.phase, goal: options.goal, transcript, maxTurns: deps.settings.maxTurnsPerPhase },
  );
  // The pull request holds the change and nothing else: only what the phase's recorded edits wrote is
  // committed, never what a build or a test run left in the work tree.
  const edited = journal
    .events()
    .filter((e) => e.type === 'file.changed' && e.key.startsWith(`${options.phase}:`))
    .map((e) => (e.type === 'file.changed' ? e.data.path : ''));
  const workspaceCommit = await git.commitPaths(options.commitMessage, [...new Set(edited)]);
  const transcriptHash = await deps.artifacts.put(JSON.stringify(result.transcript), 'application/json');
  return { ...result, workspaceCommit, transcriptHash };
}

export async function planOf(journal: RunJournal): Promise<Plan> {
  const created = journal.find('plan', 'plan.created');
  if (!created) throw new Error(`run ${journal.runId} has no plan`);
  return created.data.plan;
}

/**
 * Re-applies, in order, the edits a crashed phase had completed: each from the call the model made
 * (kept in its recorded turn), on files reset to the phase's base commit. The files' contents are never
 * kept for this: the stored snapshots are redacted, for the audit trail only.
 */
async function replayRecordedEdits(
  deps: StepDeps,
  journal: RunJournal,
  workspace: string,
  phase: string,
): Promise<void> {
  const events = journal.events();
  const edits = events.filter(
    (e) =>
      e.type === 'file.changed' &&
      e.key.startsWith(`${phase}:`) &&
      journal.find(e.key.replace(/:file$/, ':executed'), 'tool.executed'),
  );
  if (edits.length === 0) return;
  const calls = new Map<string, { find?: string; replace: string }>();
  for (const turn of events) {
    if (turn.type !== 'model.turn' || turn.data.phase !== phase) continue;
    const response = JSON.parse(await deps.artifacts.getText(turn.data.response)) as ModelResponse;
    for (const block of response.content) {
      if (block.type === 'tool_use' && block.name === 'edit_file') {
        calls.set(block.id, toolInputSchemas.edit_file.parse(block.input));
      }
    }
  }
  const run = (argv: string[], stdin?: string) =>
    deps.sandbox.run({ argv, workspace, stdin, limits: deps.settings.sandboxLimits });
  for (const edit of edits) {
    if (edit.type !== 'file.changed') continue;
    const call = calls.get(edit.data.callId);
    if (!call) throw new Error(`the recorded edit ${edit.key} has no model call to replay it from`);
    const outcome = await applyEdit(run, edit.data.path, call);
    if (!outcome.ok)
      throw new Error(`could not replay the recorded edit of ${edit.data.path}: ${outcome.output}`);
  }
}

/** The request's own words, where a path it names counts as asked for. */
function requestText(request: { title: string; description: string; acceptanceCriteria: string[] }): string {
  return [request.title, request.description, ...request.acceptanceCriteria].join('\n');
}
