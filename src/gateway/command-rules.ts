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
};

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
    (flags.has('*') || args.some((a) => flags.has(a) || [...flags].some((f) => a.startsWith(`${f}=`))))
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
  if (args.some((a) => /[`$]\(|\$\{|[;&|]{1,2}\s*\w/.test(a) && name !== 'grep' && name !== 'echo')) {
    return {
      allowed: false,
      rule: 'command.shell-syntax',
      reason: 'shell syntax in arguments is not interpreted and not allowed',
    };
  }
  return { allowed: true, rule: 'command.allowed', reason: `${name} is allowed` };
}
