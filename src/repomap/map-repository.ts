import { RepositoryContext } from '../domain/context.js';
import { findAgentContextFiles } from './agent-context.js';
import { readCodeOwners } from './code-owners.js';
import { mapRepositoryCommands } from './commands.js';
import { countLanguages } from './languages.js';
import { listRepositoryFiles } from './repository-files.js';
import { findSensitivePaths, type SensitivePathRule } from './sensitive-paths.js';
import { findTestFolders } from './test-folders.js';
import { linkTestsToSources } from './test-links.js';
import { toolchainsFor } from './toolchains.js';

export type { SensitivePathRule } from './sensitive-paths.js';

/** What to call the repository, which commit it is at, and which paths need extra care. */
export interface MapRepositoryOptions {
  /** The repository's name as the request gives it (`acme/billing`). */
  repository: string;
  /** Defaults to the checked-out HEAD when `dir` is a git work tree with commits. */
  commit?: string;
  sensitivePathRules?: SensitivePathRule[];
}

/**
 * Maps the repository at `dir` before the agent touches it: its files, languages, the commands
 * that install, build and test it, which tests cover which sources, its code owners, the
 * sensitive paths it holds and the agent context files it ships (always untrusted).
 *
 * - Files: `git ls-files` (tracked files still on disk, submodules left out) when `dir` is a git
 *   work tree; otherwise a walk that skips .git, node_modules, .gantry, __pycache__, target,
 *   build, dist and .venv. Sorted, POSIX separators, relative to `dir`.
 * - Commands: see {@link mapRepositoryCommands}: from manifests, task runners, CI workflows and
 *   documents, each with its source and confidence, merged, and the one of each kind Gantry runs in
 *   `selection` (the selected test command is also the first `kind: 'test'` command). Steps seen but
 *   not run (CI actions, other programs) are `skippedSteps`; the root project's manager is `packageManager`.
 * - Test folders: see {@link findTestFolders}.
 * - Test links: see {@link linkTestsToSources}.
 * - Code owners: the first of .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS (`codeOwnersPath`);
 *   match paths with {@link ownersOf}.
 * - Sensitive paths: every file matching a rule's globs (picomatch, dotfiles included).
 * - Agent context files: see {@link findAgentContextFiles}.
 *
 * Repository files are only read, never run, and only when they resolve to regular files inside
 * `dir`, so a symbolic link cannot pull host files into the map.
 *
 * @throws InvalidInputError when `dir` does not exist or is not a directory.
 * @example
 * const context = await mapRepository('/work/billing-service', {
 *   repository: 'acme/billing-service',
 *   sensitivePathRules: [{ id: 'infra', globs: ['infra/**'], reason: 'Changes infrastructure' }],
 * });
 * context.selection?.test?.reason; // 'package.json scripts.test, also run by CI workflow .github/workflows/ci.yml line 23 (job test) (confidence 0.995)'
 */
export async function mapRepository(dir: string, options: MapRepositoryOptions): Promise<RepositoryContext> {
  const { root, files, head } = await listRepositoryFiles(dir);
  const [found, codeOwners, agentContextFiles] = await Promise.all([
    mapRepositoryCommands(root, files),
    readCodeOwners(root, files),
    findAgentContextFiles(root, files),
  ]);
  const commit = options.commit ?? head;
  const languages = countLanguages(files);
  // Parsed so that a map that breaks the contract fails here, not in a later step.
  return RepositoryContext.parse({
    repository: options.repository,
    ...(commit ? { commit } : {}),
    files,
    languages,
    commands: found.commands,
    toolchains: toolchainsFor(languages, found.commands),
    testLinks: linkTestsToSources(files),
    codeOwners: codeOwners?.rules ?? [],
    sensitivePaths: findSensitivePaths(files, options.sensitivePathRules ?? []),
    agentContextFiles,
    selection: found.selection,
    ...(found.packageManager ? { packageManager: found.packageManager } : {}),
    testFolders: findTestFolders(files),
    ...(codeOwners ? { codeOwnersPath: codeOwners.path } : {}),
    skippedSteps: found.skippedSteps,
  });
}
