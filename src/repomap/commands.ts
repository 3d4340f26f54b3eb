import { parse as parseToml } from 'smol-toml';
import type { RepositoryCommand } from '../domain/context.js';
import type { CapabilityContract } from '../policy/capabilities.js';
import { comparePaths, readRepositoryText } from './repository-files.js';

/**
 * Finds the install, build and test commands a repository declares.
 *
 * Looked at: the repository root and, for monorepos, each first-level directory
 * (`web/package.json`, `api/go.mod`). Every argv runs from the repository root, so a command
 * found in a first-level directory carries that directory in its flags
 * (`npm test --prefix web`, `go -C api test ./...`, `make -C tools test`).
 *
 * - npm / pnpm / yarn (`package.json`): the manager comes from the `packageManager` field, else
 *   the lockfile (package-lock.json or npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock), else npm
 *   (or the root's manager for a first-level directory). Install is frozen when locked
 *   (`npm ci`, `pnpm install --frozen-lockfile`, `yarn install --frozen-lockfile`, or
 *   `--immutable` for Yarn 2+) and runs no lifecycle scripts (`--ignore-scripts`, or
 *   `--mode=skip-build` for Yarn 2+; see {@link installArgv}). `build` and `test` only when
 *   package.json has those scripts (npm's "no test specified" placeholder does not count). A first-level directory without
 *   its own lockfile under a root that declares workspaces gets no install of its own.
 * - pytest: `[tool.pytest...]` or pytest among the dependencies of pyproject.toml, pytest.ini,
 *   setup.cfg `[tool:pytest]`, tox.ini `[pytest]`, pytest in requirements*.txt, conftest.py or
 *   test_*.py / *_test.py files → `python3 -m pytest`; install with `pip install -r` per
 *   requirements*.txt and `pip install -e .` (with a test/dev extra when declared) for an
 *   installable pyproject.toml or setup.py, both `--only-binary :all:` so no dependency's
 *   setup.py runs (pip still builds the project itself). A first-level directory is its own Python project
 *   only when the root has no Python project files.
 * - go (`go.mod`): `go test ./...`, `go build ./...`, and `go mod download` when go.sum exists.
 * - Maven (`pom.xml`): `mvn -q test`, `mvn -q -DskipTests package`, `mvn -q dependency:go-offline`,
 *   through `./mvnw` when the wrapper exists. Skipped in first-level directories when the root
 *   has a pom.xml (they are its modules).
 * - Gradle (`build.gradle[.kts]` or `settings.gradle[.kts]`): `gradle test`, `gradle assemble`,
 *   through `./gradlew` when present; no install command (Gradle has no reliable prefetch).
 *   Skipped in first-level directories when the root is a Gradle build.
 * - make (GNUmakefile, makefile or Makefile, in make's own order): `make test` / `make build`
 *   when the target is defined.
 *
 * The files are data from the repository: they are parsed, never executed or evaluated.
 *
 * @example
 * const commands = await detectRepositoryCommands(root, ['package-lock.json', 'package.json']);
 * // [{ ecosystem: 'npm', kind: 'install', argv: ['npm', 'ci', '--ignore-scripts'], declaredIn: 'package.json', needsNetwork: true }, ...]
 */
export async function detectRepositoryCommands(
  root: string,
  files: readonly string[],
): Promise<RepositoryCommand[]> {
  const repository: Repository = { root, files, has: new Set(files) };
  const scopes = ['', ...firstLevelDirectories(files)];
  const rootNode = await nodeProject(repository, '');
  const rootIsPython = hasPythonProjectFile(repository, '');
  const pythonScopes = scopes.filter(
    (scope) => scope === '' || (!rootIsPython && hasPythonProjectFile(repository, scope)),
  );
  const commands: RepositoryCommand[] = [];
  for (const scope of scopes) {
    commands.push(...(await nodeCommands(repository, scope, rootNode)));
    if (pythonScopes.includes(scope)) {
      const otherScopes = pythonScopes.filter((other) => other !== '');
      commands.push(...(await pytestCommands(repository, scope, scope === '' ? otherScopes : [])));
    }
    commands.push(...goCommands(repository, scope));
    if (scope === '' || !repository.has.has('pom.xml')) commands.push(...mavenCommands(repository, scope));
    if (scope === '' || !gradleBuildFile(repository, '')) commands.push(...gradleCommands(repository, scope));
    commands.push(...(await makeCommands(repository, scope)));
  }
  return commands;
}

