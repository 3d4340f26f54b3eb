import { basename } from 'node:path';

/** Programs the agent may always run: read-only inspection. */
const inspectionPrograms = new Set([
  'ls',
  'cat',
  'head',
  'tail',
  'wc',
  'grep',
  'diff',
  'true',
  'echo',
  'pwd',
]);

/** Programs that fetch, exfiltrate or escalate: refused whatever the repository declares. */
const forbiddenPrograms = new Set([
  'curl',
  'wget',
  'nc',
  'ncat',
  'netcat',
  'socat',
  'ssh',
  'scp',
  'sftp',
  'rsync',
  'ftp',
  'telnet',
  'dig',
  'nslookup',
  'host',
  'ping',
  'sudo',
  'su',
  'doas',
  'chmod',
  'chown',
  'mount',
  'umount',
  'nsenter',
  'unshare',
  'docker',
  'kubectl',
  'aws',
  'gh',
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'fish',
  'env',
  'xargs',
  'eval',
  'exec',
  'nohup',
  'setsid',
  'timeout',
  'busybox',
  'perl',
  'ruby',
  'php',
  'lua',
  'dd',
  'crontab',
  'at',
  'source',
  '.',
  'command',
  'builtin',
  'trap',
]);

/**
 * Package binaries that run the commands given to them as text (`concurrently "a" "b"`): what they
 * run cannot be checked from their arguments, so they are refused; run the commands themselves.
 */
const commandRunners = new Set([
  'concurrently',
  'npm-run-all',
  'npm-run-all2',
  'run-s',
  'run-p',
  'cross-env-shell',
  'dotenv',
  'env-cmd',
  'start-server-and-test',
  'nodemon',
  'onchange',
  'zx',
]);

/**
 * Test runners and build tools a package script or `npx` commonly runs by name, allowed there even
 * before `node_modules` is installed (they are the repository's own tooling, not the agent's choice).
 */
export const knownPackageTools: ReadonlySet<string> = new Set([
  // The runtime npm itself runs on, which scripts call for the repository's own files.
  'node',
  'vitest',
  'jest',
  'mocha',
  'ava',
  'tap',
  'c8',
  'nyc',
  'tsc',
  'tsx',
  'ts-node',
  'eslint',
  'prettier',
  'biome',
  'playwright',
  'jasmine',
  'karma',
  'uvu',
  'rimraf',
  'cross-env',
]);

/** Shell built-ins and file utilities that scripts and recipes use around the real command. */
const scriptUtilities = new Set([
  'cd',
  'true',
  'false',
  ':',
  'exit',
  'echo',
  'printf',
  'test',
  '[',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'touch',
  'tee',
]);

/**
 * Environment variables that change which code a later program loads or which shell runs it; set in
 * front of a command (`NODE_OPTIONS=--require=x vitest`) they are the same as an inline-code flag.
 */
const codeLoadingEnv =
  /^(NODE_OPTIONS|NODE_PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|PATH|SHELL|PYTHONSTARTUP|PYTHONINSPECT|PYTHONPATH|PERL5OPT|PERL5LIB|RUBYOPT|GIT_[A-Z_]+|npm_config_[A-Za-z_]+|NPM_CONFIG_[A-Z_]+|MAKEFLAGS|MAKE)$/;

/** Flags that turn an allowed interpreter into an arbitrary-code runner. */
const inlineCodeFlags: Record<string, ReadonlySet<string>> = {
  node: new Set([
    '-e',
    '--eval',
    '-p',
    '--print',
    '-r',
    '--require',
    '--import',
    '--loader',
    '--experimental-loader',
    // Reads the program from standard input, or runs a package.json script Gantry has not looked at.
    '-',
    '--run',
  ]),
  tsx: new Set(['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader', '-']),
  'ts-node': new Set(['-e', '--eval', '-p', '--print', '-r', '--require', '-i', '--interactive', '-']),
  python3: new Set(['-c', '-']),
  python: new Set(['-c', '-']),
  // `git grep -O<program>` runs a program of the agent's choosing on the matching files.
  git: new Set(['--open-files-in-pager']),
};

/**
 * Short options that take inline code, as they appear inside a cluster of short options (`node -pe`,
 * `python3 -Bc`, `python3 -c'code'`). Letters after an option that takes a value are that value.
 */
const inlineCodeShortOptions: Record<string, { code: string; takesValue: string }> = {
  node: { code: 'epr', takesValue: 'C' },
  python3: { code: 'c', takesValue: 'mWX' },
  python: { code: 'c', takesValue: 'mWX' },
  git: { code: 'O', takesValue: 'ABCefm' },
};

/** Modules `python -m` may run: test runners. A module is a program (`-m http.server`, `-m pip install`). */
const pythonModules = new Set(['pytest', 'unittest', 'doctest']);

