import { execFile } from 'node:child_process';
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

  /** Runs git and reports the outcome, failed or not. */
  run(args: readonly string[], call: GitCall = {}): Promise<GitResult> {
    const config: Record<string, string> = {
      'commit.gpgsign': 'false',
      'tag.gpgsign': 'false',
      'core.autocrlf': 'false',
      'advice.detachedHead': 'false',
      ...call.config,
    };
    const argv = [...Object.entries(config).flatMap(([key, value]) => ['-c', `${key}=${value}`]), ...args];
    return new Promise((resolve) => {
      const child = execFile(
        'git',
        argv,
        {
          cwd: call.cwd,
          env: { ...this.baseEnv, ...call.env },
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
