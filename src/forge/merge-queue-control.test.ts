import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MergeQueueBusyError } from './merge-queue.js';
import { QueueLeases } from './queue-lease.js';
import { REPO, TEST_COMMAND, useMergeQueueHarness } from './testing/merge-queue-harness.js';
import { failingTest, gitIn, openChange, ownFile, passingTest } from './testing/pull-request-fixture.js';

const h = useMergeQueueHarness();

describe('MergeQueue control: leases, enqueue, a red default branch', () => {
  it('lets only one processor drain a repository queue at a time, and takes over an expired lease', async () => {
    // Prepare
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    let clock = new Date('2030-01-01T00:00:00Z');
    const now = () => clock;
    const other = h.queueWith({ holder: 'other', now });
    let blocked: unknown;
    const nosy = h.sandboxWith(async () => {
      blocked ??= await other.process(REPO).catch((error: unknown) => error);
    });
    const queue = h.queueWith({ sandbox: nosy, holder: 'first', now, leaseMs: 60_000 });
    await h.enqueueAll(queue, [1]);
    // Act
    const rounds = await queue.process(REPO);
    const afterRelease = await other.process(REPO);
    // A processor that died holding the lease: its lease expires and another takes over.
    await new QueueLeases(h.records, 'crashed', 60_000, now).acquire(REPO);
    const whileHeld = await other.process(REPO).catch((error: unknown) => error);
    clock = new Date(clock.getTime() + 61_000);
    const afterExpiry = await other.process(REPO);
    // Assess
    expect(blocked).toBeInstanceOf(MergeQueueBusyError);
    expect((blocked as Error).message).toContain('is being processed by first');
    expect(rounds[0]?.merged).toEqual([1]);
    expect(afterRelease).toEqual([]);
    expect(whileHeld).toBeInstanceOf(MergeQueueBusyError);
    expect(afterExpiry).toEqual([]);
  });

  it('enqueues idempotently, and takes an ejected pull request back only with a new head', async () => {
    // Prepare
    const pull = await openChange(h.forge, h.scratch, {
      repository: REPO,
      name: 'flaky',
      files: failingTest(1),
    });
    const queue = h.queueWith();
    // Act
    const first = await queue.enqueue({
      repository: REPO,
      pullRequest: 1,
      runId: 'r',
      testCommand: TEST_COMMAND,
    });
    const again = await queue.enqueue({
      repository: REPO,
      pullRequest: 1,
      runId: 'r',
      testCommand: TEST_COMMAND,
    });
    await queue.process(REPO);
    const sameHead = await queue.enqueue({
      repository: REPO,
      pullRequest: 1,
      runId: 'r',
      testCommand: TEST_COMMAND,
    });
    // The author fixes the test on the same branch.
    const dir = path.join(h.scratch, 'fix');
    await h.forge.checkout(REPO, pull.branch, dir);
    await fs.writeFile(path.join(dir, 'test/queue-1.test.js'), passingTest(1)['test/queue-1.test.js'] ?? '');
    await gitIn(dir, 'commit', '--quiet', '-am', 'Fix the test');
    const fixedHead = await h.forge.pushBranch(REPO, dir, pull.branch);
    const requeued = await queue.enqueue({
      repository: REPO,
      pullRequest: 1,
      runId: 'r',
      testCommand: TEST_COMMAND,
    });
    const [round] = await queue.process(REPO);
    // Assess
    expect(again).toEqual(first);
    expect(first).toMatchObject({ state: 'queued', head: pull.head, position: 1, testRuns: 0 });
    expect(sameHead.state).toBe('ejected');
    expect(requeued).toMatchObject({ state: 'queued', head: fixedHead, position: 2 });
    expect(round?.merged).toEqual([1]);
    expect(await queue.list(REPO)).toHaveLength(1);
  });

  it('stops without ejecting anyone when the default branch fails on its own', async () => {
    // Prepare: main's tests fail because the queued command is wrong for this repository.
    await openChange(h.forge, h.scratch, { repository: REPO, name: 'one', files: ownFile(1) });
    const queue = h.queueWith();
    await queue.enqueue({
      repository: REPO,
      pullRequest: 1,
      runId: 'r',
      testCommand: ['node', '--test', 'no-such-dir/'],
    });
    // Act
    const failure = await queue.process(REPO).catch((error: unknown) => error);
    // Assess
    expect((failure as Error).name).toBe('DefaultBranchFailingError');
    expect((failure as Error).message).toMatch(
      /main at [0-9a-f]{12} fails the merge queue's tests on its own/,
    );
    expect((await queue.entry(REPO, 1))?.state).toBe('queued');
  });
});