/** The module `python -m` would run, if the interpreter's own options name one before the script. */
function pythonModule(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') return undefined;
    if (arg.startsWith('--')) continue;
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j] as string;
      if (letter === 'm') return arg.slice(j + 1) || args[i + 1] || '';
      if (letter === 'c') return undefined;
      if (letter === 'W' || letter === 'X') {
        if (j === arg.length - 1) i++;
        break;
      }
    }
  }
  return undefined;
}

function clustersInlineCode(program: string, arg: string): boolean {
  const options = inlineCodeShortOptions[program];
  if (!options || !/^-[A-Za-z]/.test(arg)) return false;
  for (const letter of arg.slice(1)) {
    if (options.code.includes(letter)) return true;
    if (options.takesValue.includes(letter) || !/[A-Za-z]/.test(letter)) return false;
  }
  return false;
}

/** Shell syntax that would mean something to a shell: substitutions, chaining and pipes. */
const shellSyntax = /[`$]\(|\$\{|`[^`]*`|[;&|]{1,2}\s*\w/;

/** Sub-commands of package managers that install or publish, which need the network and change dependencies. */
const packageManagerVerbs: Record<string, ReadonlySet<string>> = {
  npm: new Set(['test', 't', 'tst', 'start', 'run', 'run-script', 'ls']),
  pnpm: new Set(['test', 't', 'tst', 'start', 'run', 'ls']),
  yarn: new Set(['test', 'start', 'run']),
  git: new Set(['status', 'diff', 'log', 'show', 'ls-files', 'grep']),
};

export interface CommandVerdict {
  allowed: boolean;
  rule: string;
  reason: string;
}

/** Where a command runs, when that widens what it may run. */
export interface CommandScope {
  /**
   * Binaries of the repository's packages (`node_modules/.bin`, declared dependencies), which `npx`
   * and package scripts run by name. Defaults to {@link knownPackageTools}.
   */
  packageBinaries?: ReadonlySet<string>;
  /** Inside a package script or make recipe, where shell built-ins and file utilities are allowed too. */
  inScript?: boolean;
  /** Environment assignments the shell applies in front of the command. */
  env?: Readonly<Record<string, string>>;
}

/**
 * Decides whether the agent may run `argv` in the sandbox: the program must be an inspection tool or
 * one the repository map declared, never a forbidden one, and never with flags that evaluate inline code.
 * `npx <tool>` is judged as `<tool>`. This looks at argv alone: `checkCommandInWorkspace` also reads
 * the scripts and recipes that `npm test` or `make test` would run and judges those by the same rules.
 * The sandbox has no network whatever this says; these rules keep the agent to its job.
 *
 * @example
 * checkCommand(['npm', 'test'], new Set(['npm'])).allowed === true;
 * checkCommand(['curl', 'http://x'], new Set(['npm'])).allowed === false;
 * checkCommand(['python3', '-m', 'http.server'], new Set(['python3'])).rule === 'command.python-module';
 */
export function checkCommand(
  argv: readonly string[],
  repositoryPrograms: ReadonlySet<string>,
  scope: CommandScope = {},
): CommandVerdict {
  const env = checkEnvironmentPrefix(scope.env ?? {});
  if (!env.allowed) return env;
  const [program, ...args] = argv;
  if (!program) return { allowed: false, rule: 'command.empty', reason: 'no program given' };
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program)) {
    return {
      allowed: false,
      rule: 'command.env',
      reason: `argv is not read by a shell, so ${program.split('=')[0]}=… is not an environment setting; run the program itself`,
    };
  }
  if (program.includes('/') && !program.startsWith('./')) {
    return { allowed: false, rule: 'command.path', reason: `run programs by name, not by path: ${program}` };
  }
  const name = basename(program);
  if (forbiddenPrograms.has(name)) {
    return { allowed: false, rule: 'command.forbidden', reason: `${name} is a forbidden program` };
  }
  if (commandRunners.has(name)) {
    return {
      allowed: false,
      rule: 'command.indirect',
      reason: `${name} runs commands given to it as text, which cannot be checked; run those commands directly`,
    };
  }
  const packageBinaries = scope.packageBinaries ?? knownPackageTools;
  const inPackage = scope.inScript === true && packageBinaries.has(name);
  if (
    !inspectionPrograms.has(name) &&
    !repositoryPrograms.has(name) &&
    !repositoryPrograms.has(program) &&
    !inPackage &&
    !(scope.inScript && scriptUtilities.has(name))
  ) {
    return {
      allowed: false,
      rule: 'command.not-allowlisted',
      reason: `${name} is neither an inspection tool nor a build or test program of this repository`,
    };
  }
  if (name === 'npx') return checkNpx(args, repositoryPrograms, { ...scope, packageBinaries });
  if (name === 'cross-env') return checkCrossEnv(args, repositoryPrograms, { ...scope, packageBinaries });
  const flags = inlineCodeFlags[name];
  if (
    flags?.size &&
    args.some(
      (a) => flags.has(a) || [...flags].some((f) => a.startsWith(`${f}=`)) || clustersInlineCode(name, a),
    )
  ) {
    return { allowed: false, rule: 'command.inline-code', reason: `${name} may not evaluate inline code` };
  }
  if (name === 'python3' || name === 'python') {
    const module = pythonModule(args);
    if (module !== undefined && !pythonModules.has(module)) {
      return {
        allowed: false,
        rule: 'command.python-module',
        reason: `${name} -m ${module || '(nothing)'} runs a module as a program; only ${[...pythonModules].join(', ')} may run this way`,
      };
    }
  }
  const verbs = packageManagerVerbs[name];
  const verb = verbs ? packageManagerVerb(name, args) : undefined;
  if (verbs && verb !== undefined && !verbs.has(verb)) {
    return {
      allowed: false,
      rule: 'command.verb',
      reason: `${name} ${verb} is not an allowed sub-command`,
    };
  }
  if (args.some((a) => shellSyntax.test(a) && name !== 'grep' && name !== 'echo')) {
    return {
      allowed: false,
      rule: 'command.shell-syntax',
      reason: 'shell syntax in arguments is not interpreted and not allowed',
    };
  }
  return { allowed: true, rule: 'command.allowed', reason: `${name} is allowed` };
}

