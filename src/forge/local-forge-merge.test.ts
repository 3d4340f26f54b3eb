import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeError, InvalidInputError } from '../domain/errors.js';
import { ForgeConflictError } from './forge-conflict-error.js';
import { LocalForge } from './local-forge.js';
import { prepareRevert } from './revert.js';
import { BILLING_SERVICE_PATH, gitIn, openChange, ownFile } from './testing/pull-request-fixture.js';

const REPO = 'billing-service';
let scratch: string;
let forge: LocalForge;

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the operation to fail, but it succeeded');
  return outcome;
}

/** Merges `pulls` onto the default head in a clone, as the merge queue does, and returns the clone. */
async function mergedWorkspace(heads: string[]): Promise<{ dir: string; from: string }> {
  const dir = await fs.mkdtemp(path.join(scratch, 'merge-'));
  const { commit } = await forge.defaultHead(REPO);
  await fs.rm(dir, { recursive: true });
  await forge.checkout(REPO, commit, dir);
  for (const head of heads)
    await gitIn(dir, 'merge', '--quiet', '--no-ff', '--no-edit', '-m', 'Merge pull request', head);
  return { dir, from: commit };
}

beforeEach(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-forge-merge-'));
  forge = new LocalForge({ root: path.join(scratch, 'forge'), now: () => new Date('2030-01-02T03:04:05Z') });
  await forge.ensureRepository({ name: REPO, path: BILLING_SERVICE_PATH, defaultBranch: 'main' });
});

