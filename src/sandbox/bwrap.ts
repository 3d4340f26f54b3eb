import type { Sandbox, SandboxCommand, SandboxResult } from '../ports/sandbox.js';
import {
  type Confinement,
  type ConfinementOptions,
  detectConfinement,
  type EnforcedLimits,
  readyFd,
  resolveWorkspace,
  runConfined,
} from './confined-command.js';
import { type EnvironmentAllowlist, sandboxEnvironment, sandboxHome } from './environment.js';

/** Options for {@link BwrapSandbox}. */
export interface BwrapSandboxOptions extends ConfinementOptions {
  /** The bubblewrap binary. Default `/usr/bin/bwrap`. */
  bwrapPath?: string;
  environmentAllowlist?: EnvironmentAllowlist;
}

/**
 * A sandbox built with bubblewrap: fresh network, pid, ipc and uts namespaces, the host root
 * read-only, a private /tmp and /dev, the workspace the only writable host path, no capabilities.
 *
 * @example
 * const sandbox = new BwrapSandbox();
 * const result = await sandbox.run({ argv: ['npm', 'test'], workspace: '/srv/checkout' });
 */
export class BwrapSandbox implements Sandbox {
  readonly kind = 'bwrap' as const;
  readonly workspaceMount = '/tmp/workspace';
  readonly bwrapPath: string;
  private readonly confinement: Confinement;
  private readonly allowlist: EnvironmentAllowlist | undefined;

  constructor(options: BwrapSandboxOptions = {}) {
    this.bwrapPath = options.bwrapPath ?? '/usr/bin/bwrap';
    this.confinement = detectConfinement(options);
    this.allowlist = options.environmentAllowlist;
  }

  /** How each limit is enforced here; `null` marks a limit this machine cannot enforce. */
  get enforcedLimits(): EnforcedLimits {
    return this.confinement.enforced;
  }

  async run(command: SandboxCommand): Promise<SandboxResult> {
    const { hostWorkspace, sandboxCwd } = await resolveWorkspace(command, this.workspaceMount);
    const env = sandboxEnvironment(command.env, process.env, this.allowlist);
    const argv = [
      this.bwrapPath,
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      '--dir',
      sandboxHome,
      '--bind',
      hostWorkspace,
      this.workspaceMount,
      '--chdir',
      sandboxCwd,
      ...(command.network === 'setup' ? [] : ['--unshare-net']),
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--cap-drop',
      'ALL',
      '--die-with-parent',
      '--new-session',
      '--info-fd',
      String(readyFd),
      '--clearenv',
      ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
      '--',
      ...command.argv,
    ];
    return runConfined({ argv, env, isolator: 'bubblewrap' }, command, this.confinement);
  }
}
