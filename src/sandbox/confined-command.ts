import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SandboxError } from '../domain/errors.js';
import type { SandboxCommand, SandboxLimits, SandboxResult } from '../ports/sandbox.js';
import { defaultSandboxLimits } from '../ports/sandbox.js';
import { type CgroupLayout, type CommandCgroup, createCommandCgroup, detectCgroupLayout } from './cgroups.js';

/** How each limit is enforced on this machine; `null` means it is not enforced at all. */
export interface EnforcedLimits {
  wallTimeMs: 'supervisor';
  maxOutputBytes: 'supervisor';
  cpuSeconds: 'rlimit' | null;
  memoryBytes: 'cgroup-v1' | 'cgroup-v2' | 'rlimit' | null;
  maxProcesses: 'cgroup-v1' | 'cgroup-v2' | 'rlimit' | null;
}

/** Options shared by both sandbox adapters. */
export interface ConfinementOptions {
  /** prlimit binary; `null` disables rlimits. Default `/usr/bin/prlimit` when it exists. */
  prlimitPath?: string | null;
  /** Root of the cgroup file system; `null` disables cgroups. Default `/sys/fs/cgroup`. */
  cgroupRoot?: string | null;
  /** Largest file a command may write (RLIMIT_FSIZE). Default 1 GiB. */
  maxFileBytes?: number;
  /** Commands run as an unprivileged uid of their own, so RLIMIT_NPROC counts only them. */
  unprivilegedCommands?: boolean;
}

/** The resolved means of confinement, detected once per adapter instance. */
export interface Confinement {
  prlimitPath: string | null;
  cgroups: CgroupLayout | null;
  maxFileBytes: number;
  enforced: EnforcedLimits;
}

/** What an adapter hands to {@link runConfined}: the isolating command line and its environment. */
export interface IsolatedLaunch {
  /** Absolute path of the isolating program first, then its arguments and the user's command. */
  argv: string[];
  env: Record<string, string>;
  /** Named in errors, e.g. `bubblewrap`. */
  isolator: string;
}

/** File descriptor on which the isolator reports that the sandbox is set up. */
export const readyFd = 3;

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Detects prlimit and cgroups and reports which limits they can enforce.
 *
 * @example
 * const confinement = detectConfinement({ cgroupRoot: null }); // rlimits only
 */
export function detectConfinement(options: ConfinementOptions = {}): Confinement {
  const requestedPrlimit = options.prlimitPath === undefined ? '/usr/bin/prlimit' : options.prlimitPath;
  const prlimitPath = requestedPrlimit && executable(requestedPrlimit) ? requestedPrlimit : null;
  const cgroupRoot = options.cgroupRoot === undefined ? '/sys/fs/cgroup' : options.cgroupRoot;
  const cgroups = cgroupRoot ? detectCgroupLayout(cgroupRoot) : null;
  const cgroupKind = cgroups ? (`cgroup-v${cgroups.version}` as const) : null;
  const hasMemoryGroup = cgroups ? (cgroups.version === 1 ? cgroups.memory !== null : cgroups.memory) : false;
  const hasPidsGroup = cgroups ? (cgroups.version === 1 ? cgroups.pids !== null : cgroups.pids) : false;
  // RLIMIT_NPROC counts all processes of the user and is ignored for root, so it only helps non-root.
  const nprocWorks =
    prlimitPath !== null && (options.unprivilegedCommands === true || process.getuid?.() !== 0);
  return {
    prlimitPath,
    cgroups,
    maxFileBytes: options.maxFileBytes ?? 1024 ** 3,
    enforced: {
      wallTimeMs: 'supervisor',
      maxOutputBytes: 'supervisor',
      cpuSeconds: prlimitPath ? 'rlimit' : null,
      memoryBytes: hasMemoryGroup ? cgroupKind : prlimitPath ? 'rlimit' : null,
      maxProcesses: hasPidsGroup ? cgroupKind : nprocWorks ? 'rlimit' : null,
    },
  };
}

/**
 * Checks the workspace on the host and maps `cwd` to the path the command sees. Rejects a `cwd`
 * that is absolute or leaves the workspace, including through a symbolic link.
 *
 * @example
 * await resolveWorkspace({ argv: ['ls'], workspace: '/srv/ws', cwd: 'pkg' }, '/tmp/workspace');
 * // → { hostWorkspace: '/srv/ws', sandboxCwd: '/tmp/workspace/pkg' }
 */
