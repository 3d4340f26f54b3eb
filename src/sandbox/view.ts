import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import type { ToolchainKind } from '../domain/context.js';

/**
 * What a sandboxed command sees of the host: an explicit list of read-only paths, never the
 * whole root. Everything else (user homes, /root, /work, /srv, the Gantry home, other runs'
 * workspaces, /var, /run, the host's /proc and /sys) is simply absent.
 */

export type { ToolchainKind };

/** A host path bound read-only into the sandbox at the same path. */
export interface ViewBind {
  host: string;
  /** Why it is visible, for docs and for the error when it is missing. */
  reason: string;
}

/** The toolchain part of a view: paths to bind and the variables that point tools at them. */
export interface ToolchainView {
  kind: ToolchainKind;
  binds: ViewBind[];
  /** Directories put first on PATH inside the sandbox. */
  path: string[];
  /** Variables such as RUSTUP_HOME or JAVA_HOME, set from the view, never inherited from the host. */
  env: Record<string, string>;
  /** Host files bound read-only into the sandbox's private home (relative path there), such as settings. */
  homeFiles?: { host: string; at: string }[];
}

/** The complete view: system directories, a minimal /etc, and the detected toolchains. */
export interface SandboxView {
  /** System directories bound read-only (`/usr`, and `/bin`, `/lib*`, `/sbin` as binds or links). */
  system: { path: string; link?: string }[];
  /** Files and directories of /etc a toolchain needs; never shadow, gshadow, ssh keys or machine secrets. */
  etc: string[];
  toolchains: ToolchainView[];
  /** Host paths the operator added (toolchains installed where detection does not look). */
  extra: ViewBind[];
  /** PATH inside the sandbox: toolchain directories first, then the system's. */
  path: string;
  env: Record<string, string>;
}

/** Where HOME points inside every sandbox. */
export const sandboxHome = '/tmp/home';

/** The system part of PATH inside the sandbox. */
export const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Entries of /etc that toolchains read. Deliberately absent: shadow, gshadow, sudoers, ssh/, ssl/private,
 * machine-id, hostname, npmrc, pip.conf, gitconfig, ld.so.preload and anything else holding host secrets or
 * host-wide configuration a repository's code has no business reading. passwd, group and hosts are synthetic.
 */
export const etcAllowlist = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'debian_version',
  'java-17-openjdk',
  'java-21-openjdk',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'maven',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'perl',
  'protocols',
  'python3',
  'python3.11',
  'python3.12',
  'python3.13',
  'services',
  'ssl/certs',
  'ssl/openssl.cnf',
  'timezone',
] as const;

