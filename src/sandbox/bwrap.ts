import { lchownSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { SandboxError } from '../domain/errors.js';
import type { Sandbox, SandboxCommand, SandboxEgress, SandboxResult } from '../ports/sandbox.js';
import {
  type Confinement,
  type ConfinementOptions,
  detectConfinement,
  type EnforcedLimits,
  readyFd,
  resolveWorkspace,
  runConfined,
} from './confined-command.js';
import {
  defaultSandboxEgressPaths,
  forwarderScriptPath,
  startEgressProxy,
  wrapCommandForEgress,
} from './egress/index.js';
import { type EnvironmentAllowlist, sandboxEnvironment } from './environment.js';
import { SandboxUsers } from './sandbox-users.js';
import {
  detectSandboxView,
  type PublishedMavenRepository,
  prepareEtc,
  publishMavenRepository,
  type SandboxView,
  sandboxHome,
  type ToolchainKind,
} from './view.js';

/** Options for {@link BwrapSandbox}. */
export interface BwrapSandboxOptions extends ConfinementOptions {
  /** The bubblewrap binary. Default `/usr/bin/bwrap`. */
  bwrapPath?: string;
  /** setpriv, which drops to the sandbox uid when Gantry runs as root. Default `/usr/bin/setpriv`. */
  setprivPath?: string;
  environmentAllowlist?: EnvironmentAllowlist;
  /** Toolchains to expose; default every one detected on the host. */
  toolchains?: readonly ToolchainKind[];
  /** Where uid leases and the synthetic /etc files live. Default `/run/gantry-sandbox` as root. */
  runtimeDir?: string;
  /** Size of the private /tmp (and home) in bytes. Default 1 GiB. */
  tmpBytes?: number;
  /** More host paths to expose read-only, at the same path: toolchains an operator installed elsewhere. */
  extraPaths?: readonly string[];
}

/**
 * A sandbox built with bubblewrap. The command sees an explicit read-only view of the host (see
 * `view.ts`: /usr and the system links, a minimal /etc with synthetic accounts, the detected
 * toolchains), the workspace as the only writable host path, a private size-limited /tmp and home, a
 * /proc of its own processes, and fresh network, pid, ipc and uts namespaces.
 *
 * When Gantry runs as root, the command runs as a dedicated unprivileged host uid leased per command
 * from a reserved range (bubblewrap builds the view as root; setpriv then drops to the uid with every
 * capability gone and no_new_privs). That uid owns the workspace and nothing else, so a file the view
 * exposes by mistake is still unreadable unless it is world-readable. As an unprivileged user,
 * bubblewrap runs in a user namespace as that user.
 *
 * @example
 * const sandbox = new BwrapSandbox();
 * const result = await sandbox.run({ argv: ['npm', 'test'], workspace: '/srv/checkout' });
 */
export class BwrapSandbox implements Sandbox {
  readonly kind = 'bwrap' as const;
  readonly workspaceMount = '/tmp/workspace';
  readonly bwrapPath: string;
  private readonly setprivPath: string;
  private readonly confinement: Confinement;
  private readonly allowlist: EnvironmentAllowlist | undefined;
  private defaultView: SandboxView | undefined;
  private readonly toolchains: readonly ToolchainKind[] | undefined;
  private readonly runtimeDir: string;
  private readonly tmpBytes: number;
  private readonly users: SandboxUsers | undefined;
  private readonly etcDirs = new Map<number, string>();
  private readonly views = new Map<string, SandboxView>();
  private readonly extraPaths: readonly string[];
  private readonly root: boolean;
  private maven: PublishedMavenRepository | null | undefined;

  constructor(options: BwrapSandboxOptions = {}) {
    this.bwrapPath = options.bwrapPath ?? '/usr/bin/bwrap';
    this.setprivPath = options.setprivPath ?? '/usr/bin/setpriv';
    const root = process.getuid?.() === 0;
    this.confinement = detectConfinement({ ...options, unprivilegedCommands: root || undefined });
    this.allowlist = options.environmentAllowlist;
    this.runtimeDir =
      options.runtimeDir ??
      (root ? '/run/gantry-sandbox' : join(tmpdir(), `gantry-sandbox-${process.getuid?.()}`));
    this.extraPaths = options.extraPaths ?? [];
    this.root = root;
    this.toolchains = options.toolchains;
    this.tmpBytes = options.tmpBytes ?? 1024 ** 3;
    this.users = root ? new SandboxUsers(join(this.runtimeDir, 'uids')) : undefined;
  }

  /** How each limit is enforced here; `null` marks a limit this machine cannot enforce. */
  get enforcedLimits(): EnforcedLimits {
    return this.confinement.enforced;
  }

  /** What commands see of the host, for docs and diagnostics. */
  get sandboxView(): SandboxView {
    this.defaultView ??= detectSandboxView({
      toolchains: this.toolchains,
      extraPaths: this.extraPaths,
      maven: () => this.mavenRepository(),
    });
    return this.defaultView;
  }

  /**
   * The host's Maven cache as published for the sandbox, the first time a view with the JDK asks for
   * it. Only root has that cache to publish (and only root can publish it for other uids).
   */
  private mavenRepository(): PublishedMavenRepository | undefined {
    if (this.maven === undefined) this.maven = (this.root && publishMavenRepository(this.runtimeDir)) || null;
    return this.maven ?? undefined;
  }

  async run(command: SandboxCommand): Promise<SandboxResult> {
    const { hostWorkspace, sandboxCwd } = await resolveWorkspace(command, this.workspaceMount);
    const view = this.viewFor(command);
    const lease = this.users?.acquire(statSync(hostWorkspace).uid);
    // The setup phase gets no network either: only an allowlisting proxy on the host, through a socket.
    const egress: SandboxEgress[] = [];
    const proxy =
      command.network === 'setup'
        ? await startEgressProxy({
            endpoints: command.egress ?? [],
            onDecision: (decision) =>
              egress.push({
                host: decision.host,
                port: decision.port,
                outcome: decision.outcome,
                ...(decision.reason ? { reason: decision.reason } : {}),
                bytesUp: decision.bytesUp,
                bytesDown: decision.bytesDown,
              }),
          })
        : undefined;
    try {
      if (lease) handOverWorkspace(hostWorkspace, lease.uid, lease.gid);
      const uid = lease?.uid ?? process.getuid?.() ?? 65534;
      const gid = lease?.gid ?? process.getgid?.() ?? 65534;
      const etc = this.etcFor(uid, gid);
      const env = sandboxEnvironment(
        command.env,
        process.env,
        this.allowlist,
        view,
        command.virtualenv
          ? posix.join(this.workspaceMount, workspaceRelative(command.virtualenv))
          : undefined,
      );
      const dropPrivileges = lease
        ? [
            this.setprivPath,
            `--reuid=${lease.uid}`,
            `--regid=${lease.gid}`,
            '--clear-groups',
            '--inh-caps=-all',
            '--bounding-set=-all',
            '--no-new-privs',
            '--',
          ]
        : [];
      const argv = [
        this.bwrapPath,
        ...viewArguments(view, etc),
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        '--perms',
        '1777',
        '--size',
        String(this.tmpBytes),
        '--tmpfs',
        '/tmp',
        // Sticky and world-writable like /tmp: only the command's own uid lives in this sandbox.
        '--perms',
        '1777',
        '--dir',
        sandboxHome,
        ...homeFileArguments(view),
        '--bind',
        hostWorkspace,
        this.workspaceMount,
        '--chdir',
        sandboxCwd,
        ...(proxy
          ? [
              '--ro-bind',
              proxy.socketPath,
              defaultSandboxEgressPaths.socketPath,
              '--ro-bind',
              forwarderScriptPath,
              defaultSandboxEgressPaths.forwarderPath,
            ]
          : []),
        '--unshare-net',
        ...(lease ? [] : ['--unshare-user']),
        '--unshare-pid',
        '--unshare-ipc',
        '--unshare-uts',
        '--cap-drop',
        'ALL',
        // Only what setpriv needs to become the uid (and bubblewrap to enter the uid's working directory);
        // the uid change and setpriv clear all of them before the command runs.
        ...(lease
          ? [
              '--cap-add',
              'CAP_SETUID',
              '--cap-add',
              'CAP_SETGID',
              '--cap-add',
              'CAP_SETPCAP',
              '--cap-add',
              'CAP_DAC_READ_SEARCH',
            ]
          : []),
        '--die-with-parent',
        '--new-session',
        '--info-fd',
        String(readyFd),
        '--clearenv',
        ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
        '--',
        ...dropPrivileges,
        ...(proxy ? wrapCommandForEgress(command.argv, { nodePath: process.execPath }).argv : command.argv),
      ];
      const result = await runConfined({ argv, env, isolator: 'bubblewrap' }, command, this.confinement);
      return proxy ? { ...result, egress } : result;
    } finally {
      await proxy?.close();
      lease?.release();
    }
  }

  /**
   * The view a command gets: the toolchains the repository map detected (or, without a map, the
   * adapter's), and always Node.js in the setup phase, whose egress forwarder runs on it.
   */
  private viewFor(command: SandboxCommand): SandboxView {
    if (!command.toolchains) return this.sandboxView;
    const wanted = new Set(command.toolchains);
    if (command.network === 'setup') wanted.add('node');
    return this.viewWith([...wanted]);
  }

  /** The view with exactly these toolchains, detected once per set. */
  private viewWith(toolchains: readonly ToolchainKind[]): SandboxView {
    const key = [...toolchains].sort().join(',');
    let view = this.views.get(key);
    if (!view) {
      view = detectSandboxView({
        toolchains,
        extraPaths: this.extraPaths,
        maven: () => this.mavenRepository(),
      });
      this.views.set(key, view);
    }
    return view;
  }

  /**
   * The sandbox's /etc for a uid: the allowlisted entries copied (links kept as links) with the synthetic
   * accounts, built once per uid and content beside the leases, bound as one read-only mount.
   */
  private etcFor(uid: number, gid: number): string {
    let dir = this.etcDirs.get(uid);
    if (!dir) {
      // /etc is the same in every view: the one without toolchains never publishes the Maven cache.
      dir = prepareEtc(this.runtimeDir, this.viewWith([]), uid, gid);
      this.etcDirs.set(uid, dir);
    }
    return dir;
  }
}

/** The bubblewrap arguments that build a view: every path read-only, parents world-traversable. */
export function viewArguments(view: SandboxView, etcDir?: string): string[] {
  const args: string[] = [];
  const made = new Set<string>(['/']);
  const bound: string[] = [];
  const visible = (path: string) => bound.some((root) => path === root || path.startsWith(`${root}/`));
  const parents = (path: string) => {
    const missing: string[] = [];
    for (let dir = posix.dirname(path); !made.has(dir); dir = posix.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) {
      // bubblewrap creates missing parents 0700, which the unprivileged uid could not traverse.
      args.push('--perms', '0755', '--dir', dir);
      made.add(dir);
    }
  };
  const bind = (path: string, at = path) => {
    // A path inside one already bound is visible through it (and its parents could not be made there).
    if (visible(at)) return;
    parents(at);
    args.push('--ro-bind', path, at);
    made.add(at);
    bound.push(at);
  };
  for (const entry of view.system) {
    if (entry.link) {
      args.push('--symlink', entry.link, entry.path);
      made.add(entry.path);
    } else bind(entry.path);
  }
  bind(etcDir === undefined ? '/etc' : etcDir, '/etc');
  for (const extra of [...view.toolchains.flatMap((toolchain) => toolchain.binds), ...view.extra])
    bind(extra.host);
  return args;
}

/**
 * Gives the workspace to the sandbox uid: everything in it, symbolic links themselves and never their
 * targets (lchown, no traversal of links), so host-side writes (a checkout, a reset) stay writable to
 * the command and a link planted to a host file changes nothing outside. Only entries another uid owns
 * are changed, so a workspace already handed over costs one walk.
 */
function handOverWorkspace(workspace: string, uid: number, gid: number): void {
  const visit = (path: string) => {
    const stats = lstatSync(path);
    if (stats.uid !== uid || stats.gid !== gid) lchownSync(path, uid, gid);
    if (!stats.isDirectory()) return;
    for (const name of readdirSync(path)) visit(join(path, name));
  };
  try {
    visit(workspace);
  } catch (cause) {
    throw new SandboxError(`Could not give the workspace ${workspace} to the sandbox uid ${uid}.`, {
      input: workspace,
      hint: 'Check that Gantry runs as root and the workspace is on a local file system.',
      cause,
    });
  }
}

/** A path inside the workspace, as given relative to it; anything else is refused. */
function workspaceRelative(path: string): string {
  const normal = posix.normalize(path);
  if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
    throw new SandboxError(`The virtualenv "${path}" is not inside the workspace.`, {
      input: path,
      hint: 'Give the virtualenv as a path relative to the workspace, such as .venv.',
    });
  }
  return normal;
}

/** Binds the view's home files (settings) into the private home, their parents made traversable first. */
function homeFileArguments(view: SandboxView): string[] {
  const args: string[] = [];
  const made = new Set<string>([sandboxHome]);
  for (const file of view.toolchains.flatMap((toolchain) => toolchain.homeFiles ?? [])) {
    const at = posix.join(sandboxHome, posix.normalize(file.at));
    const missing: string[] = [];
    for (
      let dir = posix.dirname(at);
      !made.has(dir) && dir.startsWith(sandboxHome);
      dir = posix.dirname(dir)
    ) {
      missing.unshift(dir);
    }
    for (const dir of missing) {
      // World-writable like the home itself, so the command can add its own files beside the settings.
      args.push('--perms', '1777', '--dir', dir);
      made.add(dir);
    }
    args.push('--ro-bind', file.host, at);
  }
  return args;
}
