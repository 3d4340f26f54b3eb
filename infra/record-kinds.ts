/**
 * The record kinds (records table, pk `kind`) a sandbox task may write with its run's credentials. The
 * records table cannot be keyed by run, so these are named one by one: the merge queue's entries, its
 * place-in-line counters and its lease (the mergeChange step runs the queue in the sandbox task), and
 * incidents (openRevertPullRequest notes the revert pull request on its incident). Plain TypeScript, so
 * the infra check's rules (infra/check/rules.ts) read the same list the sandbox run role grants.
 */
import { MERGE_QUEUE_KIND } from '../src/forge/merge-queue.js';
import { QUEUE_LEASE_KIND } from '../src/forge/queue-lease.js';
import { INCIDENT_KIND } from '../src/incidents/incidents.js';

/** The merge queue's counter kind (`merge-queue-position`); src/forge/merge-queue.ts keeps it private. */
const MERGE_QUEUE_POSITION_KIND = `${MERGE_QUEUE_KIND}-position`;

export const SANDBOX_WRITABLE_RECORD_KINDS: readonly string[] = [
  MERGE_QUEUE_KIND,
  MERGE_QUEUE_POSITION_KIND,
  QUEUE_LEASE_KIND,
  INCIDENT_KIND,
];
