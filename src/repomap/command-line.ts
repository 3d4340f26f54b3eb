import path from 'node:path';
import type { CommandKind, CommandSource, Ecosystem } from '../domain/context.js';
import { splitShellCommands } from '../gateway/shell-words.js';
import { type Candidate, candidate, normalizeScope, type Repository } from './command-candidates.js';

/**
 * Reading the command lines projects write in CI workflows, READMEs and task runners: which of them
 * install, build, test, lint, type-check or format, with which tool, and in which directory. Lines are
 * read, never run; a line whose meaning depends on the shell's state is refused, not guessed at.
 */

/** A command Gantry could run: its kind, its tool family and its argv (tidied: `python` → `python3`). */
export interface ClassifiedCommand {
  kind: CommandKind;
  ecosystem: Ecosystem;
  argv: string[];
}

/** A command of a kind Gantry tracks that it will not run, and why. */
export interface RefusedCommand {
  refused: string;
  kind?: CommandKind;
}

/** One simple command of a script, with the directory it runs in (`undefined`: outside what the map can follow). */
export interface ScriptCommand {
  argv: string[];
  cwd: string | undefined;
  line: number;
  text: string;
}

export interface ScriptLine {
  line: number;
  text: string;
}

/** Programs that only move files about or print, which no finder needs to report. */
const QUIET_PROGRAMS = new Set([
  'echo',
  'printf',
  'export',
  'set',
  'unset',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'ls',
  'cat',
  'git',
  'source',
  '.',
  'true',
  'false',
  'exit',
  'sleep',
  'which',
  'tee',
  'touch',
  'chmod',
  'env',
  'test',
  '[',
  'cd',
  'pushd',
  'popd',
  'grep',
  'head',
  'tail',
  'find',
  'xargs',
  'wc',
  'date',
  'pwd',
  'exec',
  'alias',
]);

const SYSTEM_INSTALLERS = new Set([
  'sudo',
  'apt',
  'apt-get',
  'brew',
  'choco',
  'yum',
  'dnf',
  'apk',
  'pacman',
  'snap',
]);
const SCRIPT_SHELLS = new Set(['bash', 'sh', 'zsh', 'pwsh', 'powershell']);

const TEST_SCRIPT = /^(test|tests|unit|coverage)([:_-].*)?$|^[\w-]+:(test|unit)$/;
const LINT_SCRIPT = /^(lint|eslint|biome)([:_-].*)?$/;
const TYPECHECK_SCRIPT = /^(typecheck|type-check|tsc|check-types|types|typescript)([:_-].*)?$/;
const FORMAT_SCRIPT = /^(format|fmt|prettier)([:_-].*)?$/;
const BUILD_SCRIPT = /^(build|compile)([:_-].*)?$/;

/**
 * The kind of a package.json script, by its name: `test`, `test:unit` and `unit` test, `lint:js`
 * lints, `typecheck` / `type-check` / `tsc` type-check, `format` / `fmt` format, `build` builds.
 *
 * @example
 * scriptKind('test:unit'); // 'test'
 * scriptKind('dev'); // undefined
 */
export function scriptKind(name: string): CommandKind | undefined {
  if (TYPECHECK_SCRIPT.test(name)) return 'typecheck';
  if (LINT_SCRIPT.test(name)) return 'lint';
  if (FORMAT_SCRIPT.test(name)) return 'format';
  if (BUILD_SCRIPT.test(name)) return 'build';
  if (TEST_SCRIPT.test(name)) return 'test';
  return undefined;
}

const JS_TOOLS: Readonly<Record<string, (args: readonly string[]) => CommandKind | undefined>> = {
  vitest: () => 'test',
  jest: () => 'test',
  mocha: () => 'test',
  ava: () => 'test',
  tap: () => 'test',
  karma: () => 'test',
  playwright: (args) => (args[0] === 'test' ? 'test' : undefined),
  eslint: () => 'lint',
  oxlint: () => 'lint',
  xo: () => 'lint',
  standard: () => 'lint',
  biome: (args) => (args[0] === 'format' ? 'format' : args[0] ? 'lint' : undefined),
  prettier: () => 'format',
  tsc: (args) => (args.includes('-b') || args.includes('--build') ? 'build' : 'typecheck'),
  'vue-tsc': () => 'typecheck',
};

const PYTHON_TOOLS: Readonly<Record<string, (args: readonly string[]) => CommandKind | undefined>> = {
  pytest: () => 'test',
  'py.test': () => 'test',
  unittest: () => 'test',
  mypy: () => 'typecheck',
  pyright: () => 'typecheck',
  ruff: (args) => (args[0] === 'format' ? 'format' : 'lint'),
  flake8: () => 'lint',
  pylint: () => 'lint',
  black: () => 'format',
  isort: () => 'format',
};

