import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ForgeError, InvalidInputError } from '../domain/errors.js';
import { RepositoryRef } from '../domain/request.js';
import type { DefaultBranchCommit, Forge, PullRequest } from '../ports/forge.js';
import { GANTRY_BRANCH_PREFIX } from './branch-name.js';
import { CommentRecords, type PullRequestComment } from './comment-records.js';
import { ForgeConflictError } from './forge-conflict-error.js';
import { AGENT_IDENTITY, FORGE_IDENTITY, GitRunner, gitDirOf, IMPORT_IDENTITY } from './git-command.js';
import { PullRequestRecords, pullHeadRef } from './pull-request-records.js';
import { defaultRepositoryRoots, isWithin, RepositoryPathPolicy } from './repository-path-policy.js';
import {
  copySourceObjects,
  locateSourceRepository,
  resolveSourceHead,
  type SourceRepository,
} from './source-repository.js';

export { branchNameFor } from './branch-name.js';

/** Directories a plain-directory import leaves out, at any depth: build output, dependencies, Gantry's own state. */
export const IMPORT_SKIPPED_DIRECTORIES = ['node_modules', '.git', '.gantry', 'dist', 'coverage'] as const;

/** A fixed date makes a plain-directory import the same commit wherever and whenever it runs. */
const IMPORT_DATE = '946684800 +0000';

/** The bare repository's config key holding the real path it was imported from. */
const IMPORTED_FROM = 'gantry.importedFrom';

/**
 * Refuses every push to the default branch, and to the refs only the forge writes. The forge's
 * own `pushBranch` already refuses these; the hook also stops a `git push` run by hand or by an
 * agent that reached the repository some other way.
 */
const PRE_RECEIVE_HOOK = `#!/bin/sh
# Installed by the Gantry local forge. The default branch changes only through a merge a person approved.
default_ref=$(git symbolic-ref -q HEAD)
status=0
while read -r old new ref; do
  case "$ref" in
    "$default_ref")
      echo "gantry forge: pushing to the default branch ($ref) is refused; push a ${GANTRY_BRANCH_PREFIX}* branch and open a pull request" >&2
      status=1 ;;
    refs/gantry/queue/*)
      # The merge queue's tested commits; only the forge's advanceDefaultBranch moves the default branch to one.
      ;;
    refs/pull/*|refs/gantry/*)
      echo "gantry forge: $ref is written by the forge only" >&2
      status=1 ;;
  esac
done
exit $status
`;

export interface LocalForgeOptions {
  /** Directory holding one `<name>.git` bare repository per repository; Gantry passes `<home>/.gantry/forge`. */
  root: string;
  /** Clock for `createdAt` of pull requests. */
  now?: () => Date;
  /**
   * Which directories a request's `repository.path` may import. Default: under the working directory
   * or the OS temporary directory, never the forge's own directory.
   */
  repositoryPaths?: RepositoryPathPolicy;
}

/** What an import reads: a git repository's HEAD history, or a plain directory's files. */
type ImportSource =
  | { kind: 'git'; path: string; repository: SourceRepository; commit: string }
  | { kind: 'directory'; path: string };

/**
 * The embedded forge: bare git repositories under one directory, with pull requests recorded
 * in the repositories themselves (`refs/pull/<n>/head` and the history of `refs/gantry/pulls`).
 * It never writes a repository's default branch.
 *
 * @example
 * const forge = new LocalForge({ root: path.join(os.homedir(), '.gantry', 'forge') });
 * const repo = await forge.ensureRepository({ name: 'billing-service', path: './billing', defaultBranch: 'main' });
 * const head = await forge.checkout(repo.name, repo.defaultBranch, '/tmp/ws');
 */
export class LocalForge implements Forge {
  private readonly root: string;
  private readonly now: () => Date;
  private readonly git: GitRunner;
  private readonly repositoryPaths: RepositoryPathPolicy;

  constructor(options: LocalForgeOptions) {
    this.root = path.resolve(options.root);
    this.now = options.now ?? (() => new Date());
    this.git = new GitRunner(this.root, FORGE_IDENTITY);
    this.repositoryPaths =
      options.repositoryPaths ??
      new RepositoryPathPolicy({ roots: defaultRepositoryRoots(), gantryHome: this.root });
  }