// --- lifecycle scripts -----------------------------------------------------------------------

const IGNORE_SCRIPTS = '--ignore-scripts';
/** Yarn 2+ has no --ignore-scripts; skipping the build step is how it leaves scripts unrun. */
const YARN_BERRY_SCRIPTS_OFF = '--mode=skip-build';
const PIP_INSTALL = ['python3', '-m', 'pip', 'install'] as const;
/** Wheels only: an sdist's setup.py is a lifecycle script by another name. */
const PIP_BINARY_ONLY = ['--only-binary', ':all:'] as const;

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
      return [...argv, ...PIP_BINARY_ONLY];
    default:
      return [...argv];
  }
}

interface Repository {
  root: string;
  files: readonly string[];
  has: ReadonlySet<string>;
}

function firstLevelDirectories(files: readonly string[]): string[] {
  const directories = new Set<string>();
  for (const file of files) {
    const slash = file.indexOf('/');
    if (slash > 0) directories.add(file.slice(0, slash));
  }
  return [...directories].sort(comparePaths);
}

function inScope(scope: string, name: string): string {
  return scope ? `${scope}/${name}` : name;
}

function command(
  ecosystem: RepositoryCommand['ecosystem'],
  kind: RepositoryCommand['kind'],
  argv: string[],
  declaredIn: string,
  needsNetwork = false,
): RepositoryCommand {
  return { ecosystem, kind, argv, declaredIn, needsNetwork };
}

// --- npm, pnpm, yarn -------------------------------------------------------------------------

type NodeManager = 'npm' | 'pnpm' | 'yarn';

interface NodeProject {
  manifest: string;
  scripts: Record<string, unknown>;
  manager: NodeManager;
  /** The lockfile in the project's own directory, if any. */
  lockfile: string | undefined;
  declaresWorkspaces: boolean;
  yarnBerry: boolean;
}

