import { parse as parseToml } from 'smol-toml';
import type { PackageManager } from '../domain/context.js';
import {
  asArray,
  type Candidate,
  candidate,
  type Findings,
  firstLevelDirectories,
  inScope,
  isRecord,
  lineOf,
  type Repository,
} from './command-candidates.js';
import { envNameKind } from './command-line.js';
import { PIP_BINARY_ONLY, PIP_INSTALL } from './install-flags.js';
import { readRepositoryText } from './repository-files.js';

const PYTHON_PROJECT_FILES = [
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  'pytest.ini',
  'tox.ini',
  'noxfile.py',
];
const PYTEST_REQUIREMENT = /^\s*pytest\s*(?:[<>=!~;[@]|$)/im;
const INSTALL_NOTE =
  'the runtime installs into a virtualenv of the workspace (.venv); dependency groups and Poetry groups are not installed by pip';

export interface PythonFindings extends Findings {
  packageManager: PackageManager | undefined;
}

/**
 * The Python commands of the repository's root and, when the root is no Python project, of each
 * first-level directory that is one.
 *
 * - Install (always, for an installable pyproject.toml or setup.py and each requirements*.txt):
 *   `python3 -m pip install --only-binary :all: -e .[test]` / `-r requirements.txt`, from the root,
 *   with the network; the runtime builds the virtualenv they install into.
 * - Tests: `uv run pytest` for a uv project (uv.lock or `[tool.uv]`, with `--group`/`--extra` when
 *   pytest sits in a group other than dev), `poetry run pytest` for Poetry (`[tool.poetry]` or
 *   poetry.lock), and `python3 -m pytest` whenever pytest is configured or required (pytest.ini,
 *   `[tool.pytest.ini_options]`, setup.cfg `[tool:pytest]`, tox.ini `[pytest]`, the dependencies) or,
 *   as a guess, when there are conftest.py or test_*.py files.
 * - tox.ini: `tox` for its envlist, `tox -e lint` (and type, format) for those environments.
 * - noxfile.py: `nox -s <session>` for its test, lint, type and format sessions.
 */
export async function pythonFindings(repository: Repository): Promise<PythonFindings> {
  const rootIsPython = hasPythonProjectFile(repository, '');
  const scopes = rootIsPython
    ? ['']
    : ['', ...firstLevelDirectories(repository).filter((scope) => hasPythonProjectFile(repository, scope))];
  const findings: PythonFindings = { candidates: [], skipped: [], packageManager: undefined };
  for (const scope of scopes) {
    const others = scope === '' ? scopes.filter((other) => other !== '') : [];
    const project = await pythonProject(repository, scope, others);
    if (project) findings.candidates.push(...installCandidates(project), ...testCandidates(project));
    findings.candidates.push(
      ...(await toxCandidates(repository, scope)),
      ...(await noxCandidates(repository, scope)),
    );
    if (project && scope === '') findings.packageManager = managerOf(project);
  }
  return findings;
}

function managerOf(project: PythonProject): PackageManager | undefined {
  if (project.uv) return { name: 'uv', declaredIn: project.uv };
  if (project.poetry) return { name: 'poetry', declaredIn: project.poetry };
  const declaredIn = project.installable ?? project.requirements[0];
  return declaredIn ? { name: 'pip', declaredIn } : undefined;
}

interface PythonProject {
  scope: string;
  pyprojectPath: string;
  pyproject: Record<string, unknown> | undefined;
  pyprojectText: string | undefined;
  requirements: string[];
  /** The file that makes it installable (pyproject.toml or setup.py). */
  installable: string | undefined;
  /** The file that declares pytest, and how explicitly: `config` for configuration or a dependency. */
  pytest: { file: string; line?: number; how: 'config' | 'guess' } | undefined;
  /** The file that makes it a uv (or Poetry) project: the lockfile, else pyproject.toml. */
  uv: string | undefined;
  poetry: string | undefined;
  srcLayout: boolean;
}

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

async function pythonProject(
  repository: Repository,
  scope: string,
  excludedScopes: readonly string[],
): Promise<PythonProject | undefined> {
  const pyprojectPath = inScope(scope, 'pyproject.toml');
  const pyprojectText = repository.has.has(pyprojectPath)
    ? await readRepositoryText(repository.root, pyprojectPath)
    : undefined;
  const pyproject = parsePyproject(pyprojectText);
  const requirements = requirementFiles(repository, scope);
  const pytest = await pytestDeclaration(
    repository,
    scope,
    pyprojectPath,
    pyproject,
    pyprojectText,
    requirements,
    excludedScopes,
  );
  const isPackage = pyproject && (isRecord(pyproject.project) || isRecord(pyproject['build-system']));
  const setupPy = inScope(scope, 'setup.py');
  const installable = isPackage ? pyprojectPath : repository.has.has(setupPy) ? setupPy : undefined;
  if (!pytest && !installable && requirements.length === 0) return undefined;
  const tool = pyproject && isRecord(pyproject.tool) ? pyproject.tool : {};
  const prefix = scope ? `${scope}/src/` : 'src/';
  return {
    scope,
    pyprojectPath,
    pyproject,
    pyprojectText,
    requirements,
    installable,
    pytest,
    uv: managedBy(repository, scope, 'uv.lock', tool.uv !== undefined),
    poetry: managedBy(repository, scope, 'poetry.lock', tool.poetry !== undefined),
    srcLayout: repository.files.some(
      (file) => file.startsWith(prefix) && /^[^/]+\/__init__\.py$/.test(file.slice(prefix.length)),
    ),
  };
}

function managedBy(
  repository: Repository,
  scope: string,
  lockfile: string,
  declared: boolean,
): string | undefined {
  const lock = inScope(scope, lockfile);
  if (repository.has.has(lock)) return lock;
  return declared ? inScope(scope, 'pyproject.toml') : undefined;
}

function parsePyproject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch {
    // Malformed TOML declares nothing; the other pytest signals still apply.
    return undefined;
  }
}