/** Top-level system directories; on merged-/usr systems they are symbolic links into /usr. */
const systemDirectories = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Finds `program` on the host PATH (the Gantry process's), as a real path. */
function whichOnHost(program: string, hostPath: string): string | undefined {
  for (const dir of hostPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const underUsr = (path: string) => path === '/usr' || path.startsWith('/usr/');

function nodeToolchain(): ToolchainView {
  // The node running Gantry; when it lives outside /usr (a version manager, node@22 from npm), its prefix is bound.
  const binary = realpathOrUndefined(process.execPath) ?? process.execPath;
  const prefix = dirname(dirname(binary));
  if (underUsr(binary)) return { kind: 'node', binds: [], path: [], env: {} };
  return {
    kind: 'node',
    binds: [{ host: prefix, reason: 'the Node.js that runs Gantry' }],
    path: [dirname(binary)],
    env: {},
  };
}

/** The interpreter pyenv's global version names, so commands never go through pyenv's shims. */
function pyenvInterpreter(shim: string): { root: string; version: string } | undefined {
  const root = dirname(dirname(shim));
  const versionFile = join(root, 'version');
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').split(/\s+/)[0] : undefined;
  if (!version || version === 'system') return undefined;
  if (!isDirectory(join(root, 'versions', version, 'bin'))) return undefined;
  return { root, version };
}

function pythonToolchain(hostPath: string): ToolchainView | undefined {
  const found = whichOnHost('python3', hostPath);
  if (!found) return undefined;
  if (found.includes(`${posix.sep}shims${posix.sep}`)) {
    const pyenv = pyenvInterpreter(found);
    if (!pyenv) return undefined;
    const prefix = join(pyenv.root, 'versions', pyenv.version);
    return {
      kind: 'python',
      binds: [{ host: prefix, reason: `Python ${pyenv.version} (pyenv), without pyenv's shims` }],
      path: [join(prefix, 'bin')],
      env: {},
    };
  }
  const real = realpathOrUndefined(found);
  if (!real) return undefined;
  if (underUsr(real)) return { kind: 'python', binds: [], path: [], env: {} };
  const prefix = dirname(dirname(real));
  return {
    kind: 'python',
    binds: [{ host: prefix, reason: 'the host Python' }],
    path: [dirname(real)],
    env: {},
  };
}

function javaToolchain(
  hostPath: string,
  maven: PublishedMavenRepository | undefined,
): ToolchainView | undefined {
  const found = whichOnHost('java', hostPath);
  const real = found ? realpathOrUndefined(found) : undefined;
  if (!real) return undefined;
  const javaHome = dirname(dirname(real));
  const binds: ViewBind[] = underUsr(javaHome) ? [] : [{ host: javaHome, reason: 'the JDK' }];
  if (!maven) return { kind: 'java', binds, path: [], env: { JAVA_HOME: javaHome } };
  // The host's Maven cache, as a copy the sandbox uid may read, and settings that build offline from it.
  return {
    kind: 'java',
    binds: [...binds, { host: maven.repository, reason: "the host's Maven repository, read-only" }],
    path: [],
    env: { JAVA_HOME: javaHome },
    homeFiles: [{ host: maven.settings, at: '.m2/settings.xml' }],
  };
}

/** A read-only copy of the host's Maven repository the sandbox uid can read, and settings pointing at it. */
export interface PublishedMavenRepository {
  repository: string;
  settings: string;
}

/**
 * Publishes the host's Maven repository (`~/.m2/repository`, 0750 root's under /root) for the sandbox:
 * a copy under `runtimeDir` readable by every uid, refreshed when the source changes, and a
 * settings.xml that names it as the local repository and builds offline. Undefined without Maven or a
 * repository. Writes outside the copy are refused by the read-only bind; an offline build that finds
 * everything it needs writes nothing there.
 *
 * @example
 * const maven = publishMavenRepository('/run/gantry-sandbox');
 */
export function publishMavenRepository(
  runtimeDir: string,
  options: { home?: string; hostPath?: string } = {},
): PublishedMavenRepository | undefined {
  const source = join(options.home ?? homedir(), '.m2', 'repository');
  if (!whichOnHost('mvn', options.hostPath ?? process.env.PATH ?? systemPath) || !isDirectory(source))
    return undefined;
  const stamp = `${statSync(source).mtimeMs}`;
  const target = join(runtimeDir, 'maven-repository');
  const stampFile = join(runtimeDir, 'maven-repository.stamp');
  const settings = join(runtimeDir, 'maven-settings.xml');
  const current = () =>
    existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (!current()) {
    mkdirSync(runtimeDir, { recursive: true, mode: 0o755 });
    // One process publishes at a time (others wait for it): a copy is never swapped under a sandbox
    // another process just bound it into.
    withPublishLock(join(runtimeDir, 'maven-repository.lock'), () => {
      if (current()) return;
      const staging = `${target}.${process.pid}.${Date.now()}`;
      cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
      makeWorldReadable(staging);
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      writeFileSync(stampFile, stamp);
    });
  }
  const content = `<settings><localRepository>${target}</localRepository><offline>true</offline></settings>\n`;
  // Written aside and renamed, and only when it changed: a concurrent sandbox never reads it half-written.
  if (!existsSync(settings) || readFileSync(settings, 'utf8') !== content) {
    writeFileSync(`${settings}.${process.pid}`, content, { mode: 0o644 });
    renameSync(`${settings}.${process.pid}`, settings);
  }
  return { repository: target, settings };
}

/** Runs `publish` holding an exclusive lock file; a lock whose holder died is taken over. Waits up to 5 minutes. */
function withPublishLock(lock: string, publish: () => void): void {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = true;
      } catch {
        alive = false;
      }
      if (!alive) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by process ${holder} for too long`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    publish();
  } finally {
    rmSync(lock, { force: true });
  }
}

function makeWorldReadable(path: string): void {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return;
  chmodSync(path, stats.mode | (stats.isDirectory() ? 0o755 : 0o644));
  if (stats.isDirectory()) for (const name of readdirSync(path)) makeWorldReadable(join(path, name));
}

function rustToolchain(hostPath: string, home: string): ToolchainView | undefined {
  const cargo = whichOnHost('cargo', hostPath);
  if (!cargo) return undefined;
  const rustupHome = process.env.RUSTUP_HOME ?? join(home, '.rustup');
  const cargoBin = dirname(cargo);
  if (!isDirectory(join(rustupHome, 'toolchains'))) {
    const real = realpathOrUndefined(cargo);
    if (!real || !underUsr(real)) return undefined;
    return { kind: 'rust', binds: [], path: [], env: { CARGO_HOME: `${sandboxHome}/.cargo` } };
  }
  // Only the toolchains and the proxies: CARGO_HOME's credentials and config stay on the host.
  return {
    kind: 'rust',
    binds: [
      { host: join(rustupHome, 'toolchains'), reason: 'the Rust toolchains rustup installed' },
      { host: join(rustupHome, 'settings.toml'), reason: "rustup's default toolchain" },
      { host: cargoBin, reason: "rustup's cargo and rustc proxies" },
    ].filter((bind) => existsSync(bind.host)),
    path: [cargoBin],
    env: { RUSTUP_HOME: rustupHome, CARGO_HOME: `${sandboxHome}/.cargo`, RUSTUP_AUTO_INSTALL: '0' },
  };
}

function goToolchain(hostPath: string): ToolchainView | undefined {
  const found = whichOnHost('go', hostPath);
  const real = found ? realpathOrUndefined(found) : undefined;
  if (!real) return undefined;
  const goRoot = dirname(dirname(real));
  const binds: ViewBind[] = underUsr(goRoot) ? [] : [{ host: goRoot, reason: 'the Go toolchain' }];
  return {
    kind: 'go',
    binds,
    path: underUsr(goRoot) ? [] : [dirname(real)],
    env: {
      GOROOT: goRoot,
      GOPATH: `${sandboxHome}/go`,
      GOCACHE: `${sandboxHome}/.cache/go-build`,
      GOTOOLCHAIN: 'local',
    },
  };
}

/** Every toolchain kind, in the order their PATH entries come. */
export const toolchainKinds: readonly ToolchainKind[] = ['node', 'python', 'java', 'rust', 'go', 'c'];

/**
 * Detects the host's toolchains and builds the view that exposes them. Detection only reads the file
 * system (PATH lookups, realpath, pyenv's version file): it never runs a program, so nothing a
 * repository carries (a `.python-version`, a `rust-toolchain.toml`) can steer it.
 *
 * @example
 * const view = detectSandboxView({ toolchains: ['node', 'python'] });
 * view.toolchains.map((t) => t.kind); // ['node', 'python'] where both are installed
 */
export function detectSandboxView(
  options: {
    toolchains?: readonly ToolchainKind[];
    hostPath?: string;
    home?: string;
    /** Operator-configured host paths to expose read-only as well. */
    extraPaths?: readonly string[];
    /**
     * The host's Maven repository as published for the sandbox (see publishMavenRepository), asked for
     * only when the view has the JDK: publishing copies the whole cache, which no other view needs.
     */
    maven?: () => PublishedMavenRepository | undefined;
  } = {},
): SandboxView {
  const hostPath = options.hostPath ?? process.env.PATH ?? systemPath;
  const home = options.home ?? homedir();
  const wanted = new Set(options.toolchains ?? toolchainKinds);
  const detectors: Record<ToolchainKind, () => ToolchainView | undefined> = {
    node: nodeToolchain,
    python: () => pythonToolchain(hostPath),
    java: () => javaToolchain(hostPath, options.maven?.()),
    rust: () => rustToolchain(hostPath, home),
    go: () => goToolchain(hostPath),
    // gcc, make and binutils live in /usr, which every view has.
    c: () => ({ kind: 'c', binds: [], path: [], env: {} }),
  };
  const toolchains = toolchainKinds
    .filter((kind) => wanted.has(kind))
    .map((kind) => detectors[kind]())
    .filter((view): view is ToolchainView => view !== undefined);

  const system = systemDirectories
    .filter((path) => existsSync(path))
    .map((path) => {
      const real = realpathOrUndefined(path);
      // A merged-/usr link is recreated as a link; a real directory is bound.
      return real && real !== path && underUsr(real) ? { path, link: real.slice(1) } : { path };
    });
  const etc = etcAllowlist.filter((entry) => existsSync(join('/etc', entry)));
  const path = [...new Set(toolchains.flatMap((t) => t.path))];
  return {
    system: [{ path: '/usr' }, ...system],
    etc,
    toolchains,
    extra: (options.extraPaths ?? []).map((host) => ({ host, reason: 'configured by the operator' })),
    path: [...path, systemPath].join(':'),
    env: Object.assign({}, ...toolchains.map((t) => t.env)),
  };
}

/** The synthetic account files: the sandbox user and root, nothing of the host's accounts. */
export function syntheticAccounts(
  uid: number,
  gid: number,
): { passwd: string; group: string; hosts: string } {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${uid}:${gid}:Gantry sandbox:${sandboxHome}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${gid}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  };
}

/**
 * Builds the sandbox's /etc for a uid under `runtimeDir`: the view's allowlisted entries copied (symbolic
 * links kept as links) plus the synthetic accounts, bound as one read-only mount instead of one per
 * entry. The directory is named by a digest of what went into it, so a changed host /etc gets a new one,
 * and it is built aside and renamed, so concurrent processes never see half of it.
 *
 * @example
 * const etc = prepareEtc('/run/gantry-sandbox', detectSandboxView(), 61000, 61000);
 */
export function prepareEtc(runtimeDir: string, view: SandboxView, uid: number, gid: number): string {
  const accounts = syntheticAccounts(uid, gid);
  const digest = createHash('sha256');
  digest.update(JSON.stringify(accounts));
  for (const entry of view.etc) {
    const stats = lstatSync(join('/etc', entry));
    digest.update(`${entry}:${stats.mtimeMs}:${stats.size}\n`);
  }
  const target = join(runtimeDir, `etc-${uid}-${digest.digest('hex').slice(0, 16)}`);
  if (existsSync(target)) return target;
  mkdirSync(runtimeDir, { recursive: true, mode: 0o755 });
  const staging = `${target}.${process.pid}.${Date.now()}`;
  mkdirSync(staging, { mode: 0o755 });
  for (const entry of view.etc) {
    const destination = join(staging, entry);
    mkdirSync(dirname(destination), { recursive: true, mode: 0o755 });
    cpSync(join('/etc', entry), destination, { recursive: true, verbatimSymlinks: true });
  }
  for (const name of ['passwd', 'group', 'hosts'] as const) {
    writeFileSync(join(staging, name), accounts[name], { mode: 0o644 });
  }
  try {
    renameSync(staging, target);
  } catch {
    // Another process built the same directory first; its copy is as good as ours.
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}