/** Options of npm, pnpm and yarn that take a value before the command. */
const NODE_VALUE_OPTIONS = new Set([
  '--prefix',
  '-w',
  '--workspace',
  '--filter',
  '-F',
  '--dir',
  '-C',
  '--cwd',
]);

/**
 * Classifies one simple command (no shell left in it): `npm run test:ci` tests with npm,
 * `python -m pytest -q` tests with pytest (as `python3`), `cargo clippy` lints, `sudo apt-get ...` is
 * refused with a reason, and `echo` or `npm start` are neither (undefined).
 *
 * @example
 * classifyCommand(['poetry', 'run', 'pytest']); // { kind: 'test', ecosystem: 'poetry', argv: ['poetry', 'run', 'pytest'] }
 */
export function classifyCommand(argv: readonly string[]): ClassifiedCommand | RefusedCommand | undefined {
  const [program = '', ...args] = argv;
  const name = path.posix.basename(program);
  if (QUIET_PROGRAMS.has(name)) return undefined;
  if (SYSTEM_INSTALLERS.has(name))
    return { refused: `${name} changes the system, not the project`, kind: 'install' };
  if (SCRIPT_SHELLS.has(name) || /\.(sh|bash|ps1|py)$/.test(program)) {
    return {
      refused:
        'runs a script of the repository through a shell or by path; Gantry runs build and test programs',
    };
  }
  switch (name) {
    case 'npm':
    case 'pnpm':
    case 'yarn':
      return nodeManager(name, argv);
    case 'npx': {
      const rest = withoutOptions(args, new Set(['-p', '--package']));
      const kind = rest[0] ? JS_TOOLS[rest[0]]?.(rest.slice(1)) : undefined;
      return kind ? { kind, ecosystem: 'npm', argv: [...argv] } : undefined;
    }
    case 'node':
      return args.includes('--test') ? { kind: 'test', ecosystem: 'npm', argv: [...argv] } : undefined;
    case 'python':
    case 'python3':
      return python(argv);
    case 'pip':
    case 'pip3':
      return args[0] === 'install' ? { kind: 'install', ecosystem: 'pip', argv: [...argv] } : undefined;
    case 'uv':
      return uv(argv);
    case 'uvx': {
      const kind = args[0] ? PYTHON_TOOLS[args[0]]?.(args.slice(1)) : undefined;
      return kind ? { kind, ecosystem: 'uv', argv: [...argv] } : undefined;
    }
    case 'poetry':
      return poetry(argv);
    case 'tox':
    case 'nox':
      return { kind: envKind(args), ecosystem: name, argv: [...argv] };
    case 'go':
      return goCommand(argv);
    case 'cargo':
      return cargoCommand(argv);
    case 'mvn':
    case 'mvnw':
      return mavenCommand(argv);
    case 'gradle':
    case 'gradlew':
      return gradleCommand(argv);
    case 'make':
      return makeCommand(argv);
    case 'cmake':
      return args.length ? { kind: 'build', ecosystem: 'cmake', argv: [...argv] } : undefined;
    case 'ctest':
      return { kind: 'test', ecosystem: 'cmake', argv: [...argv] };
    default:
      break;
  }
  const jsKind = JS_TOOLS[name]?.(args);
  if (jsKind) return { kind: jsKind, ecosystem: 'npm', argv: ['npx', ...argv] };
  const pythonKind = PYTHON_TOOLS[name]?.(args);
  if (pythonKind) return { kind: pythonKind, ecosystem: 'pytest', argv: [...argv] };
  return { refused: `${name} is not a build or test program Gantry runs` };
}

export function isClassified(
  reading: ClassifiedCommand | RefusedCommand | undefined,
): reading is ClassifiedCommand {
  return reading !== undefined && 'kind' in reading && 'argv' in reading;
}

function withoutOptions(args: readonly string[], valueOptions: ReadonlySet<string>): string[] {
  const rest: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (rest.length === 0 && arg.startsWith('-')) {
      if (valueOptions.has(arg)) index += 1;
      continue;
    }
    rest.push(arg);
  }
  return rest;
}

