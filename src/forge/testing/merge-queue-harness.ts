import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../../adapters/aws/dynamodb-event-log.js';
import { type LocalEngines, startLocalEngines } from '../../local/engines.js';
import type { Sandbox, SandboxCommand } from '../../ports/sandbox.js';
import { createSandbox } from '../../sandbox/create-sandbox.js';
import { LocalForge } from '../local-forge.js';
import { MergeQueue, type MergeQueueOptions } from '../merge-queue.js';
import { BILLING_SERVICE_PATH } from './pull-request-fixture.js';

export const REPO = 'billing-service';
export const TEST_COMMAND = ['node', '--test'];

/** What each merge-queue test gets fresh: a forge holding billing-service, tables, a scratch dir. */
export interface MergeQueueHarness {
  readonly forge: LocalForge;
  readonly records: DynamoEventLog;
  readonly sandbox: Sandbox;
  readonly scratch: string;
  /** The real sandbox, with a hook that runs before each command (to race the queue, for example). */
  sandboxWith(before: (command: SandboxCommand, call: number) => Promise<void>): Sandbox;
  queueWith(options?: Partial<MergeQueueOptions>): MergeQueue;
  enqueueAll(queue: MergeQueue, numbers: number[]): Promise<void>;
  /** Exit code of the repository's tests on the default branch, run in the sandbox. */
  defaultBranchTestExit(): Promise<number>;
}

/**
 * Registers the vitest hooks of a merge-queue test file: dynalite and the real sandbox once per
 * file; a fresh forge with billing-service and fresh record tables per test.
 *
 * @example
 * const h = useMergeQueueHarness();
 * it('merges', async () => { const queue = h.queueWith(); ... });
 */
export function useMergeQueueHarness(): MergeQueueHarness {
  let engines: LocalEngines | undefined;
  let enginesDir = '';
  let sandbox: Sandbox | undefined;
  let scratch = '';
  let forge: LocalForge | undefined;
  let records: DynamoEventLog | undefined;
  let tablePrefix = 0;
  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is only available inside a test`);
    return value;
  };

  beforeAll(async () => {
    enginesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-mq-engines-'));
    engines = await startLocalEngines(path.join(enginesDir, 'data'));
    sandbox = await createSandbox();
  });
  afterAll(async () => {
    await engines?.stop();
    await fs.rm(enginesDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-mq-'));
    forge = new LocalForge({ root: path.join(scratch, 'forge') });
    await forge.ensureRepository({ name: REPO, path: BILLING_SERVICE_PATH, defaultBranch: 'main' });
    // Fresh tables per test, so queue positions and leases never leak between tests.
    const tables = defaultTableNames(`mq${++tablePrefix}`);
    const dynamo = required(engines, 'dynalite').dynamo;
    await ensureEventLogTables(dynamo, tables);
    records = new DynamoEventLog(dynamo, tables);
  });
  afterEach(async () => {
    await fs.rm(scratch, { recursive: true, force: true });
  });

  const harness: MergeQueueHarness = {
    get forge() {
      return required(forge, 'the forge');
    },
    get records() {
      return required(records, 'the record store');
    },
    get sandbox() {
      return required(sandbox, 'the sandbox');
    },
    get scratch() {
      return scratch;
    },
    sandboxWith(before) {
      const real = harness.sandbox;
      let calls = 0;
      return {
        kind: real.kind,
        workspaceMount: real.workspaceMount,
        async run(command) {
          await before(command, ++calls);
          return real.run(command);
        },
      };
    },
    queueWith(options = {}) {
      return new MergeQueue({
        forge: harness.forge,
        records: harness.records,
        sandbox: harness.sandbox,
        workDir: path.join(scratch, 'queue'),
        ...options,
      });
    },
    async enqueueAll(queue, numbers) {
      for (const pullRequest of numbers) {
        await queue.enqueue({
          repository: REPO,
          pullRequest,
          runId: `run-${pullRequest}`,
          testCommand: TEST_COMMAND,
        });
      }
    },
    async defaultBranchTestExit() {
      const dir = await fs.mkdtemp(path.join(scratch, 'main-'));
      await fs.rm(dir, { recursive: true });
      await harness.forge.checkout(REPO, 'main', dir);
      return (await harness.sandbox.run({ argv: TEST_COMMAND, workspace: dir, network: 'none' })).exitCode;
    },
  };
  return harness;
}
