import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueEntry } from './merge-queue.js';
import { REPO, useMergeQueueHarness } from './testing/merge-queue-harness.js';
import { failingTest, gitIn, openChange, ownFile, passingTest } from './testing/pull-request-fixture.js';

const h = useMergeQueueHarness();

describe('MergeQueue rounds', () => {
  it('merges a batch of three good pull requests with one test run', async () => {
    // Prepare
    const release = (await h.forge.defaultHead(REPO)).commit;
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'one', files: passingTest(1) });
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'three', files: passingTest(3) });
    const queue = h.queueWith();
    await h.enqueueAll(queue, [1, 2, 3]);
    // Act
    const rounds = await queue.process(REPO);
    // Assess
    expect(rounds).toHaveLength(1);
    const [round] = rounds;
    expect(round).toMatchObject({
      batch: [1, 2, 3],
      base: release,
      outcome: 'merged',
      merged: [1, 2, 3],
      ejected: [],
      testRuns: 1,
    });
    const head = await h.forge.defaultHead(REPO);
    expect(head.commit).toBe(round?.mergeCommit);
    const history = await h.forge.commitsBetween(REPO, release, head.commit);
    expect(history.map((commit) => commit.pullRequest)).toEqual([3, 2, 1]);
    for (const pull of await h.forge.listPullRequests(REPO)) {
      expect(pull).toMatchObject({
        state: 'merged',
        mergeCommit: head.commit,
        mergedBy: 'gantry-merge-queue',
      });
    }
    const entries = await queue.list(REPO);
    expect(entries.map((entry) => [entry.pullRequest, entry.state, entry.testRuns, entry.batches])).toEqual([
      [1, 'merged', 1, [round?.id]],
      [2, 'merged', 1, [round?.id]],
      [3, 'merged', 1, [round?.id]],
    ]);
    expect(entries.every((entry) => QueueEntry.safeParse(entry).success)).toBe(true);
    for (const entry of entries) {
      // Each pull request's own merge commit, so a rollback can revert it alone.
      expect(entry.pullMergeCommit).toBe(
        history.find((commit) => commit.pullRequest === entry.pullRequest)?.commit,
      );
    }
    const comments = await h.forge.listPullRequestComments(REPO, 2);
    expect(comments.map((comment) => comment.body).join('\n')).toContain(
      `Merged by the Gantry merge queue into main as ${head.commit}`,
    );
    expect(await h.forge.changedFiles(REPO, release, head.commit)).toEqual([
      'src/notes/note-2.js',
      'test/queue-1.test.js',
      'test/queue-3.test.js',
    ]);
    expect(await h.defaultBranchTestExit()).toBe(0);
  });

  it('bisects a failing batch, ejects only the breaking pull request and merges the rest in order', async () => {
    // Prepare
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'one', files: passingTest(1) });
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'two', files: ownFile(2) });
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'three', files: failingTest(3) });
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'four', files: passingTest(4) });
    const queue = h.queueWith();
    await h.enqueueAll(queue, [1, 2, 3, 4]);
    // Act
    const [round, ...more] = await queue.process(REPO);
    // Assess
    expect(more).toEqual([]);
    expect(round?.outcome).toBe('bisected');
    expect(round?.merged).toEqual([1, 2, 4]);
    expect(round?.ejected.map((ejection) => ejection.pullRequest)).toEqual([3]);
    const reason = round?.ejected[0]?.reason ?? '';
    expect(reason).toMatch(
      /^tests failed on top of main at [0-9a-f]{12} with #1, #2 merged before it: `node --test` exited with 1/,
    );
    expect(reason).toContain('change 3 breaks the build');
    // [1,2,3,4] red; [1,2] green; [3,4] on top is the tree that failed, so untested; [1,2,3] red; [1,2,4] green.
    expect(round?.testRuns).toBe(4);
    const head = (await h.forge.defaultHead(REPO)).commit;
    expect(
      (await h.forge.commitsBetween(REPO, round?.base, head)).map((commit) => commit.pullRequest),
    ).toEqual([4, 2, 1]);
    const ejected = await queue.entry(REPO, 3);
    expect(ejected).toMatchObject({ state: 'ejected', reason });
    expect((await h.forge.getPullRequest(REPO, 3))?.state).toBe('open');
    const comment = (await h.forge.listPullRequestComments(REPO, 3))[0]?.body ?? '';
    expect(comment).toContain('Removed from the Gantry merge queue');
    expect(comment).toContain('change 3 breaks the build');
    expect(await h.defaultBranchTestExit()).toBe(0);
  });

  it('ejects the later of two pull requests that only fail together, naming the one before it', async () => {
    // Prepare: each test passes alone; together the second sees the first's file and fails.
    await openChange(h.forge, h.scratch, {
      repository: REPO,
      name: 'flag',
      files: { 'src/flag.js': 'export const on = true;\n' },
    });
    await openChange(h.forge, h.scratch, {
      repository: REPO,
      name: 'needs-no-flag',
      files: {
        'test/no-flag.test.js':
          "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { existsSync } from 'node:fs';\n\ntest('runs without the flag', () => {\n  assert.equal(existsSync(new URL('../src/flag.js', import.meta.url)), false);\n});\n",
      },
    });
    const queue = h.queueWith();
    await h.enqueueAll(queue, [1, 2]);
    // Act
    const [round] = await queue.process(REPO);
    // Assess
    expect(round?.merged).toEqual([1]);
    expect(round?.ejected[0]?.pullRequest).toBe(2);
    expect(round?.ejected[0]?.reason).toContain('with #1 merged before it');
    expect(await h.defaultBranchTestExit()).toBe(0);
  });

  it('ejects a pull request that conflicts with one merged before it in the batch', async () => {
    // Prepare
    await openChange(h.forge, h.scratch, {
      repository: REPO,
      name: 'readme-a',
      files: { 'README.md': 'Version A\n' },
    });
    await openChange(h.forge, h.scratch, {
      repository: REPO,
      name: 'readme-b',
      files: { 'README.md': 'Version B\n' },
    });
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'other', files: ownFile(3) });
    const queue = h.queueWith();
    await h.enqueueAll(queue, [1, 2, 3]);
    // Act
    const [round] = await queue.process(REPO);
    // Assess
    expect(round).toMatchObject({ outcome: 'conflict', merged: [1, 3], testRuns: 1 });
    expect(round?.ejected).toEqual([
      {
        pullRequest: 2,
        reason: expect.stringMatching(
          /^conflicts with main at [0-9a-f]{12} with #1 merged before it in README\.md$/,
        ),
      },
    ]);
    expect((await queue.entry(REPO, 2))?.state).toBe('ejected');
  });

  it('tests the batch again when the default branch moves before the merge lands', async () => {
    // Prepare: while the queue runs its first test, another change lands on main.
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'queued', files: passingTest(1) });
    const sideline = await openChange(h.forge, h.scratch, {
      repository: REPO,
      name: 'sideline',
      files: ownFile(9),
    });
    const racing = h.sandboxWith(async (_command, call) => {
      if (call !== 1) return;
      const dir = path.join(h.scratch, 'racer');
      const { commit: from } = await h.forge.defaultHead(REPO);
      await h.forge.checkout(REPO, from, dir);
      await gitIn(
        dir,
        'merge',
        '--quiet',
        '--no-ff',
        '-m',
        'Merge pull request #2 from gantry/sideline',
        sideline.head,
      );
      const to = await h.forge.pushQueueCommit(REPO, dir, 'racer');
      await h.forge.advanceDefaultBranch(REPO, { from, to, pullRequests: [2], mergedBy: 'a person' });
    });
    const queue = h.queueWith({ sandbox: racing });
    await h.enqueueAll(queue, [1]);
    const before = (await h.forge.defaultHead(REPO)).commit;
    // Act
    const [round] = await queue.process(REPO);
    // Assess
    const head = (await h.forge.defaultHead(REPO)).commit;
    expect(round).toMatchObject({ merged: [1], retests: 1, testRuns: 2, outcome: 'merged' });
    expect(round?.base).not.toBe(before);
    expect((await h.forge.commitsBetween(REPO, before, head)).map((commit) => commit.pullRequest)).toEqual([
      1, 2,
    ]);
    expect((await queue.entry(REPO, 1))?.testRuns).toBe(2);
  });
});