export async function resolveWorkspace(
  command: Pick<SandboxCommand, 'workspace' | 'cwd'>,
  workspaceMount: string,
): Promise<{ hostWorkspace: string; sandboxCwd: string }> {
  const hostWorkspace = await realpath(resolve(command.workspace)).catch((cause: unknown) => {
    throw new SandboxError(`The sandbox workspace ${command.workspace} does not exist.`, {
      input: command.workspace,
      hint: 'Pass the path of an existing directory (the checked-out repository) as the workspace.',
      cause,
    });
  });
  if (!(await stat(hostWorkspace)).isDirectory()) {
    throw new SandboxError(`The sandbox workspace ${command.workspace} is not a directory.`, {
      input: command.workspace,
      hint: 'Pass the path of the checked-out repository directory as the workspace.',
    });
  }
  const cwd = command.cwd ?? '';
  const normalized = posix.normalize(cwd === '' ? '.' : cwd);
  const escapes = (path: string) => path === '..' || path.startsWith(`..${sep}`) || isAbsolute(path);
  const outside = new SandboxError(`The working directory "${cwd}" is outside the sandbox workspace.`, {
    input: cwd,
    hint: 'Give cwd as a path relative to the workspace that stays inside it (no leading "/" or "..").',
  });
  if (isAbsolute(cwd) || escapes(normalized)) throw outside;
  const hostCwd = await realpath(resolve(hostWorkspace, normalized)).catch((cause: unknown) => {
    throw new SandboxError(`The working directory "${cwd}" does not exist in the workspace.`, {
      input: cwd,
      hint: 'Create the directory first or pass a cwd that exists in the workspace.',
      cause,
    });
  });
  if (escapes(relative(hostWorkspace, hostCwd))) throw outside;
  return { hostWorkspace, sandboxCwd: posix.join(workspaceMount, normalized) };
}

/** The complete limits for a command: its own values over the defaults, each checked. */
export function effectiveLimits(requested: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...defaultSandboxLimits, ...requested };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new SandboxError(`The sandbox limit ${name} must be a positive number, got ${value}.`, {
        input: name,
        hint: 'Leave the limit out to use the default, or give a positive number.',
      });
    }
  }
  return limits;
}

// Joins every cgroup given before `--`, then execs the rest; values stay positional, never interpolated.
const joinCgroupsScript =
  'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do ' +
  'echo "$$" > "$1" || { echo "gantry-sandbox: cannot join control group $1" >&2; exit 125; }; shift; done; ' +
  'shift; exec "$@"';

function prlimitArgs(confinement: Confinement, limits: SandboxLimits): string[] {
  if (!confinement.prlimitPath) return [];
  const cpu = Math.ceil(limits.cpuSeconds);
  const args = [confinement.prlimitPath, `--cpu=${cpu}:${cpu + 1}`, `--fsize=${confinement.maxFileBytes}`];
  // Address-space limits break runtimes that reserve large virtual ranges (V8, the JVM, Go), so
  // they stand in for memory only where no memory cgroup measures what is really used.
  if (confinement.enforced.memoryBytes === 'rlimit') args.push(`--as=${limits.memoryBytes}`);
  if (confinement.enforced.maxProcesses === 'rlimit') args.push(`--nproc=${limits.maxProcesses}`);
  args.push('--');
  return args;
}

const memoryFailure = /MemoryError|Cannot allocate memory|out of memory|ENOMEM|bad_alloc|heap limit/i;

function signalNumber(name: string | null): number | null {
  if (!name) return null;
  return (osConstants.signals as Record<string, number>)[name] ?? null;
}

/**
 * Runs an isolated command line under the limits: joins a fresh cgroup, applies rlimits, enforces
 * wall time and output size, kills everything the command started when it ends, and classifies
 * which limit stopped it. Throws {@link SandboxError} when the isolator itself could not start.
 *
 * @example
 * const result = await runConfined(launch, command, detectConfinement());
 */
export async function runConfined(
  launch: IsolatedLaunch,
  command: SandboxCommand,
  confinement: Confinement,
): Promise<SandboxResult> {
  if (command.argv.length === 0 || command.argv[0] === '') {
    throw new SandboxError('The sandbox was asked to run an empty command.', {
      input: JSON.stringify(command.argv),
      hint: 'Pass the program and its arguments as argv, for example ["npm", "test"].',
    });
  }
  const limits = effectiveLimits(command.limits);
  const cgroup: CommandCgroup | null = confinement.cgroups
    ? await createCommandCgroup(
        confinement.cgroups,
        `cmd-${process.pid}-${randomUUID().slice(0, 8)}`,
        limits,
      ).catch((cause: unknown) => {
        throw new SandboxError('Could not create the control group that limits the sandboxed command.', {
          input: JSON.stringify(confinement.cgroups),
          hint: 'Run Gantry as root with cgroups mounted under /sys/fs/cgroup, or pass cgroupRoot: null to rely on rlimits.',
          cause,
        });
      })
    : null;
  try {
    return await supervise(launch, command, confinement, limits, cgroup);
  } finally {
    if (cgroup) {
      await cgroup.killAll();
      await cgroup.remove();
    }
  }
}