function nodeManager(name: 'npm' | 'pnpm' | 'yarn', argv: readonly string[]): ClassifiedCommand | undefined {
  const args = withoutOptions(argv.slice(1), NODE_VALUE_OPTIONS);
  const flags = argv.slice(1).filter((arg) => arg === '-r' || arg === '--recursive');
  let [verb, ...rest] = args;
  if (name === 'yarn' && (verb === 'workspace' || verb === 'workspaces')) {
    const run = rest.indexOf('run');
    [verb, ...rest] = run >= 0 ? rest.slice(run) : rest.slice(verb === 'workspace' ? 1 : 0);
  }
  const found = (kind: CommandKind): ClassifiedCommand => ({ kind, ecosystem: name, argv: [...argv] });
  if (verb === undefined) return name === 'yarn' && flags.length === 0 ? found('install') : undefined;
  if (['install', 'i', 'ci', 'install-clean', 'clean-install'].includes(verb)) return found('install');
  if (['test', 't', 'tst'].includes(verb)) return found('test');
  if (['run', 'run-script', 'rum', 'urn'].includes(verb)) {
    const kind = rest[0] ? scriptKind(rest[0]) : undefined;
    return kind ? found(kind) : undefined;
  }
  if (verb === 'exec' || verb === 'x' || verb === 'dlx') {
    const tool = rest.find((arg) => !arg.startsWith('-'));
    const kind = tool ? JS_TOOLS[tool]?.(rest.slice(rest.indexOf(tool) + 1)) : undefined;
    return kind ? found(kind) : undefined;
  }
  if (name !== 'npm') {
    const kind = scriptKind(verb) ?? JS_TOOLS[verb]?.(rest);
    return kind ? found(kind) : undefined;
  }
  return undefined;
}

function python(argv: readonly string[]): ClassifiedCommand | RefusedCommand | undefined {
  const tidy = ['python3', ...argv.slice(1)];
  const args = argv.slice(1);
  if (args[0] === '-m' && args[1]) {
    const module = args[1];
    if (module === 'pip') {
      return args[2] === 'install' ? { kind: 'install', ecosystem: 'pip', argv: tidy } : undefined;
    }
    if (module === 'tox' || module === 'nox')
      return { kind: envKind(args.slice(2)), ecosystem: module, argv: tidy };
    if (module === 'build') return { kind: 'build', ecosystem: 'pip', argv: tidy };
    const kind = PYTHON_TOOLS[module]?.(args.slice(2));
    return kind ? { kind, ecosystem: 'pytest', argv: tidy } : undefined;
  }
  if (args[0] === 'manage.py' && args[1] === 'test') return { kind: 'test', ecosystem: 'pytest', argv: tidy };
  if (args[0] === '-c') return { refused: 'runs inline Python code' };
  return undefined;
}

function uv(argv: readonly string[]): ClassifiedCommand | undefined {
  const [verb, ...rest] = argv.slice(1);
  if (verb === 'sync' || (verb === 'pip' && rest[0] === 'install')) {
    return { kind: 'install', ecosystem: 'uv', argv: [...argv] };
  }
  if (verb === 'build') return { kind: 'build', ecosystem: 'uv', argv: [...argv] };
  if (verb === 'run') {
    const inner = runTarget(
      rest,
      new Set(['--group', '--extra', '--with', '--python', '-p', '--package', '--directory']),
    );
    return inner ? { ...inner, ecosystem: 'uv', argv: [...argv] } : undefined;
  }
  return undefined;
}

function poetry(argv: readonly string[]): ClassifiedCommand | undefined {
  const [verb, ...rest] = argv.slice(1);
  if (verb === 'install' || verb === 'sync') return { kind: 'install', ecosystem: 'poetry', argv: [...argv] };
  if (verb === 'build') return { kind: 'build', ecosystem: 'poetry', argv: [...argv] };
  if (verb === 'run') {
    const inner = runTarget(rest, new Set());
    return inner ? { ...inner, ecosystem: 'poetry', argv: [...argv] } : undefined;
  }
  return undefined;
}

/** What `uv run X` / `poetry run X` runs, classified as X. */
function runTarget(
  args: readonly string[],
  valueOptions: ReadonlySet<string>,
): ClassifiedCommand | undefined {
  const rest = withoutOptions(args, valueOptions);
  if (!rest[0]) return undefined;
  const inner = classifyCommand(rest);
  return isClassified(inner) ? inner : undefined;
}

/** tox and nox environments or sessions by name: `-e lint` lints, `-s mypy` type-checks, anything else tests. */
function envKind(args: readonly string[]): CommandKind {
  const index = args.findIndex(
    (arg) => arg === '-e' || arg === '-s' || arg === '--session' || arg === '--sessions',
  );
  const names = index >= 0 ? (args[index + 1] ?? '').split(',') : [];
  return names.length > 0 && names.every((env) => envNameKind(env) === envNameKind(names[0] as string))
    ? envNameKind(names[0] as string)
    : 'test';
}