function installCandidates(project: PythonProject): Candidate[] {
  const found: Candidate[] = [];
  for (const requirement of project.requirements) {
    found.push(
      candidate(
        {
          ecosystem: 'pip',
          kind: 'install',
          argv: [...PIP_INSTALL, ...PIP_BINARY_ONLY, '-r', requirement],
          declaredIn: requirement,
          source: 'manifest',
          confidence: 0.85,
          needsNetwork: true,
          note: INSTALL_NOTE,
        },
        requirement,
      ),
    );
  }
  if (project.installable) {
    const extra = project.installable.endsWith('pyproject.toml') ? testExtra(project.pyproject) : undefined;
    const target = `${project.scope ? `./${project.scope}` : '.'}${extra ? `[${extra}]` : ''}`;
    found.push(
      candidate(
        {
          ecosystem: 'pip',
          kind: 'install',
          argv: [...PIP_INSTALL, ...PIP_BINARY_ONLY, '-e', target],
          declaredIn: project.installable,
          source: 'manifest',
          confidence: 0.85,
          needsNetwork: true,
          note: INSTALL_NOTE,
        },
        `${project.installable}${extra ? ` with the ${extra} extra` : ''}`,
      ),
    );
  }
  return found;
}

function testCandidates(project: PythonProject): Candidate[] {
  const { pytest, scope } = project;
  if (!pytest) return [];
  const found: Candidate[] = [];
  const note = project.srcLayout ? 'src layout: the tests import the installed project' : undefined;
  const group = pytestGroup(project.pyproject);
  if (project.uv) {
    const selector =
      group?.kind === 'group' && group.name !== 'dev'
        ? ['--group', group.name]
        : group?.kind === 'extra'
          ? ['--extra', group.name]
          : [];
    found.push(
      candidate(
        {
          ecosystem: 'uv',
          kind: 'test',
          argv: ['uv', 'run', ...selector, 'pytest'],
          cwd: scope,
          ...(scope ? { rootArgv: ['uv', 'run', '--directory', scope, ...selector, 'pytest'] } : {}),
          declaredIn: project.uv,
          source: 'manifest',
          confidence: 0.85,
          ...(note ? { note } : {}),
        },
        `uv project (${project.uv}), pytest from ${pytest.file}`,
      ),
    );
  } else if (project.poetry) {
    found.push(
      candidate(
        {
          ecosystem: 'poetry',
          kind: 'test',
          argv: ['poetry', 'run', 'pytest'],
          cwd: scope,
          ...(scope ? { rootArgv: ['poetry', '--directory', scope, 'run', 'pytest'] } : {}),
          declaredIn: project.poetry,
          source: 'manifest',
          confidence: 0.85,
          ...(note ? { note } : {}),
        },
        `Poetry project (${project.poetry}), pytest from ${pytest.file}`,
      ),
    );
  }
  const explicit = pytest.how === 'config';
  found.push(
    candidate(
      {
        ecosystem: 'pytest',
        kind: 'test',
        argv: ['python3', '-m', 'pytest'],
        cwd: scope,
        ...(scope ? { rootArgv: ['python3', '-m', 'pytest', scope] } : {}),
        declaredIn: pytest.file,
        ...(pytest.line ? { line: pytest.line } : {}),
        source: explicit ? 'manifest' : 'convention',
        confidence: explicit ? (project.uv || project.poetry ? 0.6 : 0.85) : 0.4,
        ...(note ? { note } : {}),
      },
      explicit ? `pytest configured in ${pytest.file}` : `pytest guessed from ${pytest.file}`,
    ),
  );
  return found;
}

