import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GantryError } from '../domain/errors.js';
import { branchNameFor } from '../forge/branch-name.js';
import { sensitivePathRulesFrom } from '../policy/risk-rules.js';
import { mapRepository as buildMap } from '../repomap/map-repository.js';
import { authorizeLifecycle } from './policy-context.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';
import { WorkspaceGit } from './workspace-git.js';

/**
 * Imports the repository into the forge if needed, clones it into the run's workspace on a new branch,
 * maps it, and runs the dependency install of the setup phase (the only phase with network).
 */
export async function mapRepository(deps: StepDeps, input: { run: RunRef }): Promise<RepoState> {
  const journal = await journalFor(deps, input.run);
  const request = requestOf(journal);
  const repo = await deps.forge.ensureRepository(request.repository);
  const workspace = join(deps.settings.workspacesDir, input.run.runId);
  const branch = branchNameFor(input.run.runId, request.title);
  const git = new WorkspaceGit(workspace, deps.settings.workspacesDir);

  await authorizeLifecycle(deps, journal, 'create_branch');
  const recorded = journal.find('context', 'context.built');
  if (!recorded || !(await exists(join(workspace, '.git')))) {
    // A workspace without a recorded map is what a crash mid-checkout leaves: start it again.
    await rm(workspace, { recursive: true, force: true });
    await deps.forge.checkout(repo.name, recorded?.data.commit ?? repo.defaultBranch, workspace);
    await git.createBranch(branch);
  }
  const context = await journal.once('context', 'context.built', stepActor('mapRepository'), async () => {
    const commit = await git.head();
    const map = await buildMap(workspace, {
      repository: repo.name,
      commit,
      sensitivePathRules: sensitivePathRulesFrom(deps.riskRules),
    });
    // Agent context files go into the prompt and the stored map: neither may carry a secret.
    map.agentContextFiles = map.agentContextFiles.map((f) => ({
      ...f,
      excerpt: deps.redactor.redact(f.excerpt).text,
    }));
    await runSetupPhase(deps, workspace, map.commands, map.files);
    const testCommand = map.commands.find((c) => c.kind === 'test')?.argv;
    return {
      artifact: await deps.artifacts.put(JSON.stringify(map), 'application/json'),
      commit,
      files: map.files.length,
      testCommand,
      agentContextFiles: map.agentContextFiles.map((f) => f.path),
      sensitivePaths: map.sensitivePaths.map((p) => p.path),
    };
  });
  return {
    repository: repo.name,
    workspace,
    baseCommit: context.commit ?? (await git.head()),
    defaultBranch: repo.defaultBranch,
    branch,
    context: context.artifact,
    testCommand: context.testCommand ?? null,
  };
}

const lockfiles = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'requirements.txt',
  'go.sum',
]);

/** Installs pinned dependencies with network, before the agent phase that has none. */
async function runSetupPhase(
  deps: StepDeps,
  workspace: string,
  commands: { kind: string; argv: string[]; needsNetwork: boolean }[],
  files: string[],
): Promise<void> {
  if (!files.some((f) => lockfiles.has(f))) return;
  for (const command of commands.filter((c) => c.kind === 'install' && c.needsNetwork)) {
    const result = await deps.sandbox.run({
      argv: command.argv,
      workspace,
      network: 'setup',
      limits: deps.settings.sandboxLimits,
    });
    if (result.exitCode !== 0) {
      throw new GantryError(
        `dependency install \`${command.argv.join(' ')}\` failed with exit code ${result.exitCode}`,
        {
          input: workspace,
          hint: `fix the repository's dependencies so the install succeeds: ${result.stderr.slice(-500)}`,
        },
      );
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
