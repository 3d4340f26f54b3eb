import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ForgeError } from '../domain/errors.js';

/** Who a git commit is attributed to. */
export interface GitIdentity {
  name: string;
  email: string;
}

/** The forge's own commits (pull-request records). */
export const FORGE_IDENTITY: GitIdentity = { name: 'Gantry forge', email: 'forge@gantry.local' };
/** The initial commit of a repository imported from a plain directory. */
export const IMPORT_IDENTITY: GitIdentity = { name: 'Gantry import', email: 'import@gantry.local' };
/** Commits the agent makes in a workspace cloned from the forge. */
export const AGENT_IDENTITY: GitIdentity = { name: 'Gantry agent', email: 'agent@gantry.local' };

export interface GitCall {
  /** Working directory of the git process. */
  cwd?: string;
  /** Written to git's standard input. */
  input?: string;
  /** Extra environment on top of the isolated base (GIT_DIR, GIT_INDEX_FILE, dates). */
  env?: Record<string, string>;
  /** Extra `-c key=value` settings, placed before the subcommand. */
  config?: Record<string, string>;
}

export interface GitResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where the git directory of a work tree lives: beside it, never inside. A sandbox is given the work
 * tree alone, so it can write any file there (a `.git` of its own included) but never the repository
 * host-side git reads its configuration, hooks and objects from.
 *
 * @example
 * gitDirOf('/home/me/.gantry/workspaces/01J…'); // '/home/me/.gantry/workspaces/01J….git'
 */
export function gitDirOf(workTree: string): string {
  return `${path.resolve(workTree)}.git`;
}

/**
 * The environment that points git at a work tree and its git directory explicitly (beside it when
 * there is one, else its `.git`), with no discovery above it.
 *
 * @example
 * execFileSync('git', ['status'], { cwd: workspace, env: { ...process.env, ...workTreeEnv(workspace) } });
 */
export function workTreeEnv(workTree: string): Record<string, string> {
  const resolved = path.resolve(workTree);
  const beside = gitDirOf(resolved);
  return {
    GIT_DIR: existsSync(beside) ? beside : path.join(resolved, '.git'),
    GIT_WORK_TREE: resolved,
    GIT_CEILING_DIRECTORIES: path.dirname(resolved),
  };
}

/** {@link workTreeEnv} for a work tree whose git directory is beside it; nothing for any other directory. */
export function separatedWorkTreeEnv(dir: string): Record<string, string> {
  return existsSync(gitDirOf(dir)) ? workTreeEnv(dir) : {};
}

/** Removes a work tree and its git directory beside it. */
export async function removeWorkTree(workTree: string): Promise<void> {
  await fs.rm(workTree, { recursive: true, force: true });
  await fs.rm(gitDirOf(workTree), { recursive: true, force: true });
}

/**
 * Settings on every git command over a work tree. The git directory is Gantry's, so its configuration
 * already asks for none of this; these keep it so should anything be planted, and stop git from
 * descending into a nested repository the sandbox made (whose own configuration would then apply).
 */
export const WORK_TREE_HARDENING: Readonly<Record<string, string>> = {
  'core.hooksPath': '/dev/null',
  'core.fsmonitor': 'false',
  'core.untrackedCache': 'false',
  'core.pager': 'cat',
  'diff.ignoreSubmodules': 'all',
  'status.submoduleSummary': 'false',
  'submodule.recurse': 'false',
  'protocol.ext.allow': 'never',
};

/** Commands that create the repository they act on, so there is no work tree to point them at yet. */
const CREATING_COMMANDS = new Set(['clone', 'init', 'check-ref-format']);

/** Output larger than this is a bug or an attack, not a pull-request list. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Runs real `git` with an environment the user's configuration cannot reach: no system or
 * global config, no user ignore or attribute files, no prompts, a fixed identity and locale.
 * Without this, a user's `commit.gpgsign`, `core.hooksPath` or global excludes would change
 * what the forge imports and whether its commits succeed.
 *
 * @example
 * const git = new GitRunner('/home/me/.gantry/forge', FORGE_IDENTITY);
 * const result = await git.run(['--git-dir', 'billing.git', 'rev-parse', 'HEAD']);
 */
export class GitRunner {
  private readonly baseEnv: Record<string, string>;

  constructor(
    /** A directory git uses as HOME; nothing is written there and it need not exist. */
    isolatedHome: string,
    identity: GitIdentity,
  ) {
    const emptyConfigHome = path.join(isolatedHome, '.gantry-no-user-config');
    this.baseEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: emptyConfigHome,
      XDG_CONFIG_HOME: emptyConfigHome,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ATTR_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: 'true',
      GIT_AUTHOR_NAME: identity.name,
      GIT_AUTHOR_EMAIL: identity.email,
      GIT_COMMITTER_NAME: identity.name,
      GIT_COMMITTER_EMAIL: identity.email,
      LC_ALL: 'C',
      LANG: 'C',
      TZ: 'UTC',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    };
  }

  /**
   * Runs git and reports the outcome, failed or not. A call with a `cwd` and no git directory of its own
   * acts on that work tree with an explicit GIT_DIR (its git directory beside it, see {@link gitDirOf},
   * else its `.git`), GIT_WORK_TREE and GIT_CEILING_DIRECTORIES, never by discovery: a missing git
   * directory is an error, not a fall-through to an enclosing repository.
   */
  run(args: readonly string[], call: GitCall = {}): Promise<GitResult> {
    const workTree = this.workTreeEnv(args, call);
    const config: Record<string, string> = {
      'commit.gpgsign': 'false',
      'tag.gpgsign': 'false',
      'core.autocrlf': 'false',
      'advice.detachedHead': 'false',
      ...(workTree ? WORK_TREE_HARDENING : {}),
      ...call.config,
    };
    const argv = [...Object.entries(config).flatMap(([key, value]) => ['-c', `${key}=${value}`]), ...args];
    return new Promise((resolve) => {
      const child = execFile(
        'git',
        argv,
        {
          cwd: call.cwd,
          env: { ...this.baseEnv, ...workTree, ...call.env },
          encoding: 'utf8',
          maxBuffer: MAX_OUTPUT_BYTES,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({
            ok: !error,
            code,
            stdout,
            stderr: stderr || (error && code === null ? error.message : ''),
          });
        },
      );
      // A git that exits before reading its input makes the write fail with EPIPE; the exit status already says why.
      child.stdin?.on('error', () => {});
      child.stdin?.end(call.input ?? '');
    });
  }

  private workTreeEnv(args: readonly string[], call: GitCall): Record<string, string> | undefined {
    if (!call.cwd || call.env?.GIT_DIR) return undefined;
    if (args.some((arg) => arg === '--git-dir' || arg.startsWith('--git-dir=') || arg === '--bare'))
      return undefined;
    const command = args.find((arg) => !arg.startsWith('-'));
    if (command && CREATING_COMMANDS.has(command)) return undefined;
    return workTreeEnv(call.cwd);
  }

  /** Runs git and returns its standard output with the trailing newline removed; a failure is a ForgeError. */
  async output(args: readonly string[], call: GitCall = {}): Promise<string> {
    const result = await this.run(args, call);
    if (!result.ok) {
      throw new ForgeError(
        `git ${args.join(' ')} failed: ${result.stderr.trim() || `exit code ${result.code}`}`,
        {
          input: call.cwd,
          hint: 'check that git 2.39 or later is installed and that the repository is intact',
        },
      );
    }
    return result.stdout.replace(/\n$/, '');
  }
}