/** The kind of a tox environment or nox session, by its name. */
export function envNameKind(name: string): CommandKind {
  if (/^(mypy|pyright|type|types|typing|typecheck|type-check)$/.test(name)) return 'typecheck';
  if (/^(lint|flake8|ruff|pylint|pre-commit|style|check)$/.test(name)) return 'lint';
  if (/^(format|fmt|black|isort)$/.test(name)) return 'format';
  if (/^(docs?|build|release|publish)$/.test(name)) return 'build';
  return 'test';
}

function goCommand(argv: readonly string[]): ClassifiedCommand | RefusedCommand | undefined {
  const args = withoutOptions(argv.slice(1), new Set(['-C']));
  const found = (kind: CommandKind): ClassifiedCommand => ({ kind, ecosystem: 'go', argv: [...argv] });
  if (args[0] === 'test') return found('test');
  if (args[0] === 'vet') return found('lint');
  if (args[0] === 'build') return found('build');
  if (args[0] === 'mod' && args[1] === 'download') return found('install');
  if (args[0] === 'install') return { refused: 'go install puts a tool on the machine, outside the project' };
  return undefined;
}

function cargoCommand(argv: readonly string[]): ClassifiedCommand | RefusedCommand | undefined {
  const args = argv.slice(1).filter((arg) => !arg.startsWith('+'));
  const verb = withoutOptions(args, new Set(['--manifest-path', '-Z', '--config']))[0];
  const found = (kind: CommandKind): ClassifiedCommand => ({ kind, ecosystem: 'cargo', argv: [...argv] });
  if (verb === 'test' || verb === 't' || verb === 'nextest') return found('test');
  if (verb === 'clippy') return found('lint');
  if (verb === 'fmt') return found('format');
  if (verb === 'build' || verb === 'b') return found('build');
  if (verb === 'check' || verb === 'c') return found('typecheck');
  if (verb === 'fetch') return found('install');
  if (verb === 'install') return { refused: 'cargo install puts a tool on the machine, outside the project' };
  return undefined;
}

function mavenCommand(argv: readonly string[]): ClassifiedCommand | undefined {
  const goals: string[] = [];
  const args = argv.slice(1);
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (['-f', '-pl', '-P', '-s', '-T', '--projects', '--file', '--settings', '-rf'].includes(arg))
      index += 1;
    else if (!arg.startsWith('-')) goals.push(arg);
  }
  const skipsTests = args.some((arg) => /^-D(skipTests|maven\.test\.skip)(=true)?$/.test(arg));
  const found = (kind: CommandKind): ClassifiedCommand => ({ kind, ecosystem: 'maven', argv: [...argv] });
  if (!skipsTests && goals.some((goal) => ['test', 'verify', 'integration-test', 'install'].includes(goal))) {
    return found('test');
  }
  if (goals.some((goal) => goal.startsWith('dependency:'))) return found('install');
  if (goals.some((goal) => ['package', 'compile', 'install', 'verify'].includes(goal))) return found('build');
  if (goals.includes('spotless:check')) return found('format');
  if (goals.some((goal) => goal.startsWith('checkstyle:') || goal.startsWith('spotbugs:')))
    return found('lint');
  return undefined;
}

/** Whether a Gradle task runs tests: `test`, `check`, `jvmTest`, `allTests`, `:app:testDebugUnitTest`. */
export function isGradleTestTask(task: string): boolean {
  const name = task.slice(task.lastIndexOf(':') + 1);
  return (
    name === 'check' || name === 'allTests' || (/Test$|^test/.test(name) && !/^connected|^device/.test(name))
  );
}

function gradleCommand(argv: readonly string[]): ClassifiedCommand | undefined {
  const tasks = withoutOptions(
    argv.slice(1),
    new Set(['-p', '-x', '--project-dir', '--exclude-task']),
  ).filter((arg) => !arg.startsWith('-'));
  const found = (kind: CommandKind): ClassifiedCommand => ({ kind, ecosystem: 'gradle', argv: [...argv] });
  if (tasks.some(isGradleTestTask)) return found('test');
  if (tasks.some((task) => /(^|:)(build|assemble)$/.test(task))) return found('build');
  if (tasks.some((task) => /(^|:)(lint|ktlintCheck|detekt)$/.test(task))) return found('lint');
  if (tasks.some((task) => /(^|:)spotlessCheck$/.test(task))) return found('format');
  return undefined;
}

