import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxError } from '../../domain/errors.js';
import type { Sandbox, SandboxCommand, SandboxResult } from '../../ports/sandbox.js';
import {
  type Confinement,
  type ConfinementOptions,
  detectConfinement,
  type EnforcedLimits,
  readyFd,
  resolveWorkspace,
  runConfined,
} from '../../sandbox/confined-command.js';
import { type EnvironmentAllowlist, sandboxEnvironment } from '../../sandbox/environment.js';

/** The user sandboxed commands run as in the sandbox image (`containers/sandbox/Dockerfile`). */
export const SANDBOX_USER = { uid: 1001, gid: 1001 } as const;

export interface ProcessSandboxOptions extends ConfinementOptions {
  /** Who commands run as when this process may switch users. Default uid/gid 1001 (`sandbox`). */
  commandUser?: { uid: number; gid: number };
  /** Refuse to run commands as this process's own user (the sandbox task sets this). */
  requireUserSwitch?: boolean;
  setprivPath?: string;
  findPath?: string;
  chownPath?: string;
  environmentAllowlist?: EnvironmentAllowlist;
  /** Where the task keeps run workspaces; reported as `workspaceMount`. Default `/workspace`. */
  workspacesDir?: string;
}

/** How each limit is enforced, who commands run as, and what isolates their network. */
export type ProcessSandboxEnforcement = EnforcedLimits & {
  /** `uid:gid` of the command user, or why commands run as this process's own user. */
  commandUser: string;
  /** Network isolation is the task's: its subnets have no route out and egress reaches VPC endpoints only. */
  network: 'task-network';
};

/** Capability bits (linux/capability.h) this adapter needs to run commands as another user. */
const CAP = { chown: 0, kill: 5, setgid: 6, setuid: 7, setpcap: 8 } as const;

function effectiveCapabilities(): bigint {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    return hex ? BigInt(`0x${hex}`) : 0n;
  } catch {
    return 0n;
  }
}

const has = (caps: bigint, bit: number) => (caps & (1n << BigInt(bit))) !== 0n;

/** True in a shell whose effective capability set is empty. */
const noCapabilities = `grep -Eq '^CapEff:[[:space:]]*0+$' /proc/self/status`;

/** Signals every process of the current user, refusing while any capability is left. */
const killAsCommandUser = `${noCapabilities} || { echo "gantry-sandbox: still holds capabilities; not signalling" >&2; exit 1; }
kill -KILL -1 2>/dev/null
exit 0`;

/**
 * Runs as the command user once the user switch worked: checks no capability is left, creates its
 * HOME, enters the working directory, then reports ready, so a failed switch is a sandbox error and
 * not the command's exit.
 */
const switchedCommandScript = `${noCapabilities} || { echo "gantry-sandbox: the command user still holds capabilities" >&2; exit 125; }
mkdir -p -m 700 -- "$1" 2>/dev/null
cd -- "$2" || { echo "gantry-sandbox: cannot enter $2" >&2; exit 125; }
shift 2
echo ready >&${readyFd}
exec ${readyFd}>&-
exec "$@"`;

/** The same, for commands that run as this process's own user (no switch, so nothing to check). */
const commandScript = switchedCommandScript.slice(switchedCommandScript.indexOf('\n') + 1);

/**
 * A sandbox for the inside of the Fargate sandbox task, where namespaces are not available: each
 * command runs as a second, unprivileged user (`setpriv`, no new privileges, every capability dropped),
 * with the environment cleared to the allowlist (the task's credential URI never reaches it), its
 * working directory confined to the workspace, and the limits of `runConfined` (rlimits through
 * `prlimit`, wall time and output size, the process group killed at the end).
 *
 * Switching users needs CAP_SETUID, CAP_SETGID, CAP_KILL and CAP_CHOWN: root has them, and the
 * sandbox image gives them to its non-root runner as ambient capabilities. Before each command the
 * workspace (but not `.git`, which the runner's own git reads) is handed to the command user, and
 * taken back after it; every process the command user left is then killed. Without those capabilities
 * commands run as this process's own user and {@link ProcessSandbox.enforcedLimits} says so, unless
 * `requireUserSwitch` refuses that.
 *
 * Network: `network: 'setup'` and `'none'` behave the same here. Isolation is the VPC's job: the
 * task's subnets have no route to a NAT or internet gateway and its security group reaches only the
 * VPC endpoints.
 *
 * @example
 * const sandbox = new ProcessSandbox({ requireUserSwitch: true });
 * const result = await sandbox.run({ argv: ['npm', 'test'], workspace: '/workspace/01J...' });
 */
export class ProcessSandbox implements Omit<Sandbox, 'kind'> {
  /** Not yet in the port's `kind` union (src/ports/sandbox.ts); {@link asSandboxPort} bridges it. */
  readonly kind = 'process' as const;
  /** Commands see each workspace at its own path; this is where the task keeps them. */
  readonly workspaceMount: string;
  private readonly confinement: Confinement;
  private readonly user: { uid: number; gid: number } | null;
  private readonly setprivArgs: string[];
  private readonly home: string;
  private readonly why: string;

