import fs from 'node:fs/promises';
import path from 'node:path';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../src/adapters/aws/dynamodb-event-log.js';
import { LocalForge } from '../src/forge/local-forge.js';
import { MergeQueue, type QueueRound } from '../src/forge/merge-queue.js';
import {
  BILLING_SERVICE_PATH,
  failingTest,
  openChange,
  ownFile,
  passingTest,
} from '../src/forge/testing/pull-request-fixture.js';
import { startLocalEngines } from '../src/local/engines.js';
import type { Sandbox } from '../src/ports/sandbox.js';
import { createSandbox } from '../src/sandbox/create-sandbox.js';
import { withTempDir } from './measure.js';

const REPO = 'billing-service';
const TEST_COMMAND = ['node', '--test'];

/** What draining one queue of the same pull requests took. */
export interface QueueDrainFigures {
  merged: number;
  ejected: number;
  batches: number;
  bisectedBatches: number;
  testRuns: number;
  seconds: number;
  mergesPerHour: number;
  testsPerMerge: number;
}

export interface MergeQueueFigures {
  pullRequests: number;
  breaking: number;
  maxBatch: number;
  sandboxKind: Sandbox['kind'];
  /** Batches of up to `maxBatch`, bisected when red. */
  queue: QueueDrainFigures;
  /** The baseline: the same pull requests tested and merged one at a time (maxBatch 1). */
  serial: QueueDrainFigures;
}

/** Which of `count` pull requests break the suite: `breaking` of them, spread evenly. */
function breakingPositions(count: number, breaking: number): Set<number> {
  const step = count / breaking;
  return new Set(Array.from({ length: breaking }, (_, index) => Math.floor(step * index + step / 2) + 1));
}

/** Pull request n: its own new file; every fifth also its own passing test; the breaking ones a failing test. */
function filesOf(n: number, breaks: boolean): Record<string, string> {
  if (breaks) return { ...ownFile(n), ...failingTest(n) };
  return n % 5 === 0 ? { ...ownFile(n), ...passingTest(n) } : ownFile(n);
}

async function drain(queue: MergeQueue, numbers: number[]): Promise<QueueDrainFigures> {
  for (const pullRequest of numbers) {
    await queue.enqueue({
      repository: REPO,
      pullRequest,
      runId: `bench-${pullRequest}`,
      testCommand: TEST_COMMAND,
    });
  }
  const start = performance.now();
  const rounds: QueueRound[] = await queue.process(REPO);
  const seconds = (performance.now() - start) / 1000;
  const merged = rounds.reduce((sum, round) => sum + round.merged.length, 0);
  const testRuns = rounds.reduce((sum, round) => sum + round.testRuns, 0);
  return {
    merged,
    ejected: rounds.reduce((sum, round) => sum + round.ejected.length, 0),
    batches: rounds.length,
    bisectedBatches: rounds.filter((round) => round.outcome === 'bisected').length,
    testRuns,
    seconds,
    mergesPerHour: (merged / seconds) * 3600,
    testsPerMerge: merged === 0 ? 0 : testRuns / merged,
  };
}

/**
 * Opens `pullRequests` pull requests on examples/billing-service in the local forge (`breaking`
 * of them add a failing test), then drains them twice from identical copies of the forge: through
 * the merge queue in batches of `maxBatch`, and one at a time as the serial baseline. Both use
 * the real sandbox, real git and the record store on dynalite; opening the pull requests is not timed.
 *
 * @example
 * const figures = await measureMergeQueue({ pullRequests: 50, breaking: 4, maxBatch: 8 });
 * console.log(figures.queue.mergesPerHour / figures.serial.mergesPerHour);
 */
export async function measureMergeQueue(options: {
  pullRequests: number;
  breaking: number;
  maxBatch: number;
}): Promise<MergeQueueFigures> {
  return withTempDir('gantry-bench-mq-', async (dir) => {
    const sandbox = await createSandbox();
    const engines = await startLocalEngines(path.join(dir, 'data'));
    try {
      const queueRoot = path.join(dir, 'forge-queue');
      const forge = new LocalForge({ root: queueRoot });
      await forge.ensureRepository({ name: REPO, path: BILLING_SERVICE_PATH, defaultBranch: 'main' });
      const breaks = breakingPositions(options.pullRequests, options.breaking);
      const numbers: number[] = [];
      for (let n = 1; n <= options.pullRequests; n++) {
        const pull = await openChange(forge, dir, {
          repository: REPO,
          name: `bench-${n}`,
          files: filesOf(n, breaks.has(n)),
        });
        numbers.push(pull.number);
      }
      // The baseline starts from an identical forge: same commits, same pull requests.
      const serialRoot = path.join(dir, 'forge-serial');
      await fs.cp(queueRoot, serialRoot, { recursive: true });

      const run = async (root: string, prefix: string, maxBatch: number) => {
        const tables = defaultTableNames(prefix);
        await ensureEventLogTables(engines.dynamo, tables);
        const queue = new MergeQueue({
          forge: new LocalForge({ root }),
          records: new DynamoEventLog(engines.dynamo, tables),
          sandbox,
          workDir: path.join(dir, `${prefix}-work`),
          maxBatch,
        });
        return drain(queue, numbers);
      };
      const queue = await run(queueRoot, 'mqbatch', options.maxBatch);
      const serial = await run(serialRoot, 'mqserial', 1);
      return { ...options, sandboxKind: sandbox.kind, queue, serial };
    } finally {
      await engines.stop();
    }
  });
}
