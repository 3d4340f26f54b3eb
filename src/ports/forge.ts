import type { RepositoryRef } from '../domain/request.js';

export interface PullRequest {
  repository: string;
  number: number;
  url: string;
  title: string;
  body: string;
  branch: string;
  base: string;
  head: string;
  state: 'open' | 'merged' | 'closed';
  runId: string;
  createdAt: string;
  /** The commit of the default branch that first held the change (set when `state` is `merged`). */
  mergeCommit?: string;
  mergedAt?: string;
  /** Who merged it: the merge queue, a person, or the rollback runbook. */
  mergedBy?: string;
  labels?: string[];
}

/** One first-parent commit of the default branch, as a release's change list shows it. */
export interface DefaultBranchCommit {
  commit: string;
  subject: string;
  author: string;
  /** The pull request the commit merged, when its subject is `Merge pull request #<n> …`. */
  pullRequest?: number;
}

/** Where repositories live and pull requests are opened and merged. Writes the default branch only through `advanceDefaultBranch`. */
export interface Forge {
  /** Makes the repository available (the local forge imports `ref.path` the first time). */
  ensureRepository(ref: RepositoryRef): Promise<{ name: string; defaultBranch: string; head: string }>;
  /** Clones the repository into `dir` at `ref` (a branch or commit). Returns the commit checked out. */
  checkout(repository: string, ref: string, dir: string): Promise<string>;
  /** Pushes `branch` from the workspace `dir`. Refuses the default branch. Returns the pushed commit. */
  pushBranch(repository: string, dir: string, branch: string): Promise<string>;
  /** Opens a pull request; opening one for a branch that has one returns the existing one. */
  openPullRequest(input: {
    repository: string;
    branch: string;
    base: string;
    title: string;
    body: string;
    runId: string;
  }): Promise<PullRequest>;
  getPullRequest(repository: string, number: number): Promise<PullRequest | undefined>;
  listPullRequests(repository: string): Promise<PullRequest[]>;
  /** The commit the default branch points at now. */
  defaultHead(repository: string): Promise<{ branch: string; commit: string }>;
  /**
   * Moves the default branch from `from` to `to` (a commit already in the repository whose history
   * contains `from`) and marks the listed pull requests merged with `mergeCommit: to`. Refuses with a
   * ForgeConflictError when the default branch is no longer at `from`: the merge queue then retests.
   * Calling it again after it succeeded (the branch already at `to`) only completes the records.
   * The only way Gantry writes the default branch.
   */
  advanceDefaultBranch(
    repository: string,
    change: { from: string; to: string; pullRequests: number[]; mergedBy: string },
  ): Promise<void>;
  /**
   * Pushes the commit checked out (HEAD) in the workspace `dir` to a queue ref so
   * advanceDefaultBranch can reach it (`refs/gantry/queue/<name>` on the local forge, the branch
   * `gantry/queue/<name>` on GitHub); returns the commit.
   */
  pushQueueCommit(repository: string, dir: string, name: string): Promise<string>;
  /** Adds a comment to a pull request (review findings, merge queue results). */
  commentOnPullRequest(repository: string, number: number, body: string): Promise<{ id: string }>;
  /** Commits first-parent on the default branch in (since, until], newest first: the changes since a release. */
  commitsBetween(
    repository: string,
    since: string | undefined,
    until: string,
  ): Promise<DefaultBranchCommit[]>;
  /** Files changed between two commits. */
  changedFiles(repository: string, base: string, head: string): Promise<string[]>;
}
