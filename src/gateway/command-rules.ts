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
]);

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
  ]),
  python3: new Set(['-c']),
  python: new Set(['-c']),
  npx: new Set(['*']),
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
  npm: new Set(['test', 't', 'run', 'run-script', 'ls']),
  pnpm: new Set(['test', 'run', 'ls']),
  yarn: new Set(['test', 'run']),
  git: new Set(['status', 'diff', 'log', 'show', 'ls-files', 'grep']),
};

export interface CommandVerdict {
  allowed: boolean;
  rule: string;
  reason: string;
}

/**
 * Decides whether the agent may run `argv` in the sandbox: the program must be an inspection tool or
 * one the repository map declared, never a forbidden one, and never with flags that evaluate inline code.
 * The sandbox has no network whatever this says; these rules keep the agent to its job.
 *
 * @example
 * checkCommand(['npm', 'test'], new Set(['npm'])).allowed === true;
 * checkCommand(['curl', 'http://x'], new Set(['npm'])).allowed === false;
 */
export function checkCommand(
  argv: readonly string[],
  repositoryPrograms: ReadonlySet<string>,
): CommandVerdict {
  const [program, ...args] = argv;
  if (!program) return { allowed: false, rule: 'command.empty', reason: 'no program given' };
  if (program.includes('/') && !program.startsWith('./')) {
    return { allowed: false, rule: 'command.path', reason: `run programs by name, not by path: ${program}` };
  }
  const name = basename(program);
  if (forbiddenPrograms.has(name)) {
    return { allowed: false, rule: 'command.forbidden', reason: `${name} is a forbidden program` };
  }
  if (!inspectionPrograms.has(name) && !repositoryPrograms.has(name) && !repositoryPrograms.has(program)) {
    return {
      allowed: false,
      rule: 'command.not-allowlisted',
      reason: `${name} is neither an inspection tool nor a build or test program of this repository`,
    };
  }
  const flags = inlineCodeFlags[name];
  if (
    flags &&
    (flags.has('*') ||
      args.some(
        (a) => flags.has(a) || [...flags].some((f) => a.startsWith(`${f}=`)) || clustersInlineCode(name, a),
      ))
  ) {
    return { allowed: false, rule: 'command.inline-code', reason: `${name} may not evaluate inline code` };
  }
  const verbs = packageManagerVerbs[name];
  if (verbs && args[0] !== undefined && !verbs.has(args[0])) {
    return {
      allowed: false,
      rule: 'command.verb',
      reason: `${name} ${args[0]} is not an allowed sub-command`,
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
