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

/** Options for {@link UnshareSandbox}; binaries default to their util-linux locations. */
export interface UnshareSandboxOptions extends ConfinementOptions {
  unsharePath?: string;
  mountPath?: string;
  setprivPath?: string;
  environmentAllowlist?: EnvironmentAllowlist;
}

/**
 * Runs inside the new mount namespace before the command. Every path arrives as a positional
 * argument. It fails closed: any step that does not work stops the command from running.
 *
 * The workspace may itself live under the host /tmp, which the private tmpfs is about to cover,
 * so the script first makes it its working directory and binds it from /proc/self/cwd afterwards.
 */
const mountNamespaceScript = `
set -eu
# The caller's PATH must not choose the programs that run here with full privileges.
command_path=\${PATH-}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
workspace=$1 mount_point=$2 cwd=$3 home=$4 mount=$5 setpriv=$6
shift 6
fail() { echo "gantry-sandbox: $*" >&2; exit 125; }
cd -- "$workspace" || fail "cannot enter workspace $workspace"
mount_points=$(while read -r _ point _; do printf '%b\\n' "$point"; done < /proc/self/mounts)
printf '%s\\n' "$mount_points" | while IFS= read -r point; do
  "$mount" -n -o remount,bind,ro -- "$point" || fail "cannot make $point read-only"
done
"$mount" -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "cannot mount a private /tmp"
mkdir -p -- "$mount_point" "$home" /tmp/.dev
"$mount" -n --no-canonicalize --bind /proc/self/cwd "$mount_point" || fail "cannot bind the workspace"
"$mount" -n -o remount,bind,rw -- "$mount_point" || fail "cannot make the workspace writable"
"$mount" -n -t tmpfs -o mode=755,nosuid tmpfs /tmp/.dev || fail "cannot build /dev"
for device in null zero full random urandom tty; do
  : > "/tmp/.dev/$device"
  "$mount" -n --bind "/dev/$device" "/tmp/.dev/$device" || fail "cannot provide /dev/$device"
done
ln -s /proc/self/fd /tmp/.dev/fd
ln -s /proc/self/fd/0 /tmp/.dev/stdin
ln -s /proc/self/fd/1 /tmp/.dev/stdout
ln -s /proc/self/fd/2 /tmp/.dev/stderr
mkdir /tmp/.dev/shm /tmp/.dev/pts
"$mount" -n --move /tmp/.dev /dev || fail "cannot replace /dev"
rmdir /tmp/.dev
cd -- "$cwd" || fail "cannot enter $cwd"
PATH=$command_path
echo ready >&${readyFd}
exec ${readyFd}>&-
# This shell stays as the namespace's init: the kernel shields init from signals it has no
# handler for, which would swallow SIGXCPU and friends if the command itself were pid 1.
# A background job would read /dev/null, so its stdin is handed over explicitly.
exec 4<&0
"$setpriv" --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@" 0<&4 4<&- &
exec 4<&-
set +e
wait "$!"
exit "$?"
`;

/**
 * A sandbox built with util-linux `unshare` for hosts without bubblewrap: new network, pid,
 * mount, ipc and uts namespaces, every host mount read-only, a private /tmp and /dev, the
 * workspace the only writable host path, and all capabilities dropped before the command runs.
 *
 * @example
 * const sandbox = new UnshareSandbox();
 * const result = await sandbox.run({ argv: ['make', 'test'], workspace: '/srv/checkout' });
 */
export class UnshareSandbox implements Sandbox {
  readonly kind = 'unshare' as const;
  readonly workspaceMount = '/tmp/workspace';
  readonly unsharePath: string;
  private readonly mountPath: string;
  private readonly setprivPath: string;
  private readonly confinement: Confinement;
  private readonly allowlist: EnvironmentAllowlist | undefined;

  constructor(options: UnshareSandboxOptions = {}) {
    this.unsharePath = options.unsharePath ?? '/usr/bin/unshare';
    this.mountPath = options.mountPath ?? '/usr/bin/mount';
    this.setprivPath = options.setprivPath ?? '/usr/bin/setpriv';
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
      this.unsharePath,
      ...(command.network === 'setup' ? [] : ['--net']),
      '--pid',
      '--mount',
      '--ipc',
      '--uts',
      '--fork',
      '--mount-proc',
      '--kill-child=SIGKILL',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      mountNamespaceScript,
      'sh',
      hostWorkspace,
      this.workspaceMount,
      sandboxCwd,
      sandboxHome,
      this.mountPath,
      this.setprivPath,
      ...command.argv,
    ];
    return runConfined({ argv, env, isolator: 'unshare' }, command, this.confinement);
  }
}