/** The file that makes this scope a pytest project, in order of how explicitly it says so. */
async function pytestDeclaration(
  repository: Repository,
  scope: string,
  pyprojectPath: string,
  pyproject: Record<string, unknown> | undefined,
  pyprojectText: string | undefined,
  requirements: readonly string[],
  excludedScopes: readonly string[],
): Promise<PythonProject['pytest']> {
  const pytestIni = inScope(scope, 'pytest.ini');
  if (repository.has.has(pytestIni)) return { file: pytestIni, how: 'config' };
  if (pyproject && isRecord(pyproject.tool) && pyproject.tool.pytest !== undefined) {
    const line = lineOf(pyprojectText ?? '', /^\[tool\.pytest/m);
    return { file: pyprojectPath, ...(line ? { line } : {}), how: 'config' };
  }
  if (pyproject && pytestGroup(pyproject)) return { file: pyprojectPath, how: 'config' };
  for (const [name, section] of [
    ['tox.ini', /^\s*\[pytest\]/m],
    ['setup.cfg', /^\s*\[tool:pytest\]/m],
  ] as const) {
    const file = inScope(scope, name);
    if (!repository.has.has(file)) continue;
    const text = await readRepositoryText(repository.root, file);
    const line = text ? lineOf(text, section) : undefined;
    if (line) return { file, line, how: 'config' };
  }
  for (const requirement of requirements) {
    const text = await readRepositoryText(repository.root, requirement);
    const line = text ? lineOf(text, PYTEST_REQUIREMENT) : undefined;
    if (line) return { file: requirement, line, how: 'config' };
  }
  const conftest = inScope(scope, 'conftest.py');
  if (repository.has.has(conftest)) return { file: conftest, how: 'guess' };
  const prefix = scope ? `${scope}/` : '';
  const testFile = repository.files.find(
    (file) =>
      file.startsWith(prefix) &&
      !excludedScopes.some((excluded) => file.startsWith(`${excluded}/`)) &&
      (isPythonTestFile(file) || file.endsWith('/conftest.py')),
  );
  return testFile ? { file: testFile, how: 'guess' } : undefined;
}

function isPythonTestFile(file: string): boolean {
  const name = file.slice(file.lastIndexOf('/') + 1);
  return /^test_.+\.py$/.test(name) || /^.+_test\.py$/.test(name);
}

/** Where pyproject.toml names pytest: a dependency group, an extra, or the main or Poetry dependencies. */
function pytestGroup(
  pyproject: Record<string, unknown> | undefined,
): { kind: 'group' | 'extra' | 'main'; name: string } | undefined {
  if (!pyproject) return undefined;
  const namesPytest = (requirements: unknown) =>
    asArray(requirements).some(
      (requirement) => typeof requirement === 'string' && PYTEST_REQUIREMENT.test(requirement),
    );
  const project = isRecord(pyproject.project) ? pyproject.project : {};
  if (namesPytest(project.dependencies)) return { kind: 'main', name: 'main' };
  for (const [name, group] of Object.entries(
    isRecord(pyproject['dependency-groups']) ? pyproject['dependency-groups'] : {},
  )) {
    if (namesPytest(group)) return { kind: 'group', name };
  }
  for (const [name, group] of Object.entries(
    isRecord(project['optional-dependencies']) ? project['optional-dependencies'] : {},
  )) {
    if (namesPytest(group)) return { kind: 'extra', name };
  }
  const tool = isRecord(pyproject.tool) ? pyproject.tool : {};
  const uv = isRecord(tool.uv) ? tool.uv : {};
  if (namesPytest(uv['dev-dependencies'])) return { kind: 'group', name: 'dev' };
  const poetry = isRecord(tool.poetry) ? tool.poetry : {};
  const hasPytest = (table: unknown) =>
    isRecord(table) && Object.keys(table).some((key) => key.toLowerCase() === 'pytest');
  if (hasPytest(poetry.dependencies) || hasPytest(poetry['dev-dependencies']))
    return { kind: 'main', name: 'main' };
  for (const [name, group] of Object.entries(isRecord(poetry.group) ? poetry.group : {})) {
    if (isRecord(group) && hasPytest(group.dependencies)) return { kind: 'main', name };
  }
  const pdm = isRecord(tool.pdm) ? tool.pdm : {};
  for (const group of Object.values(isRecord(pdm['dev-dependencies']) ? pdm['dev-dependencies'] : {})) {
    if (namesPytest(group)) return { kind: 'main', name: 'dev' };
  }
  return undefined;
}

function testExtra(pyproject: Record<string, unknown> | undefined): string | undefined {
  const project = pyproject && isRecord(pyproject.project) ? pyproject.project : {};
  const extras = isRecord(project['optional-dependencies'])
    ? Object.keys(project['optional-dependencies'])
    : [];
  return ['test', 'tests', 'testing', 'dev'].find((name) => extras.includes(name));
}

async function toxCandidates(repository: Repository, scope: string): Promise<Candidate[]> {
  const file = inScope(scope, 'tox.ini');
  if (!repository.has.has(file)) return [];
  const text = await readRepositoryText(repository.root, file);
  if (!text) return [];
  const found: Candidate[] = [];
  const envlistLine = lineOf(text, /^\s*env_?list\s*=/m);
  const rootArgv = (args: string[]) => (scope ? { rootArgv: ['tox', '-c', file, ...args] } : {});
  if (envlistLine) {
    found.push(
      candidate(
        {
          ecosystem: 'tox',
          kind: 'test',
          argv: ['tox'],
          cwd: scope,
          ...rootArgv([]),
          declaredIn: file,
          line: envlistLine,
          source: 'manifest',
          confidence: 0.8,
        },
        `${file} envlist`,
      ),
    );
  }
  const seen = new Set<string>();
  for (const match of text.matchAll(/^\s*\[testenv:([^\]\s]+)\]/gm)) {
    const env = match[1] as string;
    const kind = envNameKind(env);
    if (kind === 'test' || kind === 'build' || seen.has(kind)) continue;
    seen.add(kind);
    found.push(
      candidate(
        {
          ecosystem: 'tox',
          kind,
          argv: ['tox', '-e', env],
          cwd: scope,
          ...rootArgv(['-e', env]),
          declaredIn: file,
          line:
            lineOf(
              text,
              new RegExp(`^\\s*\\[testenv:${env.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]`, 'm'),
            ) ?? 1,
          source: 'manifest',
          confidence: 0.8,
        },
        `${file} [testenv:${env}]`,
      ),
    );
  }
  return found;
}

