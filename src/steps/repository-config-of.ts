import type { RunJournal } from '../evidence/run-journal.js';
import {
  type EffectiveRepositoryConfig,
  effectiveRepositoryConfig,
  repositoryConfigFileIn,
} from '../policy/repository-config.js';
import { requestOf } from './run-context.js';
import type { StepDeps } from './step-deps.js';
import type { WorkspaceGit } from './workspace-git.js';

/**
 * The repository's `.gantry.yaml` as it is at the base commit (never the work tree, which the agent can
 * change), with the origin errors name; undefined when the repository has none.
 */
export async function readRepositoryConfigFile(
  git: WorkspaceGit,
  commit: string,
  files: readonly string[],
): Promise<{ text: string; origin: string } | undefined> {
  const name = repositoryConfigFileIn(files.filter((file) => !file.includes('/')));
  if (!name) return undefined;
  const text = await git.show(commit, name);
  return text === undefined ? undefined : { text, origin: `${name}@${commit.slice(0, 12)}` };
}

/**
 * What the run uses of the repository configuration: the operator's request over the repository file
 * recorded when the repository was mapped, narrowed by the contract. Recomputed from the log, so every
 * step (and a resumed run) sees the same.
 *
 * @example
 * const config = await repositoryConfigOf(deps, journal);
 * config.editable('src/app.ts');
 */
export async function repositoryConfigOf(
  deps: StepDeps,
  journal: RunJournal,
  repositoryPrograms?: ReadonlySet<string>,
): Promise<EffectiveRepositoryConfig> {
  const request = requestOf(journal);
  const recorded = journal.find('context', 'context.built')?.data.configFile;
  return effectiveRepositoryConfig({
    contract: deps.capabilities.get(request.capability),
    ...(recorded
      ? { repositoryFile: { text: await deps.artifacts.getText(recorded.text), origin: recorded.origin } }
      : {}),
    request,
    ...(repositoryPrograms ? { repositoryPrograms } : {}),
  });
}