afterEach(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

describe('LocalForge merging', () => {
  it('advances the default branch to a pushed queue commit and marks the pull requests merged', async () => {
    // Prepare
    const first = await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const second = await openChange(forge, scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    const { dir, from } = await mergedWorkspace([first.head, second.head]);
    // Act
    const to = await forge.pushQueueCommit(REPO, dir, 'batch-1');
    await forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [1, 2], mergedBy: 'merge-queue' });
    // Assess
    expect(await forge.defaultHead(REPO)).toEqual({ branch: 'main', commit: to });
    const pulls = await forge.listPullRequests(REPO);
    expect(
      pulls.map((pull) => [pull.number, pull.state, pull.mergeCommit, pull.mergedBy, pull.mergedAt]),
    ).toEqual([
      [1, 'merged', to, 'merge-queue', '2030-01-02T03:04:05.000Z'],
      [2, 'merged', to, 'merge-queue', '2030-01-02T03:04:05.000Z'],
    ]);
    expect(await forge.changedFiles(REPO, from, to)).toEqual(['src/notes/note-1.js', 'src/notes/note-2.js']);
  });

  it('refuses a stale `from` with ForgeConflictError and leaves the branch and records alone', async () => {
    // Prepare
    const first = await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const second = await openChange(forge, scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    const a = await mergedWorkspace([first.head]);
    const b = await mergedWorkspace([second.head]);
    const toA = await forge.pushQueueCommit(REPO, a.dir, 'a');
    const toB = await forge.pushQueueCommit(REPO, b.dir, 'b');
    await forge.advanceDefaultBranch(REPO, { from: a.from, to: toA, pullRequests: [1], mergedBy: 'queue' });
    // Act: b was built on the old head, which is no longer the default head.
    const refused = await failureOf(
      forge.advanceDefaultBranch(REPO, { from: b.from, to: toB, pullRequests: [2], mergedBy: 'queue' }),
    );
    // Assess
    expect(refused).toBeInstanceOf(ForgeConflictError);
    expect((refused as ForgeConflictError).current).toBe(toA);
    expect(refused.message).toMatch(/not at .*another change merged first/);
    expect((await forge.defaultHead(REPO)).commit).toBe(toA);
    expect((await forge.getPullRequest(REPO, 2))?.state).toBe('open');
  });

  it('refuses a target that drops history or misses a pull request head, and a short commit id', async () => {
    // Prepare
    const first = await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const second = await openChange(forge, scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    const { dir, from } = await mergedWorkspace([first.head]);
    const to = await forge.pushQueueCommit(REPO, dir, 'only-one');
    // Act
    const missingHead = await failureOf(
      forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [1, 2], mergedBy: 'q' }),
    );
    const backwards = await failureOf(
      forge.advanceDefaultBranch(REPO, { from: to, to: from, pullRequests: [], mergedBy: 'q' }),
    );
    const short = await failureOf(
      forge.advanceDefaultBranch(REPO, { from, to: to.slice(0, 7), pullRequests: [1], mergedBy: 'q' }),
    );
    // Assess
    expect(missingHead.message).toContain(`does not contain the head ${second.head} of pull request #2`);
    expect(backwards.message).toMatch(/does not contain .* drop history/);
    expect(short).toBeInstanceOf(InvalidInputError);
    expect((await forge.defaultHead(REPO)).commit).toBe(from);
  });

  it('completes the records when called again after the branch already moved', async () => {
    // Prepare
    const first = await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const { dir, from } = await mergedWorkspace([first.head]);
    const to = await forge.pushQueueCommit(REPO, dir, 'retry');
    await forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [1], mergedBy: 'q' });
    // Act
    await forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [1], mergedBy: 'q' });
    // Assess
    expect((await forge.defaultHead(REPO)).commit).toBe(to);
    expect((await forge.getPullRequest(REPO, 1))?.mergeCommit).toBe(to);
  });

  it('keeps refusing a direct push to the default branch and to forge refs, but takes queue refs', async () => {
    // Prepare
    const first = await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const { dir } = await mergedWorkspace([first.head]);
    const bare = path.join(scratch, 'forge', `${REPO}.git`);
    // Act
    const toMain = await failureOf(gitIn(dir, 'push', bare, '+HEAD:refs/heads/main'));
    const toPulls = await failureOf(gitIn(dir, 'push', bare, '+HEAD:refs/gantry/pulls'));
    await gitIn(dir, 'push', '--quiet', bare, 'HEAD:refs/gantry/queue/by-hand');
    const badName = await failureOf(forge.pushQueueCommit(REPO, dir, '../heads/main'));
    // Assess
    expect(toMain.message).toMatch(/pushing to the default branch \(refs\/heads\/main\) is refused/);
    expect(toPulls.message).toMatch(/written by the forge only/);
    expect(await gitIn(bare, 'rev-parse', 'refs/gantry/queue/by-hand')).toBe(
      await gitIn(dir, 'rev-parse', 'HEAD'),
    );
    expect(badName).toBeInstanceOf(ForgeError);
  });

  it('stores comments per pull request in order, and refuses a pull request that does not exist', async () => {
    // Prepare
    await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    await openChange(forge, scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    // Act
    const ids = await Promise.all([
      forge.commentOnPullRequest(REPO, 1, 'first finding'),
      forge.commentOnPullRequest(REPO, 1, 'second finding'),
      forge.commentOnPullRequest(REPO, 2, 'merged'),
    ]);
    const missing = await failureOf(forge.commentOnPullRequest(REPO, 9, 'nobody'));
    // Assess
    expect(new Set(ids.map((comment) => comment.id))).toEqual(new Set(['1-1', '1-2', '2-1']));
    const onFirst = await forge.listPullRequestComments(REPO, 1);
    expect(onFirst.map((comment) => comment.body).sort()).toEqual(['first finding', 'second finding']);
    expect(onFirst.every((comment) => comment.author === 'Gantry forge')).toBe(true);
    expect((await forge.listPullRequestComments(REPO, 2)).map((comment) => comment.body)).toEqual(['merged']);
    expect(missing.message).toContain('has no pull request #9');
  });

  it('lists the first-parent commits since a release, newest first, with their pull requests', async () => {
    // Prepare
    const release = (await forge.defaultHead(REPO)).commit;
    for (const n of [1, 2]) {
      const pull = await openChange(forge, scratch, {
        repository: REPO,
        name: `c${n}`,
        files: ownFile(n),
        title: `Add note ${n}`,
      });
      const { dir, from } = await mergedWorkspace([]);
      await gitIn(
        dir,
        'merge',
        '--quiet',
        '--no-ff',
        '-m',
        `Merge pull request #${pull.number} from ${pull.branch}`,
        pull.head,
      );
      const to = await forge.pushQueueCommit(REPO, dir, `c${n}`);
      await forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [pull.number], mergedBy: 'q' });
    }
    const head = (await forge.defaultHead(REPO)).commit;
    // Act
    const since = await forge.commitsBetween(REPO, release, head);
    const all = await forge.commitsBetween(REPO, undefined, head);
    // Assess
    expect(since.map(({ subject, pullRequest, author }) => ({ subject, pullRequest, author }))).toEqual([
      { subject: 'Merge pull request #2 from gantry/c2', pullRequest: 2, author: 'Test Person' },
      { subject: 'Merge pull request #1 from gantry/c1', pullRequest: 1, author: 'Test Person' },
    ]);
    expect(since[0]?.commit).toBe(head);
    expect(all).toHaveLength(3);
    expect(all[2]).toEqual({ commit: release, subject: 'Import billing-service', author: 'Gantry import' });
    expect(await failureOf(forge.commitsBetween(REPO, 'nope', head))).toBeInstanceOf(ForgeError);
  });

  it('prepares the revert of one pull request merged in a batch, and refuses one that is not merged', async () => {
    // Prepare
    const first = await openChange(forge, scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const second = await openChange(forge, scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    await openChange(forge, scratch, { repository: REPO, name: 'open', files: ownFile(3) });
    const { dir, from } = await mergedWorkspace([]);
    for (const pull of [first, second]) {
      await gitIn(
        dir,
        'merge',
        '--quiet',
        '--no-ff',
        '-m',
        `Merge pull request #${pull.number} from ${pull.branch}`,
        pull.head,
      );
    }
    const to = await forge.pushQueueCommit(REPO, dir, 'batch');
    await forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [1, 2], mergedBy: 'q' });
    const workspace = path.join(scratch, 'revert');
    // Act
    const revert = await prepareRevert(forge, {
      repository: REPO,
      pullRequest: 1,
      dir: workspace,
      branch: 'gantry/revert-1',
    });
    const notMerged = await failureOf(
      prepareRevert(forge, {
        repository: REPO,
        pullRequest: 3,
        dir: path.join(scratch, 'r3'),
        branch: 'gantry/revert-3',
      }),
    );
    // Assess
    expect(revert).toMatchObject({ branch: 'gantry/revert-1', base: to });
    expect(revert.reverted).not.toBe(to);
    expect(await forge.changedFiles(REPO, to, revert.head)).toEqual(['src/notes/note-1.js']);
    await expect(fs.stat(path.join(workspace, 'src/notes/note-2.js'))).resolves.toBeTruthy();
    await expect(fs.stat(path.join(workspace, 'src/notes/note-1.js'))).rejects.toThrow();
    expect(await gitIn(workspace, 'log', '-1', '--format=%s')).toBe(
      'Revert "Merge pull request #1 from gantry/one"',
    );
    expect(notMerged.message).toContain('is open, so there is nothing to revert');
  });
});
