import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryError, SandboxError } from '../domain/errors.js';
import type { Sandbox } from '../ports/sandbox.js';
import { BwrapSandbox, type BwrapSandboxOptions } from './bwrap.js';
import { UnshareSandbox, type UnshareSandboxOptions } from './unshare.js';

/** The isolators this machine-local factory chooses between; the process sandbox is the Fargate task's. */
export type SandboxKind = Exclude<Sandbox['kind'], 'process'>;

/** Options for {@link createSandbox}. */
export interface CreateSandboxOptions {
  /** Tried first. Default `bwrap`. */
  prefer?: SandboxKind;
  /** Try only this adapter, for a deployment that insists on one. */
  only?: SandboxKind;
  bwrap?: BwrapSandboxOptions;
  unshare?: UnshareSandboxOptions;
}

/** The probe outcome: `null` when `true` ran in the sandbox, else what went wrong. */
const probes = new Map<string, Promise<string | null>>();

async function probe(sandbox: BwrapSandbox | UnshareSandbox): Promise<string | null> {
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

function cachedProbe(kind: SandboxKind, options: object, sandbox: BwrapSandbox | UnshareSandbox) {
  const key = `${kind}:${JSON.stringify(options)}`;
  let outcome = probes.get(key);
  if (!outcome) {
    outcome = probe(sandbox);
    probes.set(key, outcome);
  }
  return outcome;
}

const names: Record<SandboxKind, string> = { bwrap: 'bubblewrap', unshare: 'unshare' };

/**
 * Returns the first sandbox adapter that can really run a command on this machine, trying
 * bubblewrap, then unshare. Each adapter is probed by running `true` in it, once per process.
 *
 * @example
 * const sandbox = await createSandbox();
 * await sandbox.run({ argv: ['npm', 'test'], workspace: '/srv/checkout' });
 */
export async function createSandbox(options: CreateSandboxOptions = {}): Promise<Sandbox> {
  const order: SandboxKind[] = options.only
    ? [options.only]
    : options.prefer === 'unshare'
      ? ['unshare', 'bwrap']
      : ['bwrap', 'unshare'];
  const failures: string[] = [];
  for (const kind of order) {
    const adapterOptions = (kind === 'bwrap' ? options.bwrap : options.unshare) ?? {};
    const sandbox = kind === 'bwrap' ? new BwrapSandbox(options.bwrap) : new UnshareSandbox(options.unshare);
    const failure = await cachedProbe(kind, adapterOptions, sandbox);
    if (failure === null) return sandbox;
    failures.push(`${names[kind]}: ${failure}`);
  }
  throw new SandboxError(
    `Neither bubblewrap nor unshare can create an isolated sandbox here (tried ${order.map((kind) => names[kind]).join(', ')}).\n${failures.join('\n')}`,
    {
      input: order.join(','),
      hint: 'Install bubblewrap (`apt-get install bubblewrap`) or util-linux, and run Gantry where namespaces are allowed (as root, or with unprivileged user namespaces enabled: sysctl kernel.unprivileged_userns_clone=1).',
    },
  );
}