  async ensureRepository(ref: RepositoryRef): Promise<{ name: string; defaultBranch: string; head: string }> {
    const name = validRepositoryName(ref.name);
    const target = this.repositoryDir(name);
    if (await exists(target)) {
      await this.requireBareRepository(name, target);
      await this.installGuard(target);
      if (ref.path) await this.requireImportedFrom(name, target, await this.repositoryPaths.check(ref.path));
      return this.describe(name, target);
    }
    const defaultBranch = await this.validDefaultBranch(ref);
    const source = await this.importSource(name, ref.path);
    await fs.mkdir(this.root, { recursive: true });
    // Built beside the target and renamed into place, so a crash never leaves a half-imported repository.
    const staging = await fs.mkdtemp(path.join(this.root, `.import-${name}-`));
    try {
      await this.initBare(staging, defaultBranch, source.kind === 'git' ? source.commit : undefined);
      await this.git.output(['--git-dir', staging, 'config', 'receive.fsckObjects', 'true']);
      await this.git.output(['--git-dir', staging, 'config', IMPORTED_FROM, source.path]);
      await this.installGuard(staging);
      if (source.kind === 'git') await this.importHistory(staging, source, defaultBranch);
      else await this.importDirectory(staging, source.path, name, defaultBranch);
      await this.moveIntoPlace(name, staging, target);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    // Another process may have imported the same name first, from somewhere else.
    await this.requireImportedFrom(name, target, source.path);
    return this.describe(name, target);
  }

  async checkout(repository: string, ref: string, dir: string): Promise<string> {
    const gitDir = await this.requireRepository(repository);
    if (!ref || ref.startsWith('-')) {
      throw new ForgeError(`"${ref}" is not a branch or commit of ${repository}`, {
        input: ref,
        hint: 'pass a branch name (for example the default branch) or a commit sha',
      });
    }
    await requireEmptyDirectory(dir);
    const isBranch = await this.resolves(gitDir, `refs/heads/${ref}`);
    const commit = isBranch ? undefined : await this.resolves(gitDir, ref);
    if (!isBranch && !commit) {
      throw new ForgeError(`${repository} has no branch or commit "${ref}"`, {
        input: ref,
        hint: `list its branches with: git --git-dir ${gitDir} branch`,
      });
    }
    const identity = [
      `--config=user.name=${AGENT_IDENTITY.name}`,
      `--config=user.email=${AGENT_IDENTITY.email}`,
      '--config=commit.gpgsign=false',
    ];
    // The git directory goes beside the work tree, out of the sandbox's reach (gitDirOf); the work tree
    // holds files only. --no-local copies objects instead of hard-linking them, so nothing done to the
    // workspace's repository can alter the forge's objects.
    const separate = gitDirOf(dir);
    await fs.rm(separate, { recursive: true, force: true });
    const placement = isBranch ? ['--branch', ref] : [];
    await this.git.output([
      'clone',
      '--quiet',
      '--no-local',
      '--no-checkout',
      `--separate-git-dir=${separate}`,
      ...identity,
      ...placement,
      gitDir,
      dir,
    ]);
    await fs.rm(path.join(dir, '.git'), { force: true });
    if (commit) await this.git.output(['update-ref', '--no-deref', 'HEAD', commit], { cwd: dir });
    await this.git.output(['reset', '--quiet', '--hard', 'HEAD'], { cwd: dir });
    return this.git.output(['rev-parse', 'HEAD'], { cwd: dir });
  }

  async pushBranch(repository: string, dir: string, branch: string): Promise<string> {
    const gitDir = await this.requireRepository(repository);
    const defaultBranch = await this.defaultBranchOf(gitDir);
    if (branch === defaultBranch || branch === `refs/heads/${defaultBranch}`) {
      throw new ForgeError(`refusing to push ${branch}: it is the default branch of ${repository}`, {
        input: branch,
        hint: `push the change to a ${GANTRY_BRANCH_PREFIX}* branch and open a pull request; the default branch changes only through an approved merge`,
      });
    }
    if (!branch.startsWith(GANTRY_BRANCH_PREFIX)) {
      throw new ForgeError(
        `refusing to push ${branch}: Gantry pushes only branches under ${GANTRY_BRANCH_PREFIX}`,
        {
          input: branch,
          hint: 'name the branch with branchNameFor(runId, title)',
        },
      );
    }
    if (!(await this.git.run(['check-ref-format', '--branch', branch])).ok) {
      throw new ForgeError(`refusing to push ${branch}: it is not a valid git branch name`, {
        input: branch,
        hint: 'name the branch with branchNameFor(runId, title)',
      });
    }
    const workspace = { cwd: dir };
    const commit = await this.git.run(
      ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`],
      workspace,
    );
    if (!commit.ok) {
      throw new ForgeError(`the workspace has no branch ${branch} to push`, {
        input: dir,
        hint: `commit the change on ${branch} in the workspace first`,
      });
    }
    const sha = commit.stdout.trim();
    // The forge's path, not the workspace's "origin": the workspace's remotes are the agent's to change.
    const refspec = `refs/heads/${branch}:refs/heads/${branch}`;
    const push = await this.git.run(['push', '--quiet', '--no-verify', gitDir, refspec], workspace);
    if (!push.ok) {
      throw new ForgeError(
        `the forge refused the push of ${branch} to ${repository}: ${push.stderr.trim()}`,
        {
          input: branch,
          hint: 'a push that is not a fast-forward of the branch is refused; start a new run or a new branch',
        },
      );
    }
    const pushed = await this.resolves(gitDir, `refs/heads/${branch}`);
    if (pushed !== sha) {
      throw new ForgeError(
        `after pushing ${branch}, the forge holds ${pushed ?? 'nothing'} instead of ${sha}`,
        {
          input: dir,
          hint: "check the workspace's git configuration (for example url.*.insteadOf) and push again",
        },
      );
    }
    await this.followBranch(gitDir, branch, sha);
    return sha;
  }

  async openPullRequest(input: {
    repository: string;
    branch: string;
    base: string;
    title: string;
    body: string;
    runId: string;
  }): Promise<PullRequest> {
    const gitDir = await this.requireRepository(input.repository);
    const head = await this.resolves(gitDir, `refs/heads/${input.branch}`);
    if (!head) {
      throw new ForgeError(`cannot open a pull request: ${input.repository} has no branch ${input.branch}`, {
        input: input.branch,
        hint: 'push the branch with pushBranch first',
      });
    }
    if (input.branch === input.base || !(await this.resolves(gitDir, `refs/heads/${input.base}`))) {
      throw new ForgeError(`cannot open a pull request from ${input.branch} into ${input.base}`, {
        input: input.base,
        hint: `the base must be another existing branch, usually ${await this.defaultBranchOf(gitDir)}`,
      });
    }
    const pull = await new PullRequestRecords(this.git, gitDir).change((records) => {
      const open = records.find((record) => record.branch === input.branch && record.state === 'open');
      if (open) return { result: open };
      const number = records.reduce((highest, record) => Math.max(highest, record.number), 0) + 1;
      const created: PullRequest = {
        repository: input.repository,
        number,
        url: `gantry://${input.repository}/pull/${number}`,
        title: input.title,
        body: input.body,
        branch: input.branch,
        base: input.base,
        head,
        state: 'open',
        runId: input.runId,
        createdAt: this.now().toISOString(),
      };
      return {
        result: created,
        write: created,
        message: `Open pull request #${number} from ${input.branch}`,
      };
    });
    // Also repairs the head ref when an earlier call crashed between writing the record and the ref.
    await this.pointPullHead(gitDir, pull);
    return pull;
  }

  async getPullRequest(repository: string, number: number): Promise<PullRequest | undefined> {
    const gitDir = await this.requireRepository(repository);
    if (!Number.isSafeInteger(number) || number < 1) return undefined;
    return new PullRequestRecords(this.git, gitDir).get(number);
  }

  async listPullRequests(repository: string): Promise<PullRequest[]> {
    const gitDir = await this.requireRepository(repository);
    return new PullRequestRecords(this.git, gitDir).list();
  }

  async defaultHead(repository: string): Promise<{ branch: string; commit: string }> {
    const gitDir = await this.requireRepository(repository);
    const { defaultBranch, head } = await this.describe(validRepositoryName(repository), gitDir);
    return { branch: defaultBranch, commit: head };
  }

  async advanceDefaultBranch(
    repository: string,
    change: { from: string; to: string; pullRequests: number[]; mergedBy: string },
  ): Promise<void> {
    const gitDir = await this.requireRepository(repository);
    const from = requireCommitId(change.from, 'from');
    const to = requireCommitId(change.to, 'to');
    if (!(await this.resolves(gitDir, to))) {
      throw new ForgeError(`${repository} has no commit ${to} to move the default branch to`, {
        input: to,
        hint: 'push the tested commit with pushQueueCommit first',
      });
    }
    if (!(await this.isAncestor(gitDir, from, to))) {
      throw new ForgeError(
        `${to} does not contain ${from}, so moving the default branch there would drop history`,
        {
          input: to,
          hint: 'build the commit on top of the current default head (defaultHead) and test it again',
        },
      );
    }
    const records = new PullRequestRecords(this.git, gitDir);
    const pulls = await records.list();
    for (const number of change.pullRequests) {
      const pull = pulls.find((record) => record.number === number);
      const mergedHere = pull?.state === 'merged' && pull.mergeCommit === to;
      if (!pull || (pull.state !== 'open' && !mergedHere)) {
        throw new ForgeError(
          `pull request #${number} of ${repository} is ${pull ? pull.state : 'missing'}, so it cannot be merged`,
          {
            input: String(number),
            hint: 'take it out of the change; only open pull requests are merged',
          },
        );
      }
      if (!(await this.isAncestor(gitDir, pull.head, to))) {
        throw new ForgeError(`${to} does not contain the head ${pull.head} of pull request #${number}`, {
          input: String(number),
          hint: 'merge the pull request head into the commit before advancing the default branch',
        });
      }
    }
    const branch = await this.defaultBranchOf(gitDir);
    const ref = `refs/heads/${branch}`;
    const current = await this.resolves(gitDir, ref);
    // Already at `to`: an earlier call moved the branch and stopped before the records; finish them.
    if (current !== to) {
      const names = change.pullRequests.map((number) => `#${number}`).join(', ');
      const moved = await this.git.run([
        '--git-dir',
        gitDir,
        'update-ref',
        '-m',
        `merge ${names || 'commit'} by ${change.mergedBy}`,
        ref,
        to,
        from,
      ]);
      if (!moved.ok) {
        const now = await this.resolves(gitDir, ref);
        throw new ForgeConflictError(
          `the default branch ${branch} of ${repository} is at ${now ?? 'nothing'}, not at ${from}: another change merged first`,
          {
            input: from,
            current: now,
            hint: 'test the change again on top of the new default head and retry',
          },
        );
      }
    }
    const mergedAt = this.now().toISOString();
    await records.change((latest) => {
      const updates = latest
        .filter((record) => change.pullRequests.includes(record.number) && record.state === 'open')
        .map(
          (record): PullRequest => ({
            ...record,
            state: 'merged',
            mergeCommit: to,
            mergedAt,
            mergedBy: change.mergedBy,
          }),
        );
      if (updates.length === 0) return { result: undefined };
      return {
        result: undefined,
        write: updates,
        message: `Merge pull requests ${updates.map((record) => `#${record.number}`).join(', ')} as ${to}`,
      };
    });
  }

  async pushQueueCommit(repository: string, dir: string, name: string): Promise<string> {
    const gitDir = await this.requireRepository(repository);
    const ref = `refs/gantry/queue/${name}`;
    if (!QUEUE_NAME.test(name) || !(await this.git.run(['check-ref-format', ref])).ok) {
      throw new ForgeError(`"${name}" is not a valid merge queue ref name`, {
        input: name,
        hint: 'use letters, digits, dot, dash and underscore, starting with a letter or digit',
      });
    }
    const workspace = { cwd: dir };
    const head = await this.git.run(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], workspace);
    if (!head.ok) {
      throw new ForgeError(`the workspace ${dir} has no commit checked out to push`, {
        input: dir,
        hint: 'check out the tested commit in the workspace first',
      });
    }
    const sha = head.stdout.trim();
    // Forced: the queue owns its refs, and a retest of one batch may push a new commit under the same name.
    const push = await this.git.run(['push', '--quiet', '--no-verify', gitDir, `+${sha}:${ref}`], workspace);
    if (!push.ok) {
      throw new ForgeError(`the forge refused the push of ${ref} to ${repository}: ${push.stderr.trim()}`, {
        input: name,
        hint: 'check that the workspace was cloned from this forge and holds the commit',
      });
    }
    const pushed = await this.resolves(gitDir, ref);
    if (pushed !== sha) {
      throw new ForgeError(`after pushing ${ref}, the forge holds ${pushed ?? 'nothing'} instead of ${sha}`, {
        input: dir,
        hint: 'push again; if it repeats, check the forge directory for a stale lock',
      });
    }
    return sha;
  }

  async commentOnPullRequest(repository: string, number: number, body: string): Promise<{ id: string }> {
    const gitDir = await this.requireRepository(repository);
    await this.requirePullRequest(repository, gitDir, number);
    const comment = await new CommentRecords(this.git, gitDir).add({
      pullRequest: number,
      body,
      author: FORGE_IDENTITY.name,
      createdAt: this.now().toISOString(),
    });
    return { id: comment.id };
  }

  /**
   * The comments on a pull request, oldest first (the local forge's own reader; not part of the port).
   *
   * @example
   * const comments = await forge.listPullRequestComments('billing-service', 3);
   */
  async listPullRequestComments(repository: string, number: number): Promise<PullRequestComment[]> {
    const gitDir = await this.requireRepository(repository);
    await this.requirePullRequest(repository, gitDir, number);
    return new CommentRecords(this.git, gitDir).list(number);
  }

  async commitsBetween(
    repository: string,
    since: string | undefined,
    until: string,
  ): Promise<DefaultBranchCommit[]> {
    const gitDir = await this.requireRepository(repository);
    const end = await this.requireCommit(repository, gitDir, until);
    const start = since === undefined ? undefined : await this.requireCommit(repository, gitDir, since);
    const range = start ? [`${start}..${end}`] : [end];
    const log = await this.git.output([
      '--git-dir',
      gitDir,
      'log',
      '--first-parent',
      '--format=%H%x1f%an%x1f%s',
      ...range,
      '--',
    ]);
    return log
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [commit = '', author = '', subject = ''] = line.split('\x1f');
        const pullRequest = pullRequestOfSubject(subject);
        return pullRequest === undefined
          ? { commit, subject, author }
          : { commit, subject, author, pullRequest };
      });
  }

  async changedFiles(repository: string, base: string, head: string): Promise<string[]> {
    const gitDir = await this.requireRepository(repository);
    const from = await this.requireCommit(repository, gitDir, base);
    const to = await this.requireCommit(repository, gitDir, head);
    const diff = await this.git.output([
      '--git-dir',
      gitDir,
      'diff',
      '--name-only',
      '-z',
      '--no-renames',
      from,
      to,
      '--',
    ]);
    return diff.split('\0').filter((file) => file.length > 0);
  }

  private async requirePullRequest(repository: string, gitDir: string, number: number): Promise<PullRequest> {
    const pull =
      Number.isSafeInteger(number) && number > 0
        ? await new PullRequestRecords(this.git, gitDir).get(number)
        : undefined;
    if (!pull) {
      throw new ForgeError(`${repository} has no pull request #${number}`, {
        input: String(number),
        hint: 'list the pull requests with listPullRequests',
      });
    }
    return pull;
  }

  private async requireCommit(repository: string, gitDir: string, revision: string): Promise<string> {
    const commit = revision && !revision.startsWith('-') ? await this.resolves(gitDir, revision) : undefined;
    if (!commit) {
      throw new ForgeError(`${repository} has no commit "${revision}"`, {
        input: revision,
        hint: 'pass a commit sha or branch of the repository',
      });
    }
    return commit;
  }

  private async isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
    return (await this.git.run(['--git-dir', gitDir, 'merge-base', '--is-ancestor', ancestor, descendant]))
      .ok;
  }

  private repositoryDir(name: string): string {
    return path.join(this.root, `${name}.git`);
  }

  private async requireRepository(repository: string): Promise<string> {
    const name = validRepositoryName(repository);
    const gitDir = this.repositoryDir(name);
    if (!(await exists(gitDir))) {
      throw new ForgeError(`repository "${name}" is not in the forge at ${this.root}`, {
        input: repository,
        hint: 'run a request whose repository.path points at the repository, so the forge imports it first',
      });
    }
    return gitDir;
  }

  private async requireBareRepository(name: string, gitDir: string): Promise<void> {
    const probe = await this.git.run(['--git-dir', gitDir, 'rev-parse', '--is-bare-repository']);
    if (!probe.ok || probe.stdout.trim() !== 'true') {
      throw new ForgeError(`${gitDir} exists but is not a bare git repository, so "${name}" cannot be used`, {
        input: gitDir,
        hint: 'move that directory away; the forge imports the repository again from repository.path',
      });
    }
  }

  private async describe(
    name: string,
    gitDir: string,
  ): Promise<{ name: string; defaultBranch: string; head: string }> {
    const defaultBranch = await this.defaultBranchOf(gitDir);
    const head = await this.resolves(gitDir, `refs/heads/${defaultBranch}`);
    if (!head) {
      throw new ForgeError(
        `repository "${name}" in the forge has no commit on its default branch ${defaultBranch}`,
        {
          input: gitDir,
          hint: 'move the repository directory away so the forge imports it again from repository.path',
        },
      );
    }
    return { name, defaultBranch, head };
  }

  private defaultBranchOf(gitDir: string): Promise<string> {
    return this.git.output(['--git-dir', gitDir, 'symbolic-ref', '--short', 'HEAD']);
  }

  /** The commit `revision` names in the bare repository, or undefined. */
  private async resolves(gitDir: string, revision: string): Promise<string | undefined> {
    const result = await this.git.run([
      '--git-dir',
      gitDir,
      'rev-parse',
      '--verify',
      '--quiet',
      `${revision}^{commit}`,
    ]);
    return result.ok ? result.stdout.trim() : undefined;
  }

  private async validDefaultBranch(ref: RepositoryRef): Promise<string> {
    const branch = ref.defaultBranch || 'main';
    const valid =
      !branch.startsWith('-') && (await this.git.run(['check-ref-format', '--branch', branch])).ok;
    if (!valid) {
      throw new InvalidInputError(`repository "${ref.name}" has an invalid default branch name "${branch}"`, {
        input: 'repository.defaultBranch',
        hint: 'use a plain branch name such as main',
      });
    }
    return branch;
  }

  private async importSource(name: string, sourcePath: string | undefined): Promise<ImportSource> {
    if (!sourcePath) {
      throw new InvalidInputError(
        `repository "${name}" is not in the forge and the request gives no path to import`,
        {
          input: 'repository.path',
          hint: 'set repository.path to the directory of the repository (a git work tree or a plain directory)',
        },
      );
    }
    const real = await this.repositoryPaths.check(sourcePath);
    const stat = await fs.stat(real).catch(() => undefined);
    if (!stat?.isDirectory()) {
      throw new InvalidInputError(
        `repository "${name}" is not in the forge and its path ${real} is not a directory that exists`,
        {
          input: real,
          hint: 'fix repository.path in the request so it points at the repository directory',
        },
      );
    }
    // Only the top of a work tree counts: a directory inside some other repository is imported by its files alone.
    const repository = await locateSourceRepository(real, (dir) => this.repositoryPaths.check(dir));
    if (!repository) return { kind: 'directory', path: real };
    const commit = await resolveSourceHead(repository);
    // A repository without a first commit yet is imported by its files, as a plain directory is.
    return commit ? { kind: 'git', path: real, repository, commit } : { kind: 'directory', path: real };
  }

  private async initBare(gitDir: string, defaultBranch: string, commit?: string): Promise<void> {
    const format = commit?.length === 64 ? ['--object-format=sha256'] : [];
    const init = ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, ...format, gitDir];
    await this.git.output(init, { cwd: this.root });
  }

  /**
   * Brings the history of the source's HEAD into `staging` without running git in the source: its
   * objects are copied as files into a quarantine repository with the forge's own configuration, checked
   * complete there, and fetched from it. Only the HEAD history is fetched; the source's other branches
   * are not Gantry's to publish.
   */
  private async importHistory(
    staging: string,
    source: Extract<ImportSource, { kind: 'git' }>,
    defaultBranch: string,
  ): Promise<void> {
    const quarantine = await fs.mkdtemp(path.join(this.root, '.quarantine-'));
    try {
      await this.initBare(quarantine, 'import', source.commit);
      const { borrowsObjects } = await copySourceObjects(source.repository, path.join(quarantine, 'objects'));
      const packDir = path.join(quarantine, 'objects', 'pack');
      // Pack indexes are rebuilt here rather than trusted, which also checks every packed object.
      for (const pack of (await fs.readdir(packDir)).filter((file) => file.endsWith('.pack'))) {
        await this.git.output(['--git-dir', quarantine, 'index-pack', path.join(packDir, pack)], {
          cwd: quarantine,
        });
      }
      const fsck = ['fsck', '--connectivity-only', '--no-dangling', '--no-progress', source.commit];
      const complete = await this.git.run(['--git-dir', quarantine, ...fsck], { cwd: quarantine });
      const commit = await this.resolves(quarantine, source.commit);
      if (!complete.ok || commit !== source.commit) {
        const missing = `${complete.stdout}\n${complete.stderr}`.trim().split('\n').slice(0, 3).join('; ');
        throw new ForgeError(
          `cannot import ${source.path}: the history of its HEAD ${source.commit} is incomplete in its own object store (${missing || 'the commit is missing'})`,
          {
            input: source.path,
            hint: borrowsObjects
              ? 'the repository borrows objects from elsewhere (objects/info/alternates or a partial clone), which Gantry does not follow; run `git repack -a -d` and remove objects/info/alternates in it, or point repository.path at a full clone'
              : 'run `git fsck` in the repository, or point repository.path at a fresh full clone',
          },
        );
      }
      await this.git.output(['--git-dir', quarantine, 'update-ref', 'refs/heads/import', commit], {
        cwd: quarantine,
      });
      await this.git.output(
        [
          '--git-dir',
          staging,
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          quarantine,
          `+refs/heads/import:refs/heads/${defaultBranch}`,
        ],
        { cwd: staging },
      );
    } finally {
      await fs.rm(quarantine, { recursive: true, force: true });
    }
  }

  private async importDirectory(
    staging: string,
    source: string,
    name: string,
    defaultBranch: string,
  ): Promise<void> {
    // info/exclude stops git from walking the skipped trees; the pathspecs make sure no .gitignore re-includes them.
    await fs.writeFile(
      path.join(staging, 'info', 'exclude'),
      `${IMPORT_SKIPPED_DIRECTORIES.map((dir) => `${dir}/`).join('\n')}\n`,
    );
    const excluded = IMPORT_SKIPPED_DIRECTORIES.map((dir) => `:(exclude,glob)**/${dir}/**`);
    // The Gantry home (keys, workspaces) may sit inside the directory under a name other than .gantry.
    const home = this.repositoryPaths.gantryHome;
    if (home && home !== source && isWithin(home, source)) {
      excluded.push(`:(exclude,literal)${path.relative(source, home)}`);
    }
    // GIT_DIR is our staging repository, so git reads only its configuration: the directory's own
    // .git/config (filters, fsmonitor) is never consulted, and symlinks are stored as links.
    const env = {
      GIT_DIR: staging,
      GIT_WORK_TREE: source,
      GIT_INDEX_FILE: path.join(staging, 'gantry-import-index'),
    };
    await this.git.output(['add', '--all', '--', '.', ...excluded], { cwd: source, env });
    const tree = await this.git.output(['write-tree'], { cwd: source, env });
    const commit = await this.git.output(['commit-tree', tree, '-m', `Import ${name}`], {
      cwd: staging,
      env: {
        GIT_DIR: staging,
        GIT_AUTHOR_NAME: IMPORT_IDENTITY.name,
        GIT_AUTHOR_EMAIL: IMPORT_IDENTITY.email,
        GIT_COMMITTER_NAME: IMPORT_IDENTITY.name,
        GIT_COMMITTER_EMAIL: IMPORT_IDENTITY.email,
        GIT_AUTHOR_DATE: IMPORT_DATE,
        GIT_COMMITTER_DATE: IMPORT_DATE,
      },
    });
    await this.git.output(['--git-dir', staging, 'update-ref', `refs/heads/${defaultBranch}`, commit, '']);
    await fs.rm(env.GIT_INDEX_FILE, { force: true });
  }

  /**
   * Refuses to serve a repository under a name the forge already holds from another directory; a
   * repository imported before the forge recorded its origin adopts the requested one.
   */
  private async requireImportedFrom(name: string, gitDir: string, sourcePath: string): Promise<void> {
    const recorded = await this.git.run(['--git-dir', gitDir, 'config', '--get', IMPORTED_FROM]);
    const from = recorded.stdout.trim();
    if (!recorded.ok || !from) {
      await this.git.output(['--git-dir', gitDir, 'config', IMPORTED_FROM, sourcePath]);
      return;
    }
    if (from !== sourcePath) {
      throw new ForgeError(
        `repository "${name}" in the forge was imported from ${from}, but the request names ${sourcePath}`,
        {
          input: sourcePath,
          hint: `give the request another repository.name for ${sourcePath}, or move ${gitDir} away so the forge imports it again`,
        },
      );
    }
  }

  private async moveIntoPlace(name: string, staging: string, target: string): Promise<void> {
    try {
      await fs.rename(staging, target);
    } catch (error) {
      // Another process finished the same import first; its repository is as good as ours.
      if (!(await exists(target))) throw error;
      await this.requireBareRepository(name, target);
    }
  }

  private async installGuard(gitDir: string): Promise<void> {
    const hookPath = path.join(gitDir, 'hooks', 'pre-receive');
    const current = await fs.readFile(hookPath, 'utf8').catch(() => undefined);
    if (current !== PRE_RECEIVE_HOOK) {
      await fs.mkdir(path.dirname(hookPath), { recursive: true });
      // Written aside and renamed, so a concurrent push never runs a half-written (and so permissive) hook.
      const written = `${hookPath}.${randomUUID()}`;
      await fs.writeFile(written, PRE_RECEIVE_HOOK, { mode: 0o755 });
      await fs.rename(written, hookPath);
    }
    // Repository config outranks a user's global core.hooksPath, which would otherwise silence the hook.
    const hooksPath = await this.git.run(['--git-dir', gitDir, 'config', '--get', 'core.hooksPath']);
    if (hooksPath.stdout.trim() !== 'hooks') {
      await this.git.output(['--git-dir', gitDir, 'config', 'core.hooksPath', 'hooks']);
    }
  }

  /** Moves an open pull request of `branch` to the newly pushed commit, as GitHub does. */
  private async followBranch(gitDir: string, branch: string, commit: string): Promise<void> {
    const moved = await new PullRequestRecords(this.git, gitDir).change((records) => {
      const open = records.find((record) => record.branch === branch && record.state === 'open');
      if (!open || open.head === commit) return { result: open };
      const updated: PullRequest = { ...open, head: commit };
      return { result: updated, write: updated, message: `Update pull request #${open.number} to ${commit}` };
    });
    if (moved) await this.pointPullHead(gitDir, moved);
  }

  private async pointPullHead(gitDir: string, pull: PullRequest): Promise<void> {
    const ref = pullHeadRef(pull.number);
    const current = await this.git.run(['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', ref]);
    if (current.ok && current.stdout.trim() === pull.head) return;
    await this.git.output([
      '--git-dir',
      gitDir,
      'update-ref',
      '-m',
      `pull request #${pull.number}`,
      ref,
      pull.head,
    ]);
  }
}