async function supervise(
  launch: IsolatedLaunch,
  command: SandboxCommand,
  confinement: Confinement,
  limits: SandboxLimits,
  cgroup: CommandCgroup | null,
): Promise<SandboxResult> {
  const inner = [...prlimitArgs(confinement, limits), ...launch.argv];
  const argv = cgroup
    ? ['/bin/sh', '-c', joinCgroupsScript, 'sh', ...cgroup.procsFiles, '--', ...inner]
    : inner;
  const started = performance.now();
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: launch.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });

  const kept: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  let keptBytes = 0;
  let outputTruncated = false;
  let timedOut = false;
  let ready = false;

  const killAll = () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
    void cgroup?.killAll();
  };

  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    if (outputTruncated) return;
    const room = limits.maxOutputBytes - keptBytes;
    if (chunk.length > room) {
      // Cut at a character boundary so the kept text never decodes to more bytes than the limit.
      let cut = room;
      while (cut > 0 && ((chunk[cut] ?? 0) & 0xc0) === 0x80) cut--;
      kept[stream].push(chunk.subarray(0, cut));
      keptBytes += cut;
      outputTruncated = true;
      killAll();
      return;
    }
    kept[stream].push(chunk);
    keptBytes += chunk.length;
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  const readyStream = child.stdio[readyFd] as NodeJS.ReadableStream | null;
  readyStream?.on('data', () => {
    ready = true;
  });
  readyStream?.on('error', () => undefined);

  child.stdin?.on('error', () => undefined);
  child.stdin?.end(command.stdin ?? '');

  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, limits.wallTimeMs);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      // Anything the command left behind would keep the pipes open; the namespace is dying anyway.
      killAll();
      child.once('close', () => done({ code, signal }));
    });
  }).catch((cause: unknown) => {
    throw new SandboxError(`Could not start ${launch.isolator} at ${argv[0]}.`, {
      input: argv[0],
      hint: `Install ${launch.isolator} or point the sandbox at its binary.`,
      cause,
    });
  });
  clearTimeout(timer);
  const durationMs = Math.round(performance.now() - started);
  const stdout = Buffer.concat(kept.stdout).toString('utf8');
  const stderr = Buffer.concat(kept.stderr).toString('utf8');

  if (!ready && !timedOut && !outputTruncated) {
    throw new SandboxError(`${launch.isolator} could not set up the sandbox.`, {
      input: argv[0],
      hint: `Check that ${launch.isolator} can create namespaces here (it printed: ${stderr.trim() || 'nothing'}).`,
    });
  }

  const signalNo = signalNumber(exit.signal);
  const exitCode = exit.code ?? 128 + (signalNo ?? 0);
  // Isolators report a signalled command as exit status 128 + signal.
  const terminatingSignal = signalNo ?? (exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : null);
  const failed = exitCode !== 0;
  const outcome = cgroup ? await cgroup.readOutcome() : { oomKilled: false, forkRefused: false };

  let limitHit: SandboxResult['limitHit'] = null;
  if (timedOut) limitHit = 'wall-time';
  else if (outputTruncated) limitHit = 'output';
  else if (outcome.oomKilled) limitHit = 'memory';
  else if (failed && confinement.enforced.memoryBytes === 'rlimit' && memoryFailure.test(stderr))
    limitHit = 'memory';
  else if (failed && outcome.forkRefused) limitHit = 'processes';
  else if (terminatingSignal === osConstants.signals.SIGXCPU) limitHit = 'cpu';
  else if (
    terminatingSignal === osConstants.signals.SIGKILL &&
    confinement.enforced.cpuSeconds &&
    durationMs >= limits.cpuSeconds * 1000
  )
    limitHit = 'cpu';

  return {
    exitCode,
    signal: exit.signal ?? (timedOut || outputTruncated ? 'SIGKILL' : null),
    stdout,
    stderr,
    durationMs,
    timedOut,
    outputTruncated,
    limitHit,
  };
}
