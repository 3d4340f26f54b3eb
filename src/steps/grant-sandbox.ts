import type { SandboxGrants } from '../ports/sandbox-grants.js';
import type { RunRef } from './step-deps.js';

/**
 * Issues the credentials grant the next sandbox task of the run starts with. It runs before every
 * sandbox task and is never replayed from a journal or an idempotency record: a grant expires, and the
 * one a retried task needs is a fresh one.
 *
 * @example
 * const { grant } = await grantSandbox(grants, { run }); // handed to the task as GANTRY_RUN_GRANT
 */
export async function grantSandbox(
  grants: SandboxGrants,
  input: { run: RunRef },
): Promise<{ grant: string }> {
  const { grant } = await grants.grant(input.run.runId);
  return { grant };
}