/** A merge-queue ref name: one ref component, so it cannot climb out of refs/gantry/queue. */
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const COMMIT_ID = /^[0-9a-f]{40,64}$/;
const MERGE_SUBJECT = /^Merge pull request #(\d+)\b/;

/** The pull request a merge commit names in its subject, as GitHub and the merge queue write it. */
function pullRequestOfSubject(subject: string): number | undefined {
  const match = MERGE_SUBJECT.exec(subject);
  return match ? Number(match[1]) : undefined;
}

function requireCommitId(value: string, field: string): string {
  if (!COMMIT_ID.test(value)) {
    throw new InvalidInputError(`${field} "${value}" is not a full commit id`, {
      input: field,
      hint: 'pass the 40-character sha the forge returned (defaultHead, pushQueueCommit)',
    });
  }
  return value;
}

function validRepositoryName(name: string): string {
  const parsed = RepositoryRef.shape.name.safeParse(name);
  if (!parsed.success) {
    throw new InvalidInputError(`"${name}" is not a valid repository name`, {
      input: name,
      hint: 'a repository name may hold letters, digits, dot, dash and underscore',
    });
  }
  return parsed.data;
}

async function exists(target: string): Promise<boolean> {
  return fs.stat(target).then(
    () => true,
    () => false,
  );
}

async function requireEmptyDirectory(dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new ForgeError(`cannot check out into ${dir}: ${error.message}`, {
      input: dir,
      hint: 'pass a directory that does not exist yet or is empty',
      cause: error,
    });
  });
  if (entries.length > 0) {
    throw new ForgeError(`cannot check out into ${dir}: the directory is not empty`, {
      input: dir,
      hint: 'pass a directory that does not exist yet or is empty',
    });
  }
}
