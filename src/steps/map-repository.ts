import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepositoryContext } from '../domain/context.js';
import { GantryError, RunHaltedError } from '../domain/errors.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { branchNameFor } from '../forge/branch-name.js';
import { gitDirOf } from '../forge/git-command.js';
import { describeResult } from '../gateway/tool-gateway.js';
import { effectiveRepositoryConfig } from '../policy/repository-config.js';
import { sensitivePathRulesFrom } from '../policy/risk-rules.js';
import { selectedTestCommand } from '../repomap/command-selection.js';
import { mapRepository as buildMap } from '../repomap/map-repository.js';
import { narrowEndpoints } from '../sandbox/egress/index.js';
import { authorizeLifecycle } from './policy-context.js';
import { readRepositoryConfigFile } from './repository-config-of.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import { planSetup, type SetupPlan } from './setup-plan.js';
import {
  profileCommand,
  type RepoState,
  type RunRef,
  type SandboxProfile,
  type StepDeps,
} from './step-deps.js';
import { runTestSuite } from './test-suite-run.js';
import { levelCommands, runLevel } from './verification-levels.js';
import { WorkspaceGit } from './workspace-git.js';

/**
 * Imports the repository into the forge if needed, clones it into the run's workspace on a new branch,
 * maps it, and runs the dependency install of the setup phase (the only phase with network).
 */
export async function mapRepository(deps: StepDeps, input: { run: RunRef }): Promise<RepoState> {
  const journal = await journalFor(deps, input.run);
  const request = requestOf(journal);
  const repo = await deps.forge.ensureRepository(request.repository).catch(async (error: unknown) => {
    // A request pointing Gantry at the host is a policy refusal: recorded with its rule, then the run stops.
    const rule = (error as { rule?: unknown }).rule;
    if (error instanceof GantryError && typeof rule === 'string') {
      await journal.record('repository-path', 'policy.decided', stepActor('mapRepository'), {
        decision: {
          id: `repository-path:${input.run.runId}`,
          action: 'import_repository',
          resource: request.repository.path ?? request.repository.name,
          decision: 'deny',
          reasons: [error.message],
          policyVersion: deps.policyVersion,
          determiningPolicies: [`repository.path.${rule}`],
        },
      });
    }
    throw error;
  });
  const workspace = join(deps.settings.workspacesDir, input.run.runId);
  const branch = branchNameFor(input.run.runId, request.title);
  const git = new WorkspaceGit(workspace, deps.settings.workspacesDir);

  await authorizeLifecycle(deps, journal, 'create_branch');
  const recorded = journal.find('context', 'context.built');
  await deps.workspaces.prepare(workspace);
  if (!recorded || !(await exists(gitDirOf(workspace)))) {
    // A workspace without a recorded map is what a crash mid-checkout leaves: start it again.
    await deps.workspaces.clear(workspace);
    await rm(gitDirOf(workspace), { recursive: true, force: true });
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
    const contract = deps.capabilities.get(request.capability);
    const configFile = await readRepositoryConfigFile(git, commit, map.files);
    const config = effectiveRepositoryConfig({
      contract,
      ...(configFile ? { repositoryFile: configFile } : {}),
      request,
      repositoryPrograms: new Set(map.commands.map((c) => c.argv[0] as string)),
    });
    const toolchains = config.toolchains?.kinds ?? map.toolchains;
    // The stage's registries, narrowed by every configuration layer that names some (never widened).
    const egress = config.egress.reduce(
      (endpoints: string[], narrowing) => narrowEndpoints(endpoints, narrowing),
      [...(deps.settings.egressEndpoints ?? [])],
    );
    const plan = planSetup({ ...map, ...(toolchains ? { toolchains } : {}) }, contract, egress);
    // The configuration's own setup commands run after the installs, with the same egress; its
    // variables reach every later command (each already passed the sandbox's allowlist).
    for (const command of config.setup) {
      plan.steps.push({
        ecosystem: 'config',
        argv: command.argv,
        network: true,
        declaredIn: configFile?.origin ?? 'the request',
      });
    }
    Object.assign(plan.profile.env, config.env);
    await runSetupPhase(deps, journal, workspace, plan, egress);
    // The operator's test command runs outright; the repository file's comes before what the map guessed.
    const testCommand = config.test?.argv ?? selectedTestCommand(map, programOnHost);
    const refused = [...config.refusedSetup, ...config.refusedTest];
    return {
      artifact: await deps.artifacts.put(JSON.stringify(map), 'application/json'),
      commit,
      files: map.files.length,
      testCommand,
      ...(toolchains ? { toolchains } : {}),
      ...(configFile
        ? { configFile: { origin: configFile.origin, text: await deps.artifacts.put(configFile.text) } }
        : {}),
      ...(refused.length > 0 ? { configRefused: refused } : {}),
      ...(plan.profile.virtualenv ? { virtualenv: plan.profile.virtualenv } : {}),
      ...(Object.keys(plan.profile.env).length > 0 ? { profileEnv: plan.profile.env } : {}),
      ...(plan.skipped.length > 0 ? { setupSkipped: plan.skipped } : {}),
      agentContextFiles: map.agentContextFiles.map((f) => f.path),
      sensitivePaths: map.sensitivePaths.map((p) => p.path),
    };
  });
  const profile: SandboxProfile = {
    ...(context.toolchains ? { toolchains: context.toolchains } : {}),
    ...(context.virtualenv ? { virtualenv: context.virtualenv } : {}),
    env: context.profileEnv ?? {},
  };
  await runBaseline(deps, journal, workspace, context.testCommand, profile, context.artifact);
  return {
    repository: repo.name,
    workspace,
    baseCommit: context.commit ?? (await git.head()),
    defaultBranch: repo.defaultBranch,
    branch,
    context: context.artifact,
    testCommand: context.testCommand ?? null,
    profile,
  };
}