const LOCKFILES: ReadonlyArray<[string, NodeManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

async function nodeProject(repository: Repository, scope: string): Promise<NodeProject | undefined> {
  const manifest = inScope(scope, 'package.json');
  if (!repository.has.has(manifest)) return undefined;
  const text = await readRepositoryText(repository.root, manifest);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    // An unreadable manifest declares nothing Gantry could run with confidence.
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const declared = typeof parsed.packageManager === 'string' ? parsed.packageManager : '';
  const declaredMatch = /^(npm|pnpm|yarn)@(\d+)?/.exec(declared);
  const lock = LOCKFILES.find(([name]) => repository.has.has(inScope(scope, name)));
  const manager = (declaredMatch?.[1] as NodeManager | undefined) ?? lock?.[1] ?? 'npm';
  const yarnMajor = declaredMatch?.[1] === 'yarn' && declaredMatch[2] ? Number(declaredMatch[2]) : undefined;
  const lockfile = LOCKFILES.find(
    ([name, owner]) => owner === manager && repository.has.has(inScope(scope, name)),
  )?.[0];
  return {
    manifest,
    scripts: isRecord(parsed.scripts) ? parsed.scripts : {},
    manager,
    lockfile: lockfile ? inScope(scope, lockfile) : undefined,
    declaresWorkspaces:
      parsed.workspaces !== undefined || repository.has.has(inScope(scope, 'pnpm-workspace.yaml')),
    yarnBerry:
      yarnMajor !== undefined
        ? yarnMajor >= 2
        : repository.has.has(inScope(scope, '.yarnrc.yml')) || repository.has.has('.yarnrc.yml'),
  };
}

async function nodeCommands(
  repository: Repository,
  scope: string,
  rootProject: NodeProject | undefined,
): Promise<RepositoryCommand[]> {
  const project = scope === '' ? rootProject : await nodeProject(repository, scope);
  if (!project) return [];
  const workspaceMember = scope !== '' && !project.lockfile && rootProject?.declaresWorkspaces === true;
  // A member without its own lockfile is installed, and run, by the root's manager.
  const manager = workspaceMember && rootProject ? rootProject.manager : project.manager;
  const run = nodeRunner(manager, scope);
  const commands: RepositoryCommand[] = [];
  if (!workspaceMember) {
    commands.push(command(manager, 'install', run(installArgs(manager, project)), project.manifest, true));
  }
  if (typeof project.scripts.build === 'string') {
    commands.push(command(manager, 'build', run(['run', 'build']), project.manifest));
  }
  const test = project.scripts.test;
  if (typeof test === 'string' && !/no test specified/.test(test)) {
    commands.push(command(manager, 'test', run(['test']), project.manifest));
  }
  return commands;
}

function installArgs(manager: NodeManager, project: NodeProject): string[] {
  const scriptsOff = manager === 'yarn' && project.yarnBerry ? YARN_BERRY_SCRIPTS_OFF : IGNORE_SCRIPTS;
  if (!project.lockfile) return ['install', scriptsOff];
  if (manager === 'npm') return ['ci', scriptsOff];
  if (manager === 'pnpm') return ['install', '--frozen-lockfile', scriptsOff];
  return ['install', project.yarnBerry ? '--immutable' : '--frozen-lockfile', scriptsOff];
}

function nodeRunner(manager: NodeManager, scope: string): (args: string[]) => string[] {
  if (!scope) return (args) => [manager, ...args];
  if (manager === 'npm') return (args) => ['npm', ...args, '--prefix', scope];
  if (manager === 'pnpm') return (args) => ['pnpm', '--dir', scope, ...args];
  return (args) => ['yarn', '--cwd', scope, ...args];
}

// --- pytest ----------------------------------------------------------------------------------

const PYTHON_PROJECT_FILES = ['pyproject.toml', 'setup.py', 'setup.cfg', 'pytest.ini', 'tox.ini'];
const PYTEST_REQUIREMENT = /^\s*pytest\s*(?:[<>=!~;[@]|$)/im;

function requirementFiles(repository: Repository, scope: string): string[] {
  return repository.files.filter((file) => {
    const name = scope ? (file.startsWith(`${scope}/`) ? file.slice(scope.length + 1) : '') : file;
    return /^requirements[^/]*\.txt$/.test(name);
  });
}

function hasPythonProjectFile(repository: Repository, scope: string): boolean {
  return (
    PYTHON_PROJECT_FILES.some((name) => repository.has.has(inScope(scope, name))) ||
    requirementFiles(repository, scope).length > 0
  );
}

function isPythonTestFile(file: string): boolean {
  const name = file.slice(file.lastIndexOf('/') + 1);
  return /^test_.+\.py$/.test(name) || /^.+_test\.py$/.test(name);
}

async function pytestCommands(
  repository: Repository,
  scope: string,
  excludedScopes: readonly string[],
): Promise<RepositoryCommand[]> {
  const pyprojectPath = inScope(scope, 'pyproject.toml');
  const pyproject = repository.has.has(pyprojectPath)
    ? await readPyproject(repository.root, pyprojectPath)
    : undefined;
  const requirements = requirementFiles(repository, scope);
  const declaredIn = await pytestDeclaration(
    repository,
    scope,
    pyprojectPath,
    pyproject,
    requirements,
    excludedScopes,
  );
  if (!declaredIn) return [];

  const commands: RepositoryCommand[] = [];
  for (const requirement of requirements) {
    commands.push(
      command(
        'pytest',
        'install',
        [...PIP_INSTALL, ...PIP_BINARY_ONLY, '-r', requirement],
        requirement,
        true,
      ),
    );
  }
  const installable = pyproject && (isRecord(pyproject.project) || isRecord(pyproject['build-system']));
  const setupPy = inScope(scope, 'setup.py');
  if (installable || repository.has.has(setupPy)) {
    const extra = installable ? testExtra(pyproject) : undefined;
    const target = `${scope ? `./${scope}` : '.'}${extra ? `[${extra}]` : ''}`;
    commands.push(
      command(
        'pytest',
        'install',
        [...PIP_INSTALL, ...PIP_BINARY_ONLY, '-e', target],
        installable ? pyprojectPath : setupPy,
        true,
      ),
    );
  }
  commands.push(
    command('pytest', 'test', ['python3', '-m', 'pytest', ...(scope ? [scope] : [])], declaredIn),
  );
  return commands;
}

/** The file that makes this scope a pytest project, in order of how explicitly it says so. */
async function pytestDeclaration(
  repository: Repository,
  scope: string,
  pyprojectPath: string,
  pyproject: Record<string, unknown> | undefined,
  requirements: readonly string[],
  excludedScopes: readonly string[],
): Promise<string | undefined> {
  const pytestIni = inScope(scope, 'pytest.ini');
  if (repository.has.has(pytestIni)) return pytestIni;
  if (
    pyproject &&
    ((isRecord(pyproject.tool) && pyproject.tool.pytest !== undefined) || pyprojectNamesPytest(pyproject))
  ) {
    return pyprojectPath;
  }
  for (const [name, section] of [
    ['tox.ini', /^\s*\[pytest\]/m],
    ['setup.cfg', /^\s*\[tool:pytest\]/m],
  ] as const) {
    const file = inScope(scope, name);
    if (!repository.has.has(file)) continue;
    const text = await readRepositoryText(repository.root, file);
    if (text && section.test(text)) return file;
  }
  const conftest = inScope(scope, 'conftest.py');
  if (repository.has.has(conftest)) return conftest;
  for (const requirement of requirements) {
    const text = await readRepositoryText(repository.root, requirement);
    if (text && PYTEST_REQUIREMENT.test(text)) return requirement;
  }
  const prefix = scope ? `${scope}/` : '';
  return repository.files.find(
    (file) =>
      file.startsWith(prefix) &&
      !excludedScopes.some((excluded) => file.startsWith(`${excluded}/`)) &&
      (isPythonTestFile(file) || file.endsWith('/conftest.py')),
  );
}

async function readPyproject(root: string, file: string): Promise<Record<string, unknown> | undefined> {
  const text = await readRepositoryText(root, file);
  if (text === undefined) return undefined;
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch {
    // Malformed TOML declares nothing; the other pytest signals still apply.
    return undefined;
  }
}

function pyprojectNamesPytest(pyproject: Record<string, unknown>): boolean {
  const requirements: unknown[] = [];
  const names: string[] = [];
  const project = isRecord(pyproject.project) ? pyproject.project : {};
  requirements.push(...asArray(project.dependencies));
  for (const group of Object.values(
    isRecord(project['optional-dependencies']) ? project['optional-dependencies'] : {},
  )) {
    requirements.push(...asArray(group));
  }
  for (const group of Object.values(
    isRecord(pyproject['dependency-groups']) ? pyproject['dependency-groups'] : {},
  )) {
    requirements.push(...asArray(group));
  }
  const tool = isRecord(pyproject.tool) ? pyproject.tool : {};
  const poetry = isRecord(tool.poetry) ? tool.poetry : {};
  for (const table of [poetry.dependencies, poetry['dev-dependencies']]) {
    if (isRecord(table)) names.push(...Object.keys(table));
  }
  for (const group of Object.values(isRecord(poetry.group) ? poetry.group : {})) {
    if (isRecord(group) && isRecord(group.dependencies)) names.push(...Object.keys(group.dependencies));
  }
  const pdm = isRecord(tool.pdm) ? tool.pdm : {};
  for (const group of Object.values(isRecord(pdm['dev-dependencies']) ? pdm['dev-dependencies'] : {})) {
    requirements.push(...asArray(group));
  }
  const uv = isRecord(tool.uv) ? tool.uv : {};
  requirements.push(...asArray(uv['dev-dependencies']));
  return (
    names.some((name) => name.toLowerCase() === 'pytest') ||
    requirements.some(
      (requirement) => typeof requirement === 'string' && PYTEST_REQUIREMENT.test(requirement),
    )
  );
}

function testExtra(pyproject: Record<string, unknown> | undefined): string | undefined {
  const project = pyproject && isRecord(pyproject.project) ? pyproject.project : {};
  const extras = isRecord(project['optional-dependencies'])
    ? Object.keys(project['optional-dependencies'])
    : [];
  return ['test', 'tests', 'testing', 'dev'].find((name) => extras.includes(name));
}

// --- go --------------------------------------------------------------------------------------

function goCommands(repository: Repository, scope: string): RepositoryCommand[] {
  const goMod = inScope(scope, 'go.mod');
  if (!repository.has.has(goMod)) return [];
  const go = (args: string[]) => ['go', ...(scope ? ['-C', scope] : []), ...args];
  const commands: RepositoryCommand[] = [];
  if (repository.has.has(inScope(scope, 'go.sum'))) {
    commands.push(command('go', 'install', go(['mod', 'download']), goMod, true));
  }
  commands.push(command('go', 'build', go(['build', './...']), goMod));
  commands.push(command('go', 'test', go(['test', './...']), goMod));
  return commands;
}

// --- Maven and Gradle ------------------------------------------------------------------------

function mavenCommands(repository: Repository, scope: string): RepositoryCommand[] {
  const pom = inScope(scope, 'pom.xml');
  if (!repository.has.has(pom)) return [];
  const wrapper = inScope(scope, 'mvnw');
  const mvn = (args: string[]) => [
    repository.has.has(wrapper) ? `./${wrapper}` : 'mvn',
    '-q',
    ...(scope ? ['-f', pom] : []),
    ...args,
  ];
  return [
    command('maven', 'install', mvn(['dependency:go-offline']), pom, true),
    command('maven', 'build', mvn(['-DskipTests', 'package']), pom),
    command('maven', 'test', mvn(['test']), pom),
  ];
}

function gradleBuildFile(repository: Repository, scope: string): string | undefined {
  return ['build.gradle.kts', 'build.gradle', 'settings.gradle.kts', 'settings.gradle']
    .map((name) => inScope(scope, name))
    .find((file) => repository.has.has(file));
}

function gradleCommands(repository: Repository, scope: string): RepositoryCommand[] {
  const buildFile = gradleBuildFile(repository, scope);
  if (!buildFile) return [];
  const wrapper = inScope(scope, 'gradlew');
  const gradle = (args: string[]) => [
    repository.has.has(wrapper) ? `./${wrapper}` : 'gradle',
    ...(scope ? ['-p', scope] : []),
    ...args,
  ];
  return [
    command('gradle', 'build', gradle(['assemble']), buildFile),
    command('gradle', 'test', gradle(['test']), buildFile),
  ];
}

// --- make ------------------------------------------------------------------------------------

async function makeCommands(repository: Repository, scope: string): Promise<RepositoryCommand[]> {
  const makefile = ['GNUmakefile', 'makefile', 'Makefile']
    .map((name) => inScope(scope, name))
    .find((file) => repository.has.has(file));
  if (!makefile) return [];
  const text = await readRepositoryText(repository.root, makefile);
  if (!text) return [];
  const targets = makeTargets(text);
  const make = (target: string) => ['make', ...(scope ? ['-C', scope] : []), target];
  return (['build', 'test'] as const)
    .filter((target) => targets.has(target))
    .map((target) => command('make', target, make(target), makefile));
}

/** Explicit rule targets: `name:` or `name::` at the start of a line, not `name := value`. */
export function makeTargets(makefile: string): Set<string> {
  const targets = new Set<string>();
  for (const line of makefile.split(/\r?\n/)) {
    const match = /^([^\t#:=][^#:=]*?)\s*::?(?![:=])/.exec(line);
    if (!match?.[1]) continue;
    for (const target of match[1].trim().split(/\s+/)) targets.add(target);
  }
  return targets;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
