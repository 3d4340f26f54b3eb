import type { ToolchainKind } from '../domain/context.js';

/** Resource limits for one sandboxed command. */
export interface SandboxLimits {
  wallTimeMs: number;
  cpuSeconds: number;
  memoryBytes: number;
  maxProcesses: number;
  /** Combined stdout and stderr kept; the command is killed when it writes more. */
  maxOutputBytes: number;
}

export const defaultSandboxLimits: SandboxLimits = {
  wallTimeMs: 120_000,
  cpuSeconds: 120,
  memoryBytes: 2 * 1024 ** 3,
  maxProcesses: 256,
  maxOutputBytes: 1024 * 1024,
};

export interface SandboxCommand {
  argv: string[];
  /** Host directory mounted read-write as the workspace; nothing else is writable. */
  workspace: string;
  /** Working directory relative to the workspace. */
  cwd?: string;
  /** Extra environment; it passes the sandbox's allowlist or is dropped. */
  env?: Record<string, string>;
  stdin?: string | Buffer;
  limits?: Partial<SandboxLimits>;
  /**
   * `none` (the agent phase: no network at all) or `setup` (dependency install: still no network, but
   * an egress proxy on the host reaches the `egress` endpoints and nothing else). Default `none`.
   */
  network?: 'none' | 'setup';
  /** In the setup phase, the registries (`host:port`) the install may reach. Default none. */
  egress?: readonly string[];
  /** The toolchains the repository map detected; the view shows these and no other. Default all. */
  toolchains?: readonly ToolchainKind[];
  /** A virtualenv inside the workspace (relative): first on PATH, and VIRTUAL_ENV, for the command. */
  virtualenv?: string;
}

/** One egress decision of the setup phase's proxy: a registry reached, or a destination refused. */
export interface SandboxEgress {
  host: string;
  port: number;
  outcome: 'allowed' | 'refused' | 'failed';
  reason?: string;
  bytesUp: number;
  bytesDown: number;
}

export interface SandboxResult {
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  outputTruncated: boolean;
  /** The setup phase's egress decisions, in order; absent outside the setup phase. */
  egress?: SandboxEgress[];
  /** The limit that stopped the command, if one did. */
  limitHit: 'wall-time' | 'output' | 'memory' | 'cpu' | 'processes' | 'disk' | null;
}

/** Runs commands isolated from the host: no network, read-only root, only the workspace writable. */
export interface Sandbox {
  readonly kind: 'bwrap' | 'process';
  /** Path of the workspace as commands inside the sandbox see it. */
  readonly workspaceMount: string;
  run(command: SandboxCommand): Promise<SandboxResult>;
}
