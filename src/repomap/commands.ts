import type { CommandSelection, PackageManager, RepositoryCommand, SkippedStep } from '../domain/context.js';
import type { CapabilityContract } from '../policy/capabilities.js';
import { type Findings, inScope, type Repository, repositoryOf } from './command-candidates.js';
import { mergeCommands } from './command-selection.js';
import { documentFindings } from './document-commands.js';
import { IGNORE_SCRIPTS, PIP_BINARY_ONLY, YARN_BERRY_SCRIPTS_OFF } from './install-flags.js';
import { jvmFindings } from './jvm-commands.js';
import { nativeFindings } from './native-commands.js';
import { nodeFindings } from './node-commands.js';
import { pythonFindings } from './python-commands.js';
import { taskRunnerFindings } from './task-runner-commands.js';
import { workflowFindings } from './workflow-commands.js';

export { makeTargets } from './task-runner-commands.js';

/** At most this many skipped steps are kept in a map: enough to see what CI needs, small enough to store. */
const SKIPPED_STEPS_KEPT = 200;

/** The commands of a repository, which one of each kind Gantry runs and why, and what it will not run. */
export interface CommandMap {
  commands: RepositoryCommand[];
  selection: CommandSelection;
  packageManager: PackageManager | undefined;
  skippedSteps: SkippedStep[];
}

/**
 * Finds the install, build, test, lint, type-check and format commands of a repository from where
 * projects write them, and says which of each kind Gantry will run and why.
 *
 * - Manifests: package.json scripts (npm, pnpm and yarn workspaces expanded at any depth), pyproject
 *   / setup.py / requirements / tox / nox, go.mod (every module), Cargo.toml, pom.xml, Gradle builds
 *   (Kotlin Multiplatform and Android test tasks), CMakeLists.txt; see {@link nodeFindings},
 *   {@link pythonFindings}, {@link nativeFindings}, {@link jvmFindings}.
 * - Task runners: Makefile targets and justfile recipes ({@link taskRunnerFindings}).
 * - CI: GitHub Actions `run:` steps and GitLab CI scripts ({@link workflowFindings}).
 * - Documents: README, CONTRIBUTING, development docs, AGENTS.md and CLAUDE.md ({@link documentFindings}).
 *
 * Each command has its kind, argv, directory (`cwd`, absent for the root), where it was found
 * (`declaredIn`, `line`, `source`, every other place in `foundIn`) and a confidence; equivalent
 * commands from several sources are one (see {@link mergeCommands}). The chosen command of each kind
 * is first among the commands of its kind, so the first `kind: 'test'` command is `selection.test`.
 * Installs run from the root (their argv carries the package directory) with lifecycle scripts off.
 *
 * The files are data from the repository: they are parsed, never executed or evaluated, and only
 * read when they resolve to regular files inside the repository.
 *
 * @example
 * const { commands, selection } = await mapRepositoryCommands(root, ['package-lock.json', 'package.json']);
 * selection.test?.reason; // 'package.json scripts.test (confidence 0.95)'
 */
export async function mapRepositoryCommands(root: string, files: readonly string[]): Promise<CommandMap> {
  const repository = repositoryOf(root, files);
  const [node, python, native, jvm, taskRunners, workflows, documents] = await Promise.all([
    nodeFindings(repository),
    pythonFindings(repository),
    nativeFindings(repository),
    jvmFindings(repository),
    taskRunnerFindings(repository),
    workflowFindings(repository),
    documentFindings(repository),
  ]);
  const all: Findings[] = [node, python, native, jvm, taskRunners, workflows, documents];
  const merged = mergeCommands(
    all.flatMap((findings) => findings.candidates),
    node.scripts,
  );
  const skippedSteps = [...all.flatMap((findings) => findings.skipped), ...merged.skipped].slice(
    0,
    SKIPPED_STEPS_KEPT,
  );
  return {
    commands: merged.commands,
    selection: merged.selection,
    packageManager: node.packageManager ?? python.packageManager ?? otherPackageManager(repository),
    skippedSteps,
  };
}

/**
 * The commands alone, in the order {@link mapRepositoryCommands} gives them.
 *
 * @example
 * const commands = await detectRepositoryCommands(root, ['package-lock.json', 'package.json']);
 * // [{ ecosystem: 'npm', kind: 'install', argv: ['npm', 'ci', '--ignore-scripts'], declaredIn: 'package.json', needsNetwork: true, ... }, ...]
 */
export async function detectRepositoryCommands(
  root: string,
  files: readonly string[],
): Promise<RepositoryCommand[]> {
  return (await mapRepositoryCommands(root, files)).commands;
}

function otherPackageManager(repository: Repository): PackageManager | undefined {
  const found: Array<[PackageManager['name'], string[]]> = [
    ['cargo', ['Cargo.lock', 'Cargo.toml']],
    ['go', ['go.sum', 'go.mod']],
    ['maven', ['pom.xml']],
    ['gradle', ['settings.gradle.kts', 'settings.gradle', 'build.gradle.kts', 'build.gradle']],
  ];
  for (const [name, manifests] of found) {
    const declaredIn = manifests.map((file) => inScope('', file)).find((file) => repository.has.has(file));
    if (declaredIn) return { name, declaredIn };
  }
  return undefined;
}

// --- lifecycle scripts -----------------------------------------------------------------------

/**
 * The argv an install command runs with under a capability contract. The map's install commands
 * leave lifecycle scripts off; when the contract's `setup.lifecycleScripts` is true the flags that
 * keep them off are taken out, and when it is false they are put in if an argv lacks them (a map
 * recorded before they existed). go and Maven commands run no install scripts and stay as they are.
 *
 * @example
 * const [install] = await detectRepositoryCommands(root, ['package-lock.json', 'package.json']);
 * installArgv(install, registry.get('low-risk-bugfix')); // ['npm', 'ci', '--ignore-scripts']
 * installArgv(install, { setup: { lifecycleScripts: true } }); // ['npm', 'ci']
 */
export function installArgv(
  command: RepositoryCommand,
  contract: Pick<CapabilityContract, 'setup'>,
): string[] {
  if (command.kind !== 'install') {
    throw new RangeError(
      `installArgv takes an install command, not ${command.kind} (${command.argv.join(' ')})`,
    );
  }
  const argv = command.argv;
  const pipBinaryOnly = argv.findIndex(
    (arg, index) => arg === PIP_BINARY_ONLY[0] && argv[index + 1] === PIP_BINARY_ONLY[1],
  );
  if (contract.setup.lifecycleScripts) {
    return argv.filter(
      (arg, index) =>
        arg !== IGNORE_SCRIPTS &&
        arg !== YARN_BERRY_SCRIPTS_OFF &&
        (pipBinaryOnly === -1 || (index !== pipBinaryOnly && index !== pipBinaryOnly + 1)),
    );
  }
  if (argv.includes(IGNORE_SCRIPTS) || argv.includes(YARN_BERRY_SCRIPTS_OFF) || pipBinaryOnly !== -1) {
    return [...argv];
  }
  switch (command.ecosystem) {
    case 'npm':
    case 'pnpm':
      return [...argv, IGNORE_SCRIPTS];
    case 'yarn':
      return [...argv, argv.includes('--immutable') ? YARN_BERRY_SCRIPTS_OFF : IGNORE_SCRIPTS];
    case 'pytest':
    case 'pip':
      return [...argv, ...PIP_BINARY_ONLY];
    default:
      return [...argv];
  }
}