/** The kind of a make target, by its name. */
export function makeTargetKind(target: string): CommandKind | undefined {
  if (/^(test|tests|check|unit|unittest|test-.+|check-.+)$/.test(target)) return 'test';
  if (/^(lint|vet)$/.test(target)) return 'lint';
  if (/^(fmt|format|fmt-check|format-check)$/.test(target)) return 'format';
  if (/^(typecheck|type-check|mypy)$/.test(target)) return 'typecheck';
  if (/^(build|all)$/.test(target)) return 'build';
  return undefined;
}

function makeCommand(argv: readonly string[]): ClassifiedCommand | undefined {
  const targets = withoutOptions(argv.slice(1), new Set(['-C', '-f', '-j', '--directory', '--file'])).filter(
    (arg) => !arg.includes('=') && !arg.startsWith('-'),
  );
  const kind = targets.length ? makeTargetKind(targets[0] as string) : 'build';
  return kind ? { kind, ecosystem: 'make', argv: [...argv] } : undefined;
}

/**
 * The build and test commands in script lines written as prose around them (a README's fenced block,
 * a just recipe): each command the shell reading follows into a known directory and
 * {@link classifyCommand} recognises becomes a candidate; the rest is not a command of the project.
 *
 * @example
 * scriptCandidates(repository, [{ line: 3, text: 'npm test' }], {
 *   declaredIn: 'README.md', source: 'readme', confidence: 0.7, via: (line) => `README.md line ${line}`,
 * });
 */
export function scriptCandidates(
  repository: Repository,
  lines: readonly ScriptLine[],
  at: { declaredIn: string; source: CommandSource; confidence: number; via: (line: number) => string },
): Candidate[] {
  const found: Candidate[] = [];
  for (const command of readScript(repository, lines, '').commands) {
    const reading = classifyCommand(command.argv);
    if (!isClassified(reading) || command.cwd === undefined) continue;
    found.push(
      candidate(
        {
          ecosystem: reading.ecosystem,
          kind: reading.kind,
          argv: reading.argv,
          cwd: command.cwd,
          declaredIn: at.declaredIn,
          line: command.line,
          source: at.source,
          confidence: at.confidence,
        },
        at.via(command.line),
      ),
    );
  }
  return found;
}

/**
 * Reads script lines (a CI `run:`, a fenced shell block) into simple commands, following `cd` so each
 * command knows its directory. `\` continuations are joined and `$ ` prompts stripped; a `cd` to a
 * directory the repository does not have, or to one only the shell knows (`cd $DIR`), leaves the
 * later commands without a directory. Lines the shell reading refuses come back with the reason.
 *
 * @example
 * readScript(repository, [{ line: 3, text: 'cd web && npm test' }], '');
 * // { commands: [{ argv: ['npm', 'test'], cwd: 'web', line: 3, text: 'cd web && npm test' }], refused: [] }
 */
export function readScript(
  repository: Repository,
  lines: readonly ScriptLine[],
  startCwd: string | undefined,
): { commands: ScriptCommand[]; refused: Array<ScriptLine & { reason: string }> } {
  const commands: ScriptCommand[] = [];
  const refused: Array<ScriptLine & { reason: string }> = [];
  let cwd = startCwd;
  for (const { line, text } of joinContinuations(lines)) {
    const trimmed = text.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const reading = splitShellCommands(trimmed);
    if (!reading.ok) {
      refused.push({ line, text: trimmed, reason: reading.reason });
      continue;
    }
    for (const simple of reading.commands) {
      const [program, target] = simple.argv;
      if (program === 'cd' || program === 'pushd') {
        cwd = changeDirectory(repository, cwd, target);
        continue;
      }
      if (program === 'popd') {
        cwd = undefined;
        continue;
      }
      if (simple.argv.length) commands.push({ argv: simple.argv, cwd, line, text: trimmed });
    }
  }
  return { commands, refused };
}

function changeDirectory(
  repository: Repository,
  cwd: string | undefined,
  target: string | undefined,
): string | undefined {
  if (cwd === undefined || !target || target === '-' || target.startsWith('~')) return undefined;
  const next = normalizeScope(path.posix.join(cwd || '.', target));
  if (next === undefined) return undefined;
  return next === '' || repository.directories.has(next) ? next : undefined;
}

function joinContinuations(lines: readonly ScriptLine[]): ScriptLine[] {
  const joined: ScriptLine[] = [];
  let pending: ScriptLine | undefined;
  for (const { line, text } of lines) {
    const current: ScriptLine = pending
      ? { line: pending.line, text: `${pending.text} ${text.trim()}` }
      : { line, text };
    if (/\\\s*$/.test(current.text))
      pending = { line: current.line, text: current.text.replace(/\\\s*$/, '') };
    else {
      pending = undefined;
      joined.push(current);
    }
  }
  if (pending) joined.push(pending);
  return joined;
}
