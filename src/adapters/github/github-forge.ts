import fs from 'node:fs/promises';
import path from 'node:path';
import { Octokit } from '@octokit/rest';
import { ForgeError, InvalidInputError } from '../../domain/errors.js';
import type { RepositoryRef } from '../../domain/request.js';
import { GANTRY_BRANCH_PREFIX } from '../../forge/branch-name.js';
import { ForgeConflictError } from '../../forge/forge-conflict-error.js';
import { AGENT_IDENTITY, GitRunner, gitDirOf } from '../../forge/git-command.js';
import type { DefaultBranchCommit, Forge, PullRequest } from '../../ports/forge.js';

export interface GitHubForgeOptions {
  /** A ready client, or the token and API root (`https://api.github.com` by default) to build one. */
  octokit: Octokit | { auth: string; baseUrl?: string };
  /** The user or organisation owning the repositories; repository names are relative to it. */
  owner: string;
  /** Scratch directory; git runs with an empty HOME under it. */
  workDir: string;
  /** Runs git for clones and pushes; default an isolated runner with the agent's identity. */
  git?: GitRunner;
}

/** Where a pull request's run id rides along in its body, invisible on GitHub. */
const RUN_MARKER = /\n*<!-- gantry-run: ([A-Za-z0-9._:-]*) -->\s*$/;
const COMMIT_ID = /^[0-9a-f]{40,64}$/;
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MERGE_SUBJECT = /^Merge pull request #(\d+)\b/;
/** On GitHub the queue pushes branches: custom ref namespaces are not guaranteed to be accepted. */
const QUEUE_BRANCH_PREFIX = `${GANTRY_BRANCH_PREFIX}queue/`;

type GitHubPull = Awaited<ReturnType<Octokit['rest']['pulls']['get']>>['data'];
type GitHubCommit = Awaited<ReturnType<Octokit['rest']['repos']['listCommits']>>['data'][number];
type GitHubPullListItem = Awaited<ReturnType<Octokit['rest']['pulls']['list']>>['data'][number];

/**
 * The forge on GitHub: repositories, pull requests, comments and the default branch through the
 * REST API; clones and pushes with git against the repository's `clone_url`, the token passed to
 * git as an `http.extraheader` through the environment (never in a URL, an argument or a file).
 *
 * The default branch moves only with `PATCH git/refs` and `force: false`, which GitHub accepts
 * only as a fast-forward: a default branch that moved meanwhile makes the update fail, and
 * advanceDefaultBranch reports that as ForgeConflictError. GitHub itself marks a pull request
 * merged once its head is on the base branch, so no merge call follows.
 *
 * @example
 * const forge = new GitHubForge({ octokit: { auth: process.env.GITHUB_TOKEN ?? '' }, owner: 'acme', workDir: '/tmp/gh' });
 * const pull = await forge.openPullRequest({ repository: 'billing-service', branch, base: 'main', title, body, runId });
 */
export class GitHubForge implements Forge {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly git: GitRunner;
  private readonly token: string | undefined;
  private readonly repositories = new Map<string, Promise<{ defaultBranch: string; cloneUrl: string }>>();

  constructor(options: GitHubForgeOptions) {
    if (options.octokit instanceof Octokit) {
      this.octokit = options.octokit;
    } else {
      this.octokit = new Octokit({
        auth: options.octokit.auth,
        baseUrl: options.octokit.baseUrl,
        // Every failure reaches the caller as a ForgeError; Octokit's own request lines would only duplicate it.
        log: { debug: () => {}, info: () => {}, warn: console.warn, error: () => {} },
      });
      this.token = options.octokit.auth;
    }
    this.owner = options.owner;
    this.git = options.git ?? new GitRunner(path.resolve(options.workDir), AGENT_IDENTITY);
  }

  async ensureRepository(ref: RepositoryRef): Promise<{ name: string; defaultBranch: string; head: string }> {
    const { defaultBranch } = await this.repository(ref.name);
    const { commit } = await this.defaultHead(ref.name);
    return { name: ref.name, defaultBranch, head: commit };
  }