  constructor(private readonly options: ProcessSandboxOptions = {}) {
    this.workspaceMount = options.workspacesDir ?? '/workspace';
    this.confinement = detectConfinement(options);
    const caps = effectiveCapabilities();
    const canSwitch = [CAP.setuid, CAP.setgid, CAP.kill, CAP.chown].every((bit) => has(caps, bit));
    const target = options.commandUser ?? SANDBOX_USER;
    const ownUid = process.getuid?.() ?? -1;
    // Never root, never ourselves: `kill -1` as the command user must reach only its own processes.
    if (canSwitch && target.uid !== ownUid && target.uid !== 0) {
      this.user = target;
      this.why = `${target.uid}:${target.gid}`;
    } else {
      this.user = null;
      this.why = canSwitch
        ? `current user (uid ${ownUid}): it is the configured command user`
        : `current user (uid ${ownUid}): this process lacks CAP_SETUID, CAP_SETGID, CAP_KILL or CAP_CHOWN`;
      if (options.requireUserSwitch) {
        throw new SandboxError(`The process sandbox cannot run commands as another user: ${this.why}.`, {
          input: `uid ${ownUid}`,
          hint: 'run the sandbox runner as root, or give it CAP_SETUID, CAP_SETGID, CAP_KILL and CAP_CHOWN (the sandbox image does, as ambient capabilities)',
        });
      }
    }
    // RLIMIT_NPROC counts the command user's processes; it is ignored only when that user is root.
    if (
      this.user &&
      this.user.uid !== 0 &&
      this.confinement.prlimitPath &&
      this.confinement.enforced.maxProcesses === null
    ) {
      this.confinement.enforced.maxProcesses = 'rlimit';
    }
    this.setprivArgs = this.user
      ? [
          options.setprivPath ?? '/usr/bin/setpriv',
          `--reuid=${this.user.uid}`,
          `--regid=${this.user.gid}`,
          '--clear-groups',
          '--no-new-privs',
          '--inh-caps=-all',
          '--ambient-caps=-all',
          // Dropping the bounding set needs CAP_SETPCAP, which only a root runner has.
          ...(has(caps, CAP.setpcap) ? ['--bounding-set=-all'] : []),
          '--',
        ]
      : [];
    this.home = join(tmpdir(), `gantry-home-${this.user?.uid ?? ownUid}`);
  }

  /** How each limit is enforced, and who commands run as. */
  get enforcedLimits(): ProcessSandboxEnforcement {
    return { ...this.confinement.enforced, commandUser: this.why, network: 'task-network' };
  }

  async run(command: SandboxCommand): Promise<SandboxResult> {
    const { hostWorkspace, sandboxCwd } = await resolveWorkspace(command, '.');
    const env = {
      ...sandboxEnvironment(
        command.env,
        process.env,
        this.options.environmentAllowlist,
        undefined,
        command.virtualenv ? join(hostWorkspace, command.virtualenv) : undefined,
      ),
      HOME: this.home,
    };
    const argv = [
      ...this.setprivArgs,
      '/bin/sh',
      '-c',
      this.user ? switchedCommandScript : commandScript,
      'sh',
      this.home,
      join(hostWorkspace, sandboxCwd),
      ...command.argv,
    ];
    if (!this.user)
      return runConfined({ argv, env, isolator: 'the process sandbox' }, command, this.confinement);
    await this.handOver(hostWorkspace, this.user);
    try {
      return await runConfined({ argv, env, isolator: 'setpriv' }, command, this.confinement);
    } finally {
      await this.killLeftovers();
      await this.handOver(hostWorkspace, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    }
  }

  /**
   * Gives the workspace tree to `owner`, except `.git` (a command must not plant hooks or config the
   * runner's git would run) and files with more than one link (a hard link could reach outside).
   */
  private async handOver(workspace: string, owner: { uid: number; gid: number }): Promise<void> {
    await this.helper(
      [
        this.options.findPath ?? '/usr/bin/find',
        workspace,
        '(',
        '-path',
        join(workspace, '.git'),
        '-o',
        '-type',
        'f',
        '-links',
        '+1',
        ')',
        '-prune',
        '-o',
        '-exec',
        this.options.chownPath ?? '/bin/chown',
        '-h',
        `${owner.uid}:${owner.gid}`,
        '{}',
        '+',
      ],
      `hand the workspace ${workspace} to uid ${owner.uid}`,
    );
  }

  /**
   * Kills every process the command user still has, including ones that left the process group:
   * `kill -1` as that user, with every capability dropped first. With CAP_KILL left (a non-root runner
   * keeps its capabilities across the uid change) `kill -1` would reach every process there is, so the
   * script checks its own effective set is empty before it signals anything.
   */
  private async killLeftovers(): Promise<void> {
    await this.helper(
      [...this.setprivArgs, '/bin/sh', '-c', killAsCommandUser],
      `stop what uid ${this.user?.uid} left running`,
    );
  }

  private helper(argv: string[], purpose: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0] as string, argv.slice(1), {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      });
      child.once('error', (cause) =>
        reject(new SandboxError(`The process sandbox could not ${purpose}.`, { input: argv[0], cause })),
      );
      child.once('close', (code) => {
        if (code === 0) resolve();
        else
          reject(
            new SandboxError(`The process sandbox could not ${purpose} (exit ${code}).`, {
              input: argv[0],
              hint: `it printed: ${stderr.trim() || 'nothing'}`,
            }),
          );
      });
    });
  }
}

/**
 * The process sandbox as the port steps take. The port's `kind` union names only `bwrap` and
 * `unshare`; no step reads `kind`, so this widening is the one place the difference shows.
 *
 * @example
 * const deps = { ...base, model, sandbox: asSandboxPort(new ProcessSandbox()) };
 */
export function asSandboxPort(sandbox: ProcessSandbox): Sandbox {
  return sandbox as unknown as Sandbox;
}
