import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeError } from '../../domain/errors.js';
import { ForgeConflictError } from '../../forge/forge-conflict-error.js';
import { gitDirOf } from '../../forge/git-command.js';
import { BILLING_SERVICE_PATH, gitIn } from '../../forge/testing/pull-request-fixture.js';
import { GitHubForge } from './github-forge.js';
import { type RecordedRequest, startGitHubStandIn } from './testing/github-api-stand-in.js';

const run = promisify(execFile);
const OWNER = 'acme';
const REPO = 'billing-service';
const TOKEN = 'ghs_canaryTokenThatMustNeverLeak0123456789';

let scratch: string;
let gitDir: string;
let api: Awaited<ReturnType<typeof startGitHubStandIn>>;
let forge: GitHubForge;

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the operation to fail, but it succeeded');
  return outcome;
}

function sent(method: string, pathEnd: string): RecordedRequest[] {
  return api.requests.filter((request) => request.method === method && request.path.endsWith(pathEnd));
}

/** Clones main, writes files on a gantry/ branch and pushes it through the forge. */
async function branchWith(
  name: string,
  files: Record<string, string>,
): Promise<{ dir: string; head: string }> {
  const dir = path.join(scratch, `ws-${name}`);
  await forge.checkout(REPO, 'main', dir);
  await gitIn(dir, 'checkout', '--quiet', '-b', `gantry/${name}`);
  for (const [file, content] of Object.entries(files)) await fs.writeFile(path.join(dir, file), content);
  await gitIn(dir, 'add', '--all');
  await gitIn(dir, 'commit', '--quiet', '-m', `Change ${name}`);
  return { dir, head: await forge.pushBranch(REPO, dir, `gantry/${name}`) };
}

beforeEach(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-github-'));
  gitDir = path.join(scratch, 'remote', `${REPO}.git`);
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', gitDir]);
  const seed = path.join(scratch, 'seed');
  await fs.cp(BILLING_SERVICE_PATH, seed, { recursive: true });
  await gitIn(seed, 'init', '--quiet', '--initial-branch=main');
  await gitIn(seed, 'add', '--all');
  await gitIn(seed, 'commit', '--quiet', '-m', 'Initial import');
  await gitIn(seed, 'push', '--quiet', gitDir, 'main');
  api = await startGitHubStandIn({ owner: OWNER, repo: REPO, gitDir, defaultBranch: 'main' });
  forge = new GitHubForge({
    octokit: { auth: TOKEN, baseUrl: api.baseUrl },
    owner: OWNER,
    workDir: path.join(scratch, 'work'),
  });
});

afterEach(async () => {
  await api?.close();
  await fs.rm(scratch, { recursive: true, force: true });
});