  async checkout(repository: string, ref: string, dir: string): Promise<string> {
    if (!ref || ref.startsWith('-')) {
      throw new ForgeError(`"${ref}" is not a branch or commit of ${repository}`, {
        input: ref,
        hint: 'pass a branch name (for example the default branch) or a commit sha',
      });
    }
    const { cloneUrl } = await this.repository(repository);
    await requireEmptyDirectory(dir);
    const isCommit = COMMIT_ID.test(ref);
    const placement = isCommit ? [] : ['--branch', ref];
    const identity = [
      `--config=user.name=${AGENT_IDENTITY.name}`,
      `--config=user.email=${AGENT_IDENTITY.email}`,
      '--config=commit.gpgsign=false',
    ];
    // As in the local forge: the git directory beside the work tree (gitDirOf), the work tree files only.
    const separate = gitDirOf(dir);
    await fs.rm(separate, { recursive: true, force: true });
    const clone = await this.git.run(
      [
        'clone',
        '--quiet',
        '--no-checkout',
        `--separate-git-dir=${separate}`,
        ...identity,
        ...placement,
        cloneUrl,
        dir,
      ],
      { env: await this.authEnv() },
    );
    if (!clone.ok) {
      throw new ForgeError(`could not clone ${this.owner}/${repository} at ${ref}: ${clone.stderr.trim()}`, {
        input: ref,
        hint: 'check that the branch exists and that the token may read the repository',
      });
    }
    await fs.rm(path.join(dir, '.git'), { force: true });
    if (isCommit) await this.git.output(['update-ref', '--no-deref', 'HEAD', ref], { cwd: dir });
    await this.git.output(['reset', '--quiet', '--hard', 'HEAD'], { cwd: dir });
    return this.git.output(['rev-parse', 'HEAD'], { cwd: dir });
  }

  async pushBranch(repository: string, dir: string, branch: string): Promise<string> {
    const { defaultBranch } = await this.repository(repository);
    if (branch === defaultBranch || branch === `refs/heads/${defaultBranch}`) {
      throw new ForgeError(`refusing to push ${branch}: it is the default branch of ${repository}`, {
        input: branch,
        hint: `push the change to a ${GANTRY_BRANCH_PREFIX}* branch and open a pull request`,
      });
    }
    if (!branch.startsWith(GANTRY_BRANCH_PREFIX) || branch.startsWith(QUEUE_BRANCH_PREFIX)) {
      throw new ForgeError(
        `refusing to push ${branch}: Gantry pushes only branches under ${GANTRY_BRANCH_PREFIX}`,
        {
          input: branch,
          hint: 'name the branch with branchNameFor(runId, title)',
        },
      );
    }
    const sha = await this.workspaceCommit(dir, `refs/heads/${branch}`);
    await this.push(repository, dir, `refs/heads/${branch}:refs/heads/${branch}`, branch);
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
    const existing = await this.openPullFor(input.repository, input.branch);
    if (existing) return existing;
    try {
      const { data } = await this.octokit.rest.pulls.create({
        owner: this.owner,
        repo: input.repository,
        head: input.branch,
        base: input.base,
        title: input.title,
        body: `${input.body}\n\n<!-- gantry-run: ${input.runId.replace(/[^A-Za-z0-9._:-]/g, '')} -->`,
      });
      return toPullRequest(input.repository, data);
    } catch (error) {
      // Another opener won the race for this branch: GitHub answers 422 and theirs is the pull request.
      const raced =
        statusOf(error) === 422 ? await this.openPullFor(input.repository, input.branch) : undefined;
      if (raced) return raced;
      throw this.failure(
        error,
        `open a pull request from ${input.branch} into ${input.base}`,
        input.repository,
      );
    }
  }

  async getPullRequest(repository: string, number: number): Promise<PullRequest | undefined> {
    if (!Number.isSafeInteger(number) || number < 1) return undefined;
    try {
      const { data } = await this.octokit.rest.pulls.get({
        owner: this.owner,
        repo: repository,
        pull_number: number,
      });
      return toPullRequest(repository, data);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.failure(error, `read pull request #${number}`, repository);
    }
  }