async function noxCandidates(repository: Repository, scope: string): Promise<Candidate[]> {
  const file = inScope(scope, 'noxfile.py');
  if (!repository.has.has(file)) return [];
  const text = await readRepositoryText(repository.root, file);
  if (!text) return [];
  const found: Candidate[] = [];
  const seen = new Set<string>();
  const sessions = /@nox\.session\b([^\n]*)\n(?:\s*@[^\n]*\n)*\s*def\s+(\w+)/g;
  for (const match of text.matchAll(sessions)) {
    const named = /name\s*=\s*["']([^"']+)["']/.exec(match[1] ?? '');
    const session = named?.[1] ?? (match[2] as string);
    const kind = envNameKind(session === 'tests' || session === 'test' ? 'test' : session);
    if (kind === 'build' || seen.has(kind)) continue;
    seen.add(kind);
    found.push(
      candidate(
        {
          ecosystem: 'nox',
          kind,
          argv: ['nox', '-s', session],
          cwd: scope,
          ...(scope ? { rootArgv: ['nox', '-f', file, '-s', session] } : {}),
          declaredIn: file,
          line: lineOfOffset(text, match.index ?? 0),
          source: 'manifest',
          confidence: 0.75,
        },
        `${file} session ${session}`,
      ),
    );
  }
  return found;
}

function lineOfOffset(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}
