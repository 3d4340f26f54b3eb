import type { SandboxGrants } from '../../ports/sandbox-grants.js';

/** The grant the embedded runtime hands its in-process sandbox steps, which already run as the user. */
export const LOCAL_GRANT = 'local';

/**
 * Locally there is no second identity to hand out: workspace steps run in-process, so the grant is a
 * constant the local executor ignores.
 *
 * @example
 * await new LocalSandboxGrants().grant(runId); // { grant: 'local' }
 */
export class LocalSandboxGrants implements SandboxGrants {
  async grant(_runId: string): Promise<{ grant: string }> {
    return { grant: LOCAL_GRANT };
  }
}
