import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryError, SandboxError } from '../domain/errors.js';
import type { Sandbox } from '../ports/sandbox.js';
import { BwrapSandbox, type BwrapSandboxOptions } from './bwrap.js';

/** The isolator this machine-local factory builds; the process sandbox is the Fargate task's. */
export type SandboxKind = Exclude<Sandbox['kind'], 'process'>;

/** Options for {@link createSandbox}. */
export interface CreateSandboxOptions {
  bwrap?: BwrapSandboxOptions;
}

/** The probe outcome per options: `null` when `true` ran in the sandbox, else what went wrong. */
const probes = new Map<string, Promise<string | null>>();

async function probe(sandbox: BwrapSandbox): Promise<string | null> {
  const workspace = await mkdtemp(join(tmpdir(), 'gantry-sandbox-probe-'));
  try {
    const result = await sandbox.run({ argv: ['true'], workspace, limits: { wallTimeMs: 10_000 } });
    if (result.exitCode === 0) return null;
    return `\`true\` exited with ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`;
  } catch (error) {
    if (error instanceof GantryError) return error.hint ? `${error.message} ${error.hint}` : error.message;
    return error instanceof Error ? error.message : String(error);
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

/**
 * Returns the bubblewrap sandbox once it has really run a command on this machine (`true`, probed once
 * per process and options). There is no fallback: an isolator that cannot build the explicit view of
 * the host (see `view.ts`) would show the sandbox more than a build needs, so Gantry refuses instead.
 *
 * @example
 * const sandbox = await createSandbox();
 * await sandbox.run({ argv: ['npm', 'test'], workspace: '/srv/checkout' });
 */
export async function createSandbox(options: CreateSandboxOptions = {}): Promise<Sandbox> {
  const sandbox = new BwrapSandbox(options.bwrap);
  const key = JSON.stringify(options.bwrap ?? {});
  let outcome = probes.get(key);
  if (!outcome) {
    outcome = probe(sandbox);
    probes.set(key, outcome);
  }
  const failure = await outcome;
  if (failure === null) return sandbox;
  throw new SandboxError(`bubblewrap cannot create an isolated sandbox here.\n${failure}`, {
    input: sandbox.bwrapPath,
    hint: 'Install bubblewrap 0.8 or later (`apt-get install bubblewrap`) and run Gantry where namespaces are allowed (as root, or with unprivileged user namespaces enabled: sysctl kernel.unprivileged_userns_clone=1).',
  });
}
