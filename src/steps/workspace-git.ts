import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_IDENTITY, GitRunner } from '../forge/git-command.js';

/**
 * The runtime's own git operations on a run workspace (commits between phases, diffs for evidence).
 * They run on the host with an isolated git configuration and the workspace's git directory kept beside
 * it, where no sandboxed command can write (see `gitDirOf`); the agent never runs git directly.
 */
export class WorkspaceGit {
  private readonly git: GitRunner;

  constructor(
    private readonly workspace: string,
    home: string,
  ) {
    this.git = new GitRunner(home, AGENT_IDENTITY);
  }

  head(): Promise<string> {
    return this.git.output(['rev-parse', 'HEAD'], { cwd: this.workspace });
  }

  async createBranch(branch: string): Promise<void> {
    await this.git.output(['checkout', '-q', '-B', branch], { cwd: this.workspace });
  }

  /**
   * Commits exactly `paths` (the files the agent's recorded edits wrote) as they are in the work tree;
   * returns HEAD when none changed. Whatever else a build or a test run left there stays out.
   */
  async commitPaths(message: string, paths: readonly string[]): Promise<string> {
    // A .git in the work tree is something a sandboxed command made (the repository's own git directory
    // lives beside the work tree): never a change, never a gitlink, and a nested one would make git read
    // that repository's configuration.
    await removePlantedGitEntries(this.workspace);
    if (paths.length > 0) {
      await this.git.output(['add', '--all', '--', ...paths.map((path) => `:(literal)${path}`)], {
        cwd: this.workspace,
      });
    }
    const pending = await this.git.run(['diff', '--cached', '--quiet'], { cwd: this.workspace });
    if (!pending.ok)
      await this.git.output(['commit', '-q', '--no-verify', '-m', message], { cwd: this.workspace });
    return this.head();
  }

  /** Puts the workspace back at `commit`, dropping anything a crashed phase left behind. */
  async resetTo(commit: string): Promise<void> {
    await this.git.output(['reset', '-q', '--hard', commit], { cwd: this.workspace });
    // What the setup phase installed stays: dependencies and the run's virtualenv.
    await this.git.output(['clean', '-q', '-fdx', '-e', 'node_modules', '-e', '.venv'], {
      cwd: this.workspace,
    });
  }

  /**
   * Puts `changes` back as they were at `commit` in the work tree (an added file removed, a changed or
   * deleted one restored), leaving everything else. `resetTo` undoes it.
   */
  async restoreFrom(commit: string, changes: readonly { path: string; status: string }[]): Promise<void> {
    const existed = changes
      .filter((change) => change.status !== 'added')
      .map((change) => `:(literal)${change.path}`);
    if (existed.length > 0)
      await this.git.output(['checkout', commit, '--', ...existed], { cwd: this.workspace });
    for (const change of changes.filter((c) => c.status === 'added')) {
      await rm(join(this.workspace, change.path), { force: true });
    }
  }

  /** Tracked files the work tree holds differently from HEAD (a test run that rewrote a test, say). */
  async trackedChanges(): Promise<string[]> {
    const out = await this.git.output(['status', '--porcelain', '--untracked-files=no', '-z'], {
      cwd: this.workspace,
    });
    return out
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(3));
  }

  /** Files changed since `base`, with how each changed. */
  async changes(base: string): Promise<{ path: string; status: 'added' | 'modified' | 'deleted' }[]> {
    const out = await this.git.output(
      ['diff', '--no-ext-diff', '--no-textconv', '--name-status', '--no-renames', base, 'HEAD'],
      {
        cwd: this.workspace,
      },
    );
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [code, ...path] = line.split('\t');
        const status = code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified';
        return { path: path.join('\t'), status };
      });
  }

  /** A file's content at a commit, or undefined when it does not exist there. */
  async show(commit: string, path: string): Promise<string | undefined> {
    const result = await this.git.run(['show', `${commit}:${path}`], { cwd: this.workspace });
    return result.ok ? result.stdout : undefined;
  }

  /** Files changed since `base`, with line counts. */
  async numstat(base: string): Promise<{ path: string; additions: number; deletions: number }[]> {
    const out = await this.git.output(
      ['diff', '--no-ext-diff', '--no-textconv', '--numstat', '--no-renames', base, 'HEAD'],
      {
        cwd: this.workspace,
      },
    );
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [added, deleted, ...path] = line.split('\t');
        return { path: path.join('\t'), additions: Number(added) || 0, deletions: Number(deleted) || 0 };
      });
  }

  /** The unified diff of HEAD against `base` (what a reviewer reads). */
  diff(base: string): Promise<string> {
    return this.git.output(
      ['diff', '--no-ext-diff', '--no-textconv', '--no-color', '--no-renames', '--unified=3', base, 'HEAD'],
      {
        cwd: this.workspace,
      },
    );
  }

  /**
   * Reverts `commit` (with `-m 1` when it is a merge) on the current branch. Returns false, leaving the
   * workspace as it was, when the revert does not apply cleanly.
   */
  async revert(commit: string, message: string): Promise<boolean> {
    const parents =
      (await this.git.output(['rev-list', '--parents', '-n', '1', commit], { cwd: this.workspace }))
        .trim()
        .split(' ').length - 1;
    const args = ['revert', '--no-edit', ...(parents > 1 ? ['-m', '1'] : []), commit];
    const result = await this.git.run(args, { cwd: this.workspace });
    if (!result.ok) {
      await this.git.run(['revert', '--abort'], { cwd: this.workspace });
      return false;
    }
    await this.git.output(['commit', '-q', '--amend', '--no-verify', '-m', message], { cwd: this.workspace });
    return true;
  }

  /**
   * The merge commit on `until`'s first-parent history that merged `head` (a pull request's head), or
   * `head` itself when it was fast-forwarded in. Undefined when `head` never landed there.
   */
  async mergeOf(head: string, until: string): Promise<string | undefined> {
    const out = await this.git.output(['rev-list', '--first-parent', '--parents', until], {
      cwd: this.workspace,
    });
    for (const line of out.split('\n')) {
      const [commit, ...parents] = line.trim().split(' ');
      if (!commit) continue;
      if (commit === head) return head;
      if (parents.slice(1).includes(head)) return commit;
    }
    return undefined;
  }

  /** Paths that differ between two commits. */
  async filesBetween(from: string, to: string): Promise<string[]> {
    const out = await this.git.output(['diff', '--name-only', '--no-renames', from, to], {
      cwd: this.workspace,
    });
    return out.split('\n').filter(Boolean);
  }
}

/** Directories never searched for planted `.git` entries: dependencies git ignores anyway. */
const UNSEARCHED = new Set(['node_modules']);

/** Deletes every `.git` file or directory inside a work tree, without following symbolic links. */
async function removePlantedGitEntries(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const child = join(dir, entry.name);
    if (entry.name === '.git') {
      await rm(child, { recursive: true, force: true });
    } else if (entry.isDirectory() && !UNSEARCHED.has(entry.name)) {
      // readdir's type is lstat's: a symbolic link to a directory is not descended.
      await removePlantedGitEntries(child);
    }
  }
}
