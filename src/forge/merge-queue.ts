import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ulid } from 'ulid';
import { z } from 'zod';
import { ForgeError, GantryError, InvalidInputError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';
import type { Forge, PullRequest } from '../ports/forge.js';
import type { Sandbox, SandboxLimits } from '../ports/sandbox.js';
import { GitRunner } from './git-command.js';
import { type QueueLease, QueueLeases } from './queue-lease.js';

export { MergeQueueBusyError } from './queue-lease.js';

/** Record kind of queue entries, id `<repository>#<pr>`. */
export const MERGE_QUEUE_KIND = 'merge-queue';
/** Counter kind giving each enqueue its place in line, id `<repository>`. */
const POSITION_KIND = 'merge-queue-position';

const CommitId = z.string().regex(/^[0-9a-f]{40,64}$/);

/** One pull request waiting in, or gone through, a repository's merge queue. */
export const QueueEntry = z.strictObject({
  repository: z.string().min(1),
  pullRequest: z.number().int().positive(),
  runId: z.string(),
  /** The pull-request head that was queued; the queue merges exactly this commit. */
  head: CommitId,
  testCommand: z.array(z.string().min(1)).min(1),
  state: z.enum(['queued', 'merged', 'ejected']),
  enqueuedAt: z.string(),
  /** Place in line: entries are batched in this order. */
  position: z.number().int().positive(),
  mergedAt: z.string().optional(),
  /** The default-branch head the merge left: the batch's last merge, which contains this pull request. */
  mergeCommit: CommitId.optional(),
  /** This pull request's own `Merge pull request #<n>` commit: the one to revert to undo it alone. */
  pullMergeCommit: CommitId.optional(),
  reason: z.string().optional(),
  /** Test runs whose tree included this pull request. */
  testRuns: z.number().int().nonnegative(),
  /** Ids of the batches (rounds) it took part in. */
  batches: z.array(z.string()),
});
export type QueueEntry = z.infer<typeof QueueEntry>;

/** What one round of the queue did with one batch. */
export const QueueRound = z.strictObject({
  /** The batch id, also the name of its queue ref. */
  id: z.string(),
  batch: z.array(z.number().int().positive()),
  /** The default-branch commit the merged change was tested on (the last one, after retests). */
  base: CommitId,
  /** `bisected` when the batch's combined test failed; else `conflict` when a PR was ejected; else `merged`. */
  outcome: z.enum(['merged', 'bisected', 'conflict']),
  merged: z.array(z.number().int().positive()),
  ejected: z.array(z.strictObject({ pullRequest: z.number().int().positive(), reason: z.string() })),
  testRuns: z.number().int().nonnegative(),
  /** Times the batch was built and tested again because the default branch moved before the merge. */
  retests: z.number().int().nonnegative(),
  /** The default-branch commit after the round (the merge, or `base` when nothing merged). */
  mergeCommit: CommitId,
  durationMs: z.number().nonnegative(),
});
export type QueueRound = z.infer<typeof QueueRound>;

export interface MergeQueueOptions {
  forge: Forge;
  records: RecordStore;
  sandbox: Sandbox;
  /** Scratch directory; each attempt clones into a fresh directory under it and removes it after. */
  workDir: string;
  /** Most pull requests tested together. Default 8. */
  maxBatch?: number;
  now?: () => Date;
  testLimits?: Partial<SandboxLimits>;
  /** How long a processor holds a repository's queue without renewing. Default 10 minutes. */
  leaseMs?: number;
  /** Names this processor in the lease. Default host, pid and a random suffix. */
  holder?: string;
  /** Recorded as `mergedBy` on merged pull requests. Default `gantry-merge-queue`. */
  mergedBy?: string;
  /** Times one batch is tested again after the default branch moved under it. Default 5. */
  maxRetests?: number;
}

/** The default branch fails the queue's tests on its own, so no pull request can be judged on it. */
export class DefaultBranchFailingError extends GantryError {
  override name = 'DefaultBranchFailingError';
}

/** Output tail kept in an ejection reason; redacting it is the caller's job. */
const OUTPUT_TAIL_CHARS = 2048;
const MERGE_QUEUE_IDENTITY = { name: 'Gantry merge queue', email: 'merge-queue@gantry.local' };

interface Candidate {
  entry: QueueEntry;
  pull: PullRequest;
}

/** A candidate merged into a tree, with the merge commit that brought it in. */
interface Merged extends Candidate {
  mergeCommit: string;
}

/** A tree the queue tested green: `commit`, holding `merged` on top of the round's base. */
interface Accepted {
  commit: string;
  merged: Merged[];
}

interface TestOutcome {
  passed: boolean;
  summary: string;
}

/** Everything one attempt at a batch on one base decided; nothing is written until the merge lands. */
interface Attempt {
  base: string;
  accepted: Accepted;
  ejected: Array<{ candidate: QueueEntry; reason: string }>;
  bisected: boolean;
  testRuns: number;
  runsByPullRequest: Map<number, number>;
  pushedAs?: string;
}

/**
 * Tests pull requests on top of the latest default branch and merges them, in batches: a green
 * batch merges with one test run; a red one is bisected, and only the pull requests that fail
 * are ejected. The default branch moves only through `Forge.advanceDefaultBranch` with the
 * tested head as the expected old value, so a merge that raced another is tested again.
 *
 * Bisection keeps queue order: the first half is settled on the base, then the second half on
 * top of whatever of the first half passed. A pull request whose failure only shows combined
 * with one queued before it is therefore the one ejected (first in line wins), and its reason
 * names the pull requests it was tested on top of. A single pull request that fails on the bare
 * default branch is ejected only after the default branch passed the tests on its own; when the
 * default branch itself fails, processing stops with DefaultBranchFailingError and nothing is ejected.
 *
 * @example
 * const queue = new MergeQueue({ forge, records: log, sandbox: await createSandbox(), workDir: '/tmp/mq' });
 * await queue.enqueue({ repository: 'billing-service', pullRequest: 3, runId, testCommand: ['npm', 'test'] });
 * const rounds = await queue.process('billing-service');
 */
export class MergeQueue {
  private readonly forge: Forge;
  private readonly records: RecordStore;
  private readonly sandbox: Sandbox;
  private readonly workDir: string;
  private readonly maxBatch: number;
  private readonly now: () => Date;
  private readonly testLimits: Partial<SandboxLimits> | undefined;
  private readonly mergedBy: string;
  private readonly maxRetests: number;
  private readonly leases: QueueLeases;
  private readonly git: GitRunner;
  /** Commits the queue saw pass the tests: a merged batch is the next round's base. */
  private readonly greenCommits = new Set<string>();

  constructor(options: MergeQueueOptions) {
    this.forge = options.forge;
    this.records = options.records;
    this.sandbox = options.sandbox;
    this.workDir = path.resolve(options.workDir);
    this.maxBatch = options.maxBatch ?? 8;
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new InvalidInputError(`maxBatch must be a positive integer, not ${options.maxBatch}`, {
        input: 'maxBatch',
        hint: 'pass 1 to test pull requests one at a time, or leave it out for 8',
      });
    }
    this.now = options.now ?? (() => new Date());
    this.testLimits = options.testLimits;
    this.mergedBy = options.mergedBy ?? 'gantry-merge-queue';
    this.maxRetests = options.maxRetests ?? 5;
    const holder = options.holder ?? `${os.hostname()}:${process.pid}:${ulid()}`;
    this.leases = new QueueLeases(this.records, holder, options.leaseMs ?? 600_000, this.now);
    this.git = new GitRunner(this.workDir, MERGE_QUEUE_IDENTITY);
  }

  /**
   * Puts an open pull request in line at its current head. Enqueuing it again returns the entry
   * already there, except after an ejection when the pull request has a new head: then it goes
   * back in line at the end, with the new head.
   *
   * @example
   * const entry = await queue.enqueue({ repository: 'billing-service', pullRequest: 3, runId, testCommand: ['npm', 'test'] });
   */
  async enqueue(input: {
    repository: string;
    pullRequest: number;
    runId: string;
    testCommand: string[];
  }): Promise<QueueEntry> {
    if (input.testCommand.length === 0 || input.testCommand.some((part) => part.length === 0)) {
      throw new InvalidInputError(`the test command for pull request #${input.pullRequest} is empty`, {
        input: 'testCommand',
        hint: 'pass the repository test command as argv, for example ["npm", "test"]',
      });
    }
    const pull = await this.forge.getPullRequest(input.repository, input.pullRequest);
    if (pull?.state !== 'open') {
      throw new ForgeError(
        `pull request #${input.pullRequest} of ${input.repository} is ${pull ? pull.state : 'missing'}, so it cannot be queued`,
        { input: String(input.pullRequest), hint: 'only open pull requests enter the merge queue' },
      );
    }
    const id = entryId(input.repository, input.pullRequest);
    const existing = await this.entry(input.repository, input.pullRequest);
    if (existing && (existing.state !== 'ejected' || existing.head === pull.head)) return existing;
    const entry: QueueEntry = QueueEntry.parse({
      repository: input.repository,
      pullRequest: input.pullRequest,
      runId: input.runId,
      head: pull.head,
      testCommand: input.testCommand,
      state: 'queued',
      enqueuedAt: this.now().toISOString(),
      position: await this.records.increment(POSITION_KIND, input.repository),
      testRuns: existing?.testRuns ?? 0,
      batches: existing?.batches ?? [],
    });
    if (existing) {
      await this.records.put(MERGE_QUEUE_KIND, id, entry);
      return entry;
    }
    if (await this.records.put(MERGE_QUEUE_KIND, id, entry, { ifAbsent: true })) return entry;
    // Another caller enqueued it first; theirs stands.
    const winner = await this.entry(input.repository, input.pullRequest);
    if (!winner) throw new ForgeError(`the merge queue entry ${id} vanished while enqueuing`, { input: id });
    return winner;
  }

  /** One pull request's entry, or undefined when it was never queued. */
  async entry(repository: string, pullRequest: number): Promise<QueueEntry | undefined> {
    const value = await this.records.get(MERGE_QUEUE_KIND, entryId(repository, pullRequest));
    return value === undefined ? undefined : QueueEntry.parse(value);
  }

  /** Every entry of the repository, in queue order. */
  async list(repository: string): Promise<QueueEntry[]> {
    const values = await this.records.list<unknown>(MERGE_QUEUE_KIND);
    return values
      .map((value) => QueueEntry.parse(value))
      .filter((entry) => entry.repository === repository)
      .sort((a, b) => a.position - b.position);
  }

  /**
   * Drains the repository's queue: rounds of up to maxBatch entries until none is queued.
   * Throws MergeQueueBusyError when another processor holds the queue.
   *
   * @example
   * for (const round of await queue.process('billing-service')) console.log(round.outcome, round.merged);
   */
  async process(repository: string): Promise<QueueRound[]> {
    const lease = await this.leases.acquire(repository);
    try {
      const rounds: QueueRound[] = [];
      for (;;) {
        const queued = (await this.list(repository)).filter((entry) => entry.state === 'queued');
        if (queued.length === 0) return rounds;
        rounds.push(await this.runRound(repository, queued.slice(0, this.maxBatch), lease));
      }
    } finally {
      await this.leases.release(lease);
    }
  }

  private async runRound(repository: string, batch: QueueEntry[], lease: QueueLease): Promise<QueueRound> {
    const started = performance.now();
    const id = `mq-${ulid().toLowerCase()}`;
    let testRuns = 0;
    let retests = 0;
    const runsByPullRequest = new Map<number, number>();
    for (;;) {
      await this.leases.renew(lease);
      const head = await this.forge.defaultHead(repository);
      const attempt = await this.attempt(repository, head, batch, id);
      testRuns += attempt.testRuns;
      for (const [number, runs] of attempt.runsByPullRequest) {
        runsByPullRequest.set(number, (runsByPullRequest.get(number) ?? 0) + runs);
      }
      let mergeCommit = head.commit;
      if (attempt.accepted.merged.length > 0) {
        await this.leases.renew(lease);
        try {
          await this.forge.advanceDefaultBranch(repository, {
            from: head.commit,
            to: attempt.accepted.commit,
            pullRequests: attempt.accepted.merged.map(({ entry }) => entry.pullRequest),
            mergedBy: this.mergedBy,
          });
        } catch (error) {
          // Whatever the forge said, a moved default branch means the tested tree is stale: test again.
          const now = await this.forge.defaultHead(repository);
          if (now.commit === head.commit || retests >= this.maxRetests) throw error;
          retests++;
          continue;
        }
        mergeCommit = attempt.accepted.commit;
        this.greenCommits.add(mergeCommit);
      }
      const round = QueueRound.parse({
        id,
        batch: batch.map((entry) => entry.pullRequest),
        base: head.commit,
        outcome: attempt.bisected ? 'bisected' : attempt.ejected.length > 0 ? 'conflict' : 'merged',
        merged: attempt.accepted.merged.map(({ entry }) => entry.pullRequest),
        ejected: attempt.ejected.map(({ candidate, reason }) => ({
          pullRequest: candidate.pullRequest,
          reason,
        })),
        testRuns,
        retests,
        mergeCommit,
        durationMs: 0,
      });
      const ownMerges = new Map(
        attempt.accepted.merged.map((merged) => [merged.entry.pullRequest, merged.mergeCommit]),
      );
      await this.record(repository, head.branch, batch, round, runsByPullRequest, ownMerges);
      return { ...round, durationMs: performance.now() - started };
    }
  }

  /** Builds and tests the batch on `head` in a fresh clone, and pushes the accepted tree. */
  private async attempt(
    repository: string,
    head: { branch: string; commit: string },
    batch: QueueEntry[],
    id: string,
  ): Promise<Attempt> {
    await fs.mkdir(this.workDir, { recursive: true });
    const scratch = await fs.mkdtemp(path.join(this.workDir, 'round-'));
    const repoDir = path.join(scratch, 'repo');
    const attempt: Attempt = {
      base: head.commit,
      accepted: { commit: head.commit, merged: [] },
      ejected: [],
      bisected: false,
      testRuns: 0,
      runsByPullRequest: new Map(),
    };
    try {
      await this.forge.checkout(repository, head.commit, repoDir);
      const candidates: Candidate[] = [];
      for (const entry of batch) {
        const problem = await this.precondition(repository, repoDir, entry);
        if (typeof problem === 'string') attempt.ejected.push({ candidate: entry, reason: problem });
        else candidates.push({ entry, pull: problem });
      }
      const tests = new TestBench(
        {
          git: this.git,
          sandbox: this.sandbox,
          testLimits: this.testLimits,
          greenCommits: this.greenCommits,
        },
        { scratch, repoDir, head, batch, attempt },
      );
      attempt.accepted = await tests.settle(candidates, attempt.accepted);
      if (attempt.accepted.merged.length > 0) {
        await this.git.output(['checkout', '--quiet', '--detach', attempt.accepted.commit], { cwd: repoDir });
        attempt.pushedAs = await this.forge.pushQueueCommit(repository, repoDir, id);
      }
      return attempt;
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  }

  /** The pull request when it can be merged as queued, else why not. */
  private async precondition(
    repository: string,
    repoDir: string,
    entry: QueueEntry,
  ): Promise<PullRequest | string> {
    const pull = await this.forge.getPullRequest(repository, entry.pullRequest);
    if (!pull) return 'the pull request no longer exists';
    if (pull.state === 'merged') return 'the pull request was merged outside the merge queue';
    if (pull.state === 'closed') return 'the pull request was closed';
    if (pull.head !== entry.head) {
      return `the pull request changed after it was queued (queued ${short(entry.head)}, now ${short(pull.head)}); enqueue it again`;
    }
    if (!(await this.hasCommit(repoDir, entry.head))) {
      // Branches come with the clone; a deleted branch still has GitHub's and the local forge's pull ref.
      await this.git.run(['fetch', '--quiet', 'origin', `refs/pull/${entry.pullRequest}/head`], {
        cwd: repoDir,
      });
      if (!(await this.hasCommit(repoDir, entry.head))) {
        return `the queued head ${short(entry.head)} is not in the repository any more`;
      }
    }
    return pull;
  }

  private async hasCommit(repoDir: string, commit: string): Promise<boolean> {
    return (await this.git.run(['cat-file', '-e', `${commit}^{commit}`], { cwd: repoDir })).ok;
  }

  /** Writes the round's outcome to each entry, then tells each pull request. */
  private async record(
    repository: string,
    branch: string,
    batch: QueueEntry[],
    round: QueueRound,
    runsByPullRequest: Map<number, number>,
    ownMerges: Map<number, string>,
  ): Promise<void> {
    const at = this.now().toISOString();
    const reasons = new Map(round.ejected.map((ejection) => [ejection.pullRequest, ejection.reason]));
    for (const entry of batch) {
      const merged = round.merged.includes(entry.pullRequest);
      const reason = reasons.get(entry.pullRequest);
      const updated: QueueEntry = {
        ...entry,
        state: merged ? 'merged' : 'ejected',
        testRuns: entry.testRuns + (runsByPullRequest.get(entry.pullRequest) ?? 0),
        batches: [...entry.batches, round.id],
        ...(merged
          ? {
              mergedAt: at,
              mergeCommit: round.mergeCommit,
              pullMergeCommit: ownMerges.get(entry.pullRequest),
            }
          : { reason }),
      };
      await this.records.put(
        MERGE_QUEUE_KIND,
        entryId(repository, entry.pullRequest),
        QueueEntry.parse(updated),
      );
    }
    for (const entry of batch) {
      const others = round.merged
        .filter((number) => number !== entry.pullRequest)
        .map((number) => `#${number}`);
      const body = round.merged.includes(entry.pullRequest)
        ? [
            `Merged by the Gantry merge queue into ${branch} as ${round.mergeCommit}.`,
            `Batch ${round.id}${others.length ? ` with ${others.join(', ')}` : ''}, tested on ${branch} at ${short(round.base)}; ${round.testRuns} test run(s) in the round.`,
          ].join('\n')
        : `Removed from the Gantry merge queue (batch ${round.id}): ${reasons.get(entry.pullRequest) ?? 'not merged'}`;
      await this.forge.commentOnPullRequest(repository, entry.pullRequest, body);
    }
  }
}

/** What a TestBench shares with its queue. */
interface TestTools {
  git: GitRunner;
  sandbox: Sandbox;
  testLimits: Partial<SandboxLimits> | undefined;
  /** Commits seen passing the tests, across rounds. */
  greenCommits: Set<string>;
}

/** Builds trees of one attempt in its clone, tests them in the sandbox, and bisects failing ones. */
class TestBench {
  private readonly commands: string[][];
  private readonly git: GitRunner;
  private readonly scratch: string;
  private readonly repoDir: string;
  private readonly head: { branch: string; commit: string };
  private readonly attempt: Attempt;

  constructor(
    private readonly tools: TestTools,
    at: {
      scratch: string;
      repoDir: string;
      head: { branch: string; commit: string };
      batch: QueueEntry[];
      attempt: Attempt;
    },
  ) {
    this.git = tools.git;
    this.scratch = at.scratch;
    this.repoDir = at.repoDir;
    this.head = at.head;
    this.attempt = at.attempt;
    const seen = new Map<string, string[]>();
    for (const entry of at.batch) seen.set(JSON.stringify(entry.testCommand), entry.testCommand);
    this.commands = [...seen.values()];
  }

  /**
   * Merges `candidates` on top of `accepted` and tests them; on failure, settles each half in
   * turn, the second on top of what passed of the first. `knownFailure` is the failed test of
   * exactly `accepted` + `candidates`, when one was already run.
   */
  async settle(candidates: Candidate[], accepted: Accepted, knownFailure?: TestOutcome): Promise<Accepted> {
    let failure = knownFailure;
    let pending = candidates;
    if (!failure) {
      const built = await this.build(accepted, candidates);
      if (built.merged.length === 0) return accepted;
      const outcome = await this.test(built.commit, [...accepted.merged, ...built.merged]);
      if (outcome.passed) return { commit: built.commit, merged: [...accepted.merged, ...built.merged] };
      this.attempt.bisected = true;
      failure = outcome;
      pending = built.merged;
    }
    const [single] = pending;
    if (pending.length === 1 && single) {
      if (accepted.merged.length === 0) await this.requireGreenBase();
      this.attempt.ejected.push({
        candidate: single.entry,
        reason: `tests failed on top of ${this.describeBase(accepted)}: ${failure.summary}`,
      });
      return accepted;
    }
    const middle = Math.ceil(pending.length / 2);
    const first = pending.slice(0, middle);
    const afterFirst = await this.settle(first, accepted);
    const allOfFirst = afterFirst.merged.length === accepted.merged.length + first.length;
    // When the whole first half merged, the tree of the rest on top of it is the one that just failed.
    return this.settle(pending.slice(middle), afterFirst, allOfFirst ? failure : undefined);
  }

  /** Merges candidates in order with --no-ff onto `accepted`; a conflicting one is ejected. */
  private async build(accepted: Accepted, candidates: Candidate[]): Promise<Accepted> {
    const git = this.git;
    const cwd = this.repoDir;
    await git.output(['checkout', '--quiet', '--detach', accepted.commit], { cwd });
    const merged: Merged[] = [];
    for (const candidate of candidates) {
      const { entry, pull } = candidate;
      const merge = await git.run(
        [
          'merge',
          '--quiet',
          '--no-ff',
          '--no-edit',
          '-m',
          `Merge pull request #${entry.pullRequest} from ${pull.branch}`,
          '-m',
          pull.title,
          entry.head,
        ],
        { cwd },
      );
      if (merge.ok) {
        merged.push({ ...candidate, mergeCommit: await git.output(['rev-parse', 'HEAD'], { cwd }) });
        continue;
      }
      const conflicted = await git.run(['diff', '--name-only', '--diff-filter=U'], { cwd });
      await git.run(['merge', '--abort'], { cwd });
      await git.output(['reset', '--quiet', '--hard', 'HEAD'], { cwd });
      const files = conflicted.stdout.split('\n').filter((file) => file.length > 0);
      this.attempt.ejected.push({
        candidate: entry,
        reason: `conflicts with ${this.describeBase({ commit: accepted.commit, merged: [...accepted.merged, ...merged] })}${files.length ? ` in ${files.join(', ')}` : `: ${merge.stderr.trim().split('\n').slice(-3).join(' ')}`}`,
      });
    }
    const commit = await git.output(['rev-parse', 'HEAD'], { cwd });
    return { commit, merged };
  }

  /** Runs the batch's test commands once on an export of `commit`, counting the run for `included`. */
  private async test(commit: string, included: Candidate[]): Promise<TestOutcome> {
    const { scratch, repoDir, commands, attempt } = this;
    attempt.testRuns++;
    for (const { entry } of included) {
      attempt.runsByPullRequest.set(
        entry.pullRequest,
        (attempt.runsByPullRequest.get(entry.pullRequest) ?? 0) + 1,
      );
    }
    // The tests see an export of the tree, not the clone: code under test cannot touch the commit that gets pushed.
    const tree = await fs.mkdtemp(path.join(scratch, 'test-'));
    const index = `${tree}.index`;
    try {
      await this.git.output(['read-tree', commit], { cwd: repoDir, env: { GIT_INDEX_FILE: index } });
      await this.git.output(['checkout-index', '--all', `--prefix=${tree}/`], {
        cwd: repoDir,
        env: { GIT_INDEX_FILE: index },
      });
      for (const argv of commands) {
        const result = await this.tools.sandbox.run({
          argv,
          workspace: tree,
          network: 'none',
          limits: this.tools.testLimits,
        });
        if (result.exitCode !== 0 || result.timedOut || result.limitHit) {
          const stopped = result.limitHit ? ` (stopped by the ${result.limitHit} limit)` : '';
          const output = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`.trimEnd();
          return {
            passed: false,
            summary: `\`${argv.join(' ')}\` exited with ${result.exitCode}${stopped}; output tail:\n${fenced(tail(output))}`,
          };
        }
      }
      return { passed: true, summary: '' };
    } finally {
      await fs.rm(tree, { recursive: true, force: true });
      await fs.rm(index, { force: true });
    }
  }

  /** A lone pull request failed on the bare default branch: make sure the branch itself passes. */
  private async requireGreenBase(): Promise<void> {
    if (this.tools.greenCommits.has(this.head.commit)) return;
    const outcome = await this.test(this.head.commit, []);
    if (!outcome.passed) {
      throw new DefaultBranchFailingError(
        `${this.head.branch} at ${short(this.head.commit)} fails the merge queue's tests on its own, so no pull request was ejected: ${outcome.summary}`,
        {
          input: this.head.commit,
          hint: `fix ${this.head.branch} first (or correct the queued test command), then process the queue again`,
        },
      );
    }
    this.tools.greenCommits.add(this.head.commit);
  }

  private describeBase(accepted: Accepted): string {
    const base = `${this.head.branch} at ${short(this.head.commit)}`;
    if (accepted.merged.length === 0) return base;
    return `${base} with ${accepted.merged.map(({ entry }) => `#${entry.pullRequest}`).join(', ')} merged before it`;
  }
}

function entryId(repository: string, pullRequest: number): string {
  return `${repository}#${pullRequest}`;
}

function short(commit: string): string {
  return commit.slice(0, 12);
}

function tail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARS ? text : `…${text.slice(-OUTPUT_TAIL_CHARS)}`;
}

/** A code fence longer than any backtick run inside, so test output cannot close it early. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}
