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
}

/** Where repositories live and pull requests are opened. Never writes the default branch. */
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
}