/**
 * Refuses environment assignments in front of a command that change which code it loads
 * (`NODE_OPTIONS=--require=./x`, `LD_PRELOAD=…`, `PATH=…`); ordinary ones (`NODE_ENV=test`) pass.
 *
 * @example
 * checkEnvironmentPrefix({ NODE_OPTIONS: '--import=./hook.mjs' }).rule === 'command.env';
 */
export function checkEnvironmentPrefix(env: Readonly<Record<string, string>>): CommandVerdict {
  for (const name of Object.keys(env)) {
    if (codeLoadingEnv.test(name)) {
      return {
        allowed: false,
        rule: 'command.env',
        reason: `setting ${name} in front of a command changes which code it loads; remove it`,
      };
    }
  }
  return { allowed: true, rule: 'command.allowed', reason: 'no environment setting changes the code loaded' };
}

/**
 * The sub-command of a package manager or git: the first argument, after the options that only say
 * where to run (`pnpm --dir web test`, `yarn --cwd web test`). Any other leading option is the verb,
 * so it is refused unless listed.
 */
export function packageManagerVerb(name: string, args: readonly string[]): string | undefined {
  const where = name === 'pnpm' ? ['--dir', '-C'] : name === 'yarn' ? ['--cwd'] : [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i] as string;
    if (where.includes(arg)) i += 2;
    else if (where.some((option) => arg.startsWith(`${option}=`))) i += 1;
    else break;
  }
  return args[i];
}

/** Options of `npx` that keep it to running an installed package binary. */
const npxHarmlessOptions = new Set(['--no-install', '--no', '--offline', '-q', '--quiet', '--yes', '-y']);

/** `npx <tool> args` is judged as `<tool> args`, run from the repository's package binaries. */
function checkNpx(
  args: readonly string[],
  repositoryPrograms: ReadonlySet<string>,
  scope: CommandScope,
): CommandVerdict {
  let i = 0;
  while (i < args.length && (args[i] as string).startsWith('-')) {
    const option = args[i] as string;
    if (option === '--') {
      i++;
      break;
    }
    if (!npxHarmlessOptions.has(option)) {
      return {
        allowed: false,
        rule: 'command.inline-code',
        reason: `npx ${option} installs a package or runs a command line; run an installed tool as npx <tool> <args>`,
      };
    }
    i++;
  }
  const inner = args.slice(i);
  if (inner.length === 0)
    return { allowed: false, rule: 'command.empty', reason: 'npx was given no tool to run' };
  const runnable = new Set([...repositoryPrograms, ...(scope.packageBinaries ?? knownPackageTools)]);
  return prefixed('npx', checkCommand(inner, runnable, scope));
}

/** `cross-env NAME=value <command>`: the assignments are judged as an environment prefix. */
function checkCrossEnv(
  args: readonly string[],
  repositoryPrograms: ReadonlySet<string>,
  scope: CommandScope,
): CommandVerdict {
  const env: Record<string, string> = { ...scope.env };
  let i = 0;
  for (; i < args.length; i++) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(args[i] as string);
    if (!match) break;
    env[match[1] as string] = match[2] as string;
  }
  const inner = args.slice(i);
  if (inner.length === 0) return { allowed: true, rule: 'command.allowed', reason: 'cross-env runs nothing' };
  const runnable = new Set([...repositoryPrograms, ...(scope.packageBinaries ?? knownPackageTools)]);
  return prefixed('cross-env', checkCommand(inner, runnable, { ...scope, env }));
}

function prefixed(wrapper: string, verdict: CommandVerdict): CommandVerdict {
  return verdict.allowed
    ? verdict
    : { ...verdict, reason: `${wrapper} runs a command that is refused: ${verdict.reason}` };
}