describe('GitHubForge', () => {
  it('opens a pull request once per branch through the REST API, with the token as the auth header', async () => {
    // Prepare
    const { head } = await branchWith('fix-total', { 'NOTES.md': 'notes\n' });
    const input = {
      repository: REPO,
      branch: 'gantry/fix-total',
      base: 'main',
      title: 'Fix total',
      body: 'Evidence.',
      runId: '01RUN',
    };
    // Act
    const opened = await forge.openPullRequest(input);
    const again = await forge.openPullRequest(input);
    const fetched = await forge.getPullRequest(REPO, opened.number);
    // Assess
    expect(opened).toMatchObject({
      number: 1,
      head,
      branch: 'gantry/fix-total',
      base: 'main',
      state: 'open',
      runId: '01RUN',
      body: 'Evidence.',
    });
    expect(again).toEqual(opened);
    expect(fetched).toEqual(opened);
    const creates = sent('POST', `/repos/${OWNER}/${REPO}/pulls`);
    expect(creates).toHaveLength(1);
    expect(creates[0]?.body).toEqual({
      head: 'gantry/fix-total',
      base: 'main',
      title: 'Fix total',
      body: 'Evidence.\n\n<!-- gantry-run: 01RUN -->',
    });
    const lookups = sent('GET', `/repos/${OWNER}/${REPO}/pulls`);
    expect(lookups.map((request) => request.query)).toEqual([
      { state: 'open', head: `${OWNER}:gantry/fix-total` },
      { state: 'open', head: `${OWNER}:gantry/fix-total` },
    ]);
    expect(new Set(api.requests.map((request) => request.authorization))).toEqual(
      new Set([`token ${TOKEN}`]),
    );
    expect(
      await run('git', ['--git-dir', gitDir, 'rev-parse', 'refs/heads/gantry/fix-total']).then((r) =>
        r.stdout.trim(),
      ),
    ).toBe(head);
  });

  it('keeps the token out of clones and refuses to push the default branch', async () => {
    // Prepare
    const { dir } = await branchWith('safe', { 'NOTES.md': 'notes\n' });
    // Act
    const config = await fs.readFile(path.join(gitDirOf(dir), 'config'), 'utf8');
    const refused = await failureOf(forge.pushBranch(REPO, dir, 'main'));
    const outside = await failureOf(forge.pushBranch(REPO, dir, 'feature/x'));
    // Assess
    expect(config).toContain(`url = file://${gitDir}`);
    expect(config).not.toContain(TOKEN);
    expect(config).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    expect(refused.message).toContain('it is the default branch');
    expect(outside.message).toContain('only branches under gantry/');
  });

  it('advances the default branch with a fast-forward-only ref update and reports a refused one clearly', async () => {
    // Prepare
    const change = await branchWith('one', { 'NOTES.md': 'one\n' });
    const pull = await forge.openPullRequest({
      repository: REPO,
      branch: 'gantry/one',
      base: 'main',
      title: 'One',
      body: '',
      runId: 'r1',
    });
    const { commit: from } = await forge.defaultHead(REPO);
    const batch = path.join(scratch, 'batch');
    await forge.checkout(REPO, from, batch);
    await gitIn(
      batch,
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      `Merge pull request #${pull.number} from gantry/one`,
      change.head,
    );
    const to = await forge.pushQueueCommit(REPO, batch, 'mq-1');
    // A sibling of main: not a fast-forward of it.
    const sibling = path.join(scratch, 'sibling');
    await forge.checkout(REPO, from, sibling);
    await gitIn(sibling, 'commit', '--quiet', '--allow-empty', '-m', 'Sibling');
    const siblingCommit = await forge.pushQueueCommit(REPO, sibling, 'mq-sibling');
    // Act
    await forge.advanceDefaultBranch(REPO, {
      from,
      to,
      pullRequests: [pull.number],
      mergedBy: 'gantry-merge-queue',
    });
    const stale = await failureOf(
      forge.advanceDefaultBranch(REPO, { from, to: siblingCommit, pullRequests: [], mergedBy: 'q' }),
    );
    const notFastForward = await failureOf(
      forge.advanceDefaultBranch(REPO, { from: to, to: siblingCommit, pullRequests: [], mergedBy: 'q' }),
    );
    // Assess
    expect(
      await run('git', ['--git-dir', gitDir, 'rev-parse', 'refs/heads/gantry/queue/mq-1']).then((r) =>
        r.stdout.trim(),
      ),
    ).toBe(to);
    const updates = sent('PATCH', `/repos/${OWNER}/${REPO}/git/refs/heads/main`);
    expect(updates.map((request) => request.body)).toEqual([
      { sha: to, force: false },
      { sha: siblingCommit, force: false },
    ]);
    expect((await forge.defaultHead(REPO)).commit).toBe(to);
    expect(await forge.getPullRequest(REPO, pull.number)).toMatchObject({
      state: 'merged',
      mergeCommit: to,
      mergedBy: 'gantry-bot',
    });
    expect(stale).toBeInstanceOf(ForgeConflictError);
    expect(stale.message).toContain(`is at ${to}, not at ${from}`);
    expect(notFastForward).toBeInstanceOf(ForgeConflictError);
    expect(notFastForward.message).toContain('GitHub refused to move main');
    expect(notFastForward.message).toContain('Update is not a fast forward');
  });

  it('posts comments, lists first-parent commits and changed files through compare', async () => {
    // Prepare
    const change = await branchWith('two', { 'NOTES.md': 'two\n', 'CHANGES.md': 'changed\n' });
    const pull = await forge.openPullRequest({
      repository: REPO,
      branch: 'gantry/two',
      base: 'main',
      title: 'Two',
      body: '',
      runId: 'r2',
    });
    const { commit: release } = await forge.defaultHead(REPO);
    // Act
    const comment = await forge.commentOnPullRequest(REPO, pull.number, 'Merged by the merge queue.');
    const merged = await forge.mergePullRequest(REPO, pull.number, { sha: change.head });
    const commits = await forge.commitsBetween(REPO, release, merged.commit);
    const history = await forge.commitsBetween(REPO, undefined, merged.commit);
    const files = await forge.changedFiles(REPO, release, merged.commit);
    // Assess
    expect(comment).toEqual({ id: '9001' });
    expect(sent('POST', `/repos/${OWNER}/${REPO}/issues/${pull.number}/comments`)[0]?.body).toEqual({
      body: 'Merged by the merge queue.',
    });
    expect(sent('PUT', `/repos/${OWNER}/${REPO}/pulls/${pull.number}/merge`)[0]?.body).toEqual({
      sha: change.head,
      merge_method: 'merge',
    });
    expect(commits).toEqual([
      {
        commit: merged.commit,
        subject: `Merge pull request #1 from ${OWNER}/gantry/two`,
        author: 'GitHub',
        pullRequest: 1,
      },
    ]);
    expect(history.map((commit) => commit.subject)).toEqual([
      `Merge pull request #1 from ${OWNER}/gantry/two`,
      'Initial import',
    ]);
    expect(files).toEqual(['CHANGES.md', 'NOTES.md']);
    expect(sent('GET', `/repos/${OWNER}/${REPO}/compare/${release}...${merged.commit}`)).toHaveLength(2);
  });

  it('refuses a merge whose head moved, and says clearly when a repository is missing', async () => {
    // Prepare
    await branchWith('three', { 'NOTES.md': 'three\n' });
    const pull = await forge.openPullRequest({
      repository: REPO,
      branch: 'gantry/three',
      base: 'main',
      title: 'Three',
      body: '',
      runId: 'r3',
    });
    const elsewhere = new GitHubForge({
      octokit: new Octokit({
        auth: TOKEN,
        baseUrl: api.baseUrl,
        log: { debug() {}, info() {}, warn() {}, error() {} },
      }),
      owner: OWNER,
      workDir: scratch,
    });
    // Act
    const moved = await failureOf(forge.mergePullRequest(REPO, pull.number, { sha: '0'.repeat(40) }));
    const missing = await failureOf(elsewhere.defaultHead('no-such-repo'));
    // Assess
    expect(moved).toBeInstanceOf(ForgeConflictError);
    expect(moved.message).toContain('Head branch was modified');
    expect(await forge.getPullRequest(REPO, 99)).toBeUndefined();
    expect(missing).toBeInstanceOf(ForgeError);
    expect(missing.message).toBe(`GitHub has no repository ${OWNER}/no-such-repo that this token can see`);
  });
});