  async listPullRequests(repository: string): Promise<PullRequest[]> {
    try {
      const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
        owner: this.owner,
        repo: repository,
        state: 'all',
        per_page: 100,
      });
      return pulls.map((pull) => toPullRequest(repository, pull)).sort((a, b) => a.number - b.number);
    } catch (error) {
      throw this.failure(error, 'list pull requests', repository);
    }
  }

  async defaultHead(repository: string): Promise<{ branch: string; commit: string }> {
    const { defaultBranch } = await this.repository(repository);
    try {
      const { data } = await this.octokit.rest.git.getRef({
        owner: this.owner,
        repo: repository,
        ref: `heads/${defaultBranch}`,
      });
      return { branch: defaultBranch, commit: data.object.sha };
    } catch (error) {
      throw this.failure(error, `read the default branch ${defaultBranch}`, repository);
    }
  }

  async advanceDefaultBranch(
    repository: string,
    change: { from: string; to: string; pullRequests: number[]; mergedBy: string },
  ): Promise<void> {
    for (const [field, value] of [
      ['from', change.from],
      ['to', change.to],
    ] as const) {
      if (!COMMIT_ID.test(value)) {
        throw new InvalidInputError(`${field} "${value}" is not a full commit id`, {
          input: field,
          hint: 'pass the 40-character sha the forge returned (defaultHead, pushQueueCommit)',
        });
      }
    }
    const { branch, commit } = await this.defaultHead(repository);
    if (commit === change.to) return;
    if (commit !== change.from) {
      throw new ForgeConflictError(
        `the default branch ${branch} of ${this.owner}/${repository} is at ${commit}, not at ${change.from}: another change merged first`,
        {
          input: change.from,
          current: commit,
          hint: 'test the change again on top of the new default head and retry',
        },
      );
    }
    try {
      await this.octokit.rest.git.updateRef({
        owner: this.owner,
        repo: repository,
        ref: `heads/${branch}`,
        sha: change.to,
        force: false,
      });
    } catch (error) {
      if (statusOf(error) === 422) {
        throw new ForgeConflictError(
          `GitHub refused to move ${branch} of ${this.owner}/${repository} to ${change.to}: ${messageOf(error)}`,
          {
            input: change.to,
            hint: 'the update is not a fast-forward of the branch as it is now (another change merged first, or a protection rule refuses it); test again on the new default head',
            cause: error,
          },
        );
      }
      throw this.failure(error, `move ${branch} to ${change.to}`, repository);
    }
  }

  /**
   * Merges one pull request through GitHub's merge endpoint, only if its head is still `sha`
   * (for a repository whose protection rules refuse direct ref updates). A moved head is a
   * ForgeConflictError.
   *
   * @example
   * const { commit } = await forge.mergePullRequest('billing-service', 7, { sha: pull.head, method: 'merge' });
   */
  async mergePullRequest(
    repository: string,
    number: number,
    options: { sha: string; method?: 'merge' | 'squash' | 'rebase'; title?: string },
  ): Promise<{ commit: string }> {
    try {
      const { data } = await this.octokit.rest.pulls.merge({
        owner: this.owner,
        repo: repository,
        pull_number: number,
        sha: options.sha,
        merge_method: options.method ?? 'merge',
        ...(options.title ? { commit_title: options.title } : {}),
      });
      return { commit: data.sha };
    } catch (error) {
      if (statusOf(error) === 409) {
        throw new ForgeConflictError(
          `pull request #${number} of ${this.owner}/${repository} changed: ${messageOf(error)}`,
          {
            input: options.sha,
            hint: 'test the new head of the pull request before merging it',
            cause: error,
          },
        );
      }
      throw this.failure(error, `merge pull request #${number}`, repository);
    }
  }

  async pushQueueCommit(repository: string, dir: string, name: string): Promise<string> {
    if (!QUEUE_NAME.test(name)) {
      throw new ForgeError(`"${name}" is not a valid merge queue ref name`, {
        input: name,
        hint: 'use letters, digits, dot, dash and underscore, starting with a letter or digit',
      });
    }
    const sha = await this.workspaceCommit(dir, 'HEAD');
    await this.push(
      repository,
      dir,
      `+${sha}:refs/heads/${QUEUE_BRANCH_PREFIX}${name}`,
      `${QUEUE_BRANCH_PREFIX}${name}`,
    );
    return sha;
  }

  async commentOnPullRequest(repository: string, number: number, body: string): Promise<{ id: string }> {
    try {
      const { data } = await this.octokit.rest.issues.createComment({
        owner: this.owner,
        repo: repository,
        issue_number: number,
        body,
      });
      return { id: String(data.id) };
    } catch (error) {
      throw this.failure(error, `comment on pull request #${number}`, repository);
    }
  }

  /**
   * First-parent commits of `until` back to `since`, newest first. With `since`, GitHub's compare
   * lists at most 250 commits; without it, the last 100 commits are walked.
   */
  async commitsBetween(
    repository: string,
    since: string | undefined,
    until: string,
  ): Promise<DefaultBranchCommit[]> {
    let commits: GitHubCommit[];
    let start: string | undefined;
    try {
      if (since) {
        const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({
          owner: this.owner,
          repo: repository,
          basehead: `${since}...${until}`,
          per_page: 250,
        });
        commits = data.commits;
        start = data.commits.at(-1)?.sha;
      } else {
        const { data } = await this.octokit.rest.repos.listCommits({
          owner: this.owner,
          repo: repository,
          sha: until,
          per_page: 100,
        });
        commits = data;
        start = data[0]?.sha;
      }
    } catch (error) {
      throw this.failure(error, `list the commits ${since ?? ''}..${until}`, repository);
    }
    const bySha = new Map(commits.map((commit) => [commit.sha, commit]));
    const walked: DefaultBranchCommit[] = [];
    for (let sha = start; sha && bySha.has(sha); ) {
      const listed = bySha.get(sha);
      if (!listed) break;
      const subject = listed.commit.message.split('\n')[0] ?? '';
      const number = MERGE_SUBJECT.exec(subject)?.[1];
      walked.push({
        commit: listed.sha,
        subject,
        author:
          listed.commit.author?.name ??
          (listed.author && 'login' in listed.author ? listed.author.login : ''),
        ...(number ? { pullRequest: Number(number) } : {}),
      });
      sha = listed.parents[0]?.sha;
    }
    return walked;
  }

  /** Files changed from the merge base of `base` and `head` to `head`, as GitHub's compare shows them. */
  async changedFiles(repository: string, base: string, head: string): Promise<string[]> {
    try {
      const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({
        owner: this.owner,
        repo: repository,
        basehead: `${base}...${head}`,
      });
      const files = (data.files ?? []).flatMap((file) =>
        file.previous_filename ? [file.previous_filename, file.filename] : [file.filename],
      );
      return [...new Set(files)].sort();
    } catch (error) {
      throw this.failure(error, `compare ${base}...${head}`, repository);
    }
  }

  private repository(repository: string): Promise<{ defaultBranch: string; cloneUrl: string }> {
    let known = this.repositories.get(repository);
    if (!known) {
      known = this.octokit.rest.repos.get({ owner: this.owner, repo: repository }).then(
        ({ data }) => ({ defaultBranch: data.default_branch, cloneUrl: data.clone_url }),
        (error: unknown) => {
          this.repositories.delete(repository);
          if (statusOf(error) === 404) {
            throw new ForgeError(
              `GitHub has no repository ${this.owner}/${repository} that this token can see`,
              {
                input: `${this.owner}/${repository}`,
                hint: 'create the repository on GitHub (Gantry does not), or give the token access to it',
                cause: error,
              },
            );
          }
          throw this.failure(error, 'read the repository', repository);
        },
      );
      this.repositories.set(repository, known);
    }
    return known;
  }

  private async openPullFor(repository: string, branch: string): Promise<PullRequest | undefined> {
    try {
      const { data } = await this.octokit.rest.pulls.list({
        owner: this.owner,
        repo: repository,
        state: 'open',
        head: `${this.owner}:${branch}`,
      });
      const [open] = data;
      return open ? toPullRequest(repository, open) : undefined;
    } catch (error) {
      throw this.failure(error, `look for an open pull request from ${branch}`, repository);
    }
  }

  private async workspaceCommit(dir: string, revision: string): Promise<string> {
    const result = await this.git.run(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], {
      cwd: dir,
      config: { 'core.hooksPath': '/dev/null', 'core.fsmonitor': 'false' },
    });
    if (!result.ok) {
      throw new ForgeError(`the workspace ${dir} has no ${revision} to push`, {
        input: dir,
        hint: 'commit the change in the workspace first',
      });
    }
    return result.stdout.trim();
  }

  private async push(repository: string, dir: string, refspec: string, what: string): Promise<void> {
    const { cloneUrl } = await this.repository(repository);
    const push = await this.git.run(['push', '--quiet', '--no-verify', cloneUrl, refspec], {
      cwd: dir,
      env: await this.authEnv(),
      config: { 'core.hooksPath': '/dev/null', 'core.fsmonitor': 'false' },
    });
    if (!push.ok) {
      throw new ForgeError(
        `GitHub refused the push of ${what} to ${this.owner}/${repository}: ${push.stderr.trim()}`,
        {
          input: what,
          hint: 'a push that is not a fast-forward of the branch is refused; check the token may push to the repository',
        },
      );
    }
  }

  /** The token as git configuration in the environment: not in argv (visible in ps), not in .git/config. */
  private async authEnv(): Promise<Record<string, string>> {
    const token = this.token ?? (await tokenOf(this.octokit));
    if (!token) return {};
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    return {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}`,
    };
  }

  private failure(error: unknown, operation: string, repository: string): ForgeError {
    if (error instanceof ForgeError) return error;
    const status = statusOf(error);
    return new ForgeError(
      `GitHub could not ${operation} in ${this.owner}/${repository}${status ? ` (HTTP ${status})` : ''}: ${messageOf(error)}`,
      {
        input: `${this.owner}/${repository}`,
        hint:
          status === 401 || status === 403
            ? 'check that the token is valid and may read and write this repository'
            : 'retry; if it persists, check GitHub status and the repository settings',
        cause: error,
      },
    );
  }
}

function toPullRequest(repository: string, pull: GitHubPull | GitHubPullListItem): PullRequest {
  const body = pull.body ?? '';
  const marker = RUN_MARKER.exec(body);
  const merged = Boolean(pull.merged_at);
  const mergedBy = 'merged_by' in pull ? pull.merged_by?.login : undefined;
  return {
    repository,
    number: pull.number,
    url: pull.html_url,
    title: pull.title,
    body: marker ? body.slice(0, marker.index) : body,
    branch: pull.head.ref,
    base: pull.base.ref,
    head: pull.head.sha,
    state: merged ? 'merged' : pull.state === 'open' ? 'open' : 'closed',
    runId: marker?.[1] ?? '',
    createdAt: pull.created_at,
    ...(merged && pull.merge_commit_sha ? { mergeCommit: pull.merge_commit_sha } : {}),
    ...(merged && pull.merged_at ? { mergedAt: pull.merged_at } : {}),
    ...(mergedBy ? { mergedBy } : {}),
    labels: pull.labels.map((label) => label.name ?? '').filter((name) => name.length > 0),
  };
}

async function tokenOf(octokit: Octokit): Promise<string | undefined> {
  const auth = (await octokit.auth().catch(() => undefined)) as { token?: string } | undefined;
  return auth?.token;
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number'
    ? error.status
    : undefined;
}

function messageOf(error: unknown): string {
  const response = (error as { response?: { data?: { message?: unknown } } }).response;
  if (typeof response?.data?.message === 'string') return response.data.message;
  return error instanceof Error ? error.message : String(error);
}

async function requireEmptyDirectory(dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) {
    throw new ForgeError(`cannot check out into ${dir}: the directory is not empty`, {
      input: dir,
      hint: 'pass a directory that does not exist yet or is empty',
    });
  }
}