/** Why a baseline says nothing about the code: the suite could not run at all. */
const UNUSABLE_BASELINE = new Set(['runner-error', 'no-tests', 'crashed']);

/**
 * Baseline first: before the agent acts, the runtime runs the test command on the base commit and records
 * the result per test (which ran, passed, failed, were skipped, and why the command exited). A suite
 * that cannot run at all (a missing module or toolchain, a compile error, no tests, no test command
 * where the contract needs test evidence) ends the run here, before any model turn, saying what to do.
 */
async function runBaseline(
  deps: StepDeps,
  journal: RunJournal,
  workspace: string,
  testCommand: string[] | undefined,
  profile: SandboxProfile,
  contextArtifact: string,
): Promise<void> {
  const contract = deps.capabilities.get(requestOf(journal).capability);
  const needsTests = contract.requiredEvidence.some(
    (kind) => kind === 'passing-tests-after' || kind === 'reproduction',
  );
  if (!testCommand?.length) {
    if (!needsTests) return;
    throw new RunHaltedError(
      `the repository declares no test command, and the ${contract.id} contract needs test evidence`,
      {
        input: 'repository map',
        hint: 'add a test script (package.json scripts.test, a Makefile test target, pytest configuration, ...) or set `test:` in .gantry.yaml',
      },
    );
  }
  // The cheap levels too, so a later failure of one is known to be the change's.
  const context = JSON.parse(await deps.artifacts.getText(contextArtifact)) as RepositoryContext;
  for (const { level, argv } of levelCommands(context)) {
    await runLevel(deps, journal, { workspace, profile } as RepoState, {
      key: `baseline:${level}`,
      level,
      argv,
      step: 'mapRepository',
    });
  }
  const baseline = await runTestSuite(deps, journal, {
    key: 'baseline',
    purpose: 'baseline',
    argv: testCommand,
    workspace,
    step: 'mapRepository',
    profile,
  });
  const reason = baseline.results.exit.reason;
  if (needsTests && UNUSABLE_BASELINE.has(reason)) {
    const why = baseline.results.runnerError ?? `exit code ${baseline.exitCode}`;
    throw new RunHaltedError(
      `the baseline \`${testCommand.join(' ')}\` cannot run on the base commit (${reason}: ${why}), so no test result would mean anything`,
      {
        input: testCommand.join(' '),
        hint:
          reason === 'no-tests'
            ? 'the test command found no tests; set the right one as `test:` in .gantry.yaml'
            : 'make the suite run on the default branch first: install what it needs (setup commands in .gantry.yaml, a registry in the allowlist) or fix the toolchain, then run again',
      },
    );
  }
}

/**
 * Runs the setup phase's plan (see {@link planSetup}) before the agent phase. The sandbox has no
 * network here either: its only way out is the egress proxy, which reaches the stage's registry
 * allowlist and nothing else (not the host, not the local engines). Each command is a `setup.installed`
 * event with its command, exit code, output hash and every egress decision; a failed one stops the run
 * here, before any model turn, saying what it tried to reach.
 */
async function runSetupPhase(
  deps: StepDeps,
  journal: RunJournal,
  workspace: string,
  plan: SetupPlan,
  egress: readonly string[],
): Promise<void> {
  for (const [index, step] of plan.steps.entries()) {
    const installed = await journal.once(
      `setup:${index}`,
      'setup.installed',
      stepActor('mapRepository'),
      async () => {
        const result = await deps.sandbox.run({
          argv: step.argv,
          workspace,
          network: step.network ? 'setup' : 'none',
          ...(step.network ? { egress } : {}),
          ...profileCommand(plan.profile),
          limits: deps.settings.sandboxLimits,
        });
        return {
          argv: step.argv,
          exitCode: result.exitCode,
          output: await deps.artifacts.put(deps.redactor.redact(describeResult(result)).text),
          durationMs: result.durationMs,
          limitHit: result.limitHit,
          egress: result.egress ?? [],
        };
      },
    );
    if (installed.exitCode !== 0) {
      const refused = installed.egress
        .filter((e) => e.outcome === 'refused')
        .map((e) => `${e.host}:${e.port}`);
      const output = await deps.artifacts.getText(installed.output);
      throw new GantryError(
        `the setup phase's \`${step.argv.join(' ')}\` (from ${step.declaredIn}) failed with exit code ${installed.exitCode}`,
        {
          input: workspace,
          hint: refused.length
            ? `it tried to reach ${[...new Set(refused)].join(', ')}, which the registry allowlist does not allow; add the registry to the stage's allowlist if it is one, or vendor the dependency. Output: ${output.slice(-400)}`
            : `fix the repository's dependencies so the install succeeds offline or from the allowlisted registries, or set the setup commands in .gantry.yaml. Output: ${output.slice(-400)}`,
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

/** Whether the sandbox can run `program`: a repository script, or a program on the host's PATH (the view's toolchains). */
function programOnHost(program: string): boolean {
  if (program.startsWith('./') || program.includes('/')) return true;
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, program)));
}
