import type { StatsFs } from 'node:fs';

/** A workspace's disk use against its limit, as measured after a command. */
export interface WorkspaceUsage {
  workspace: string;
  mode: 'loopback-ext4' | 'measured';
  /** The limit the workspace was created with. */
  limitBytes: number;
  usedBytes: number;
  /** What a command can still write; on ext4 a little below the limit, the rest is the filesystem's metadata. */
  availableBytes: number;
  /** Whether the workspace is at or over its limit: the next write fails (ext4) or the run must stop (measured). */
  overLimit: boolean;
}

const MiB = 1024 ** 2;

/**
 * A full ext4 still shows some free space: ext4 keeps a small reserve for its own allocations and a
 * writer that failed with ENOSPC on a large write leaves less than that write. So "full" is less than
 * 1 MiB or 1% free, whichever is more, or no inode left.
 */
export function loopbackUsage(workspace: string, limitBytes: number, fs: StatsFs): WorkspaceUsage {
  const capacityBytes = fs.blocks * fs.bsize;
  const availableBytes = fs.bavail * fs.bsize;
  const headroom = Math.max(MiB, capacityBytes / 100);
  return {
    workspace,
    mode: 'loopback-ext4',
    limitBytes,
    usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
    availableBytes,
    overLimit: availableBytes < headroom || fs.ffree === 0,
  };
}

/** Usage of a workspace on the shared host disk, from a walk of its tree. */
export function measuredUsage(workspace: string, limitBytes: number, usedBytes: number): WorkspaceUsage {
  return {
    workspace,
    mode: 'measured',
    limitBytes,
    usedBytes,
    availableBytes: Math.max(0, limitBytes - usedBytes),
    overLimit: usedBytes >= limitBytes,
  };
}

/** Bytes for a person: `32.0 MiB`, `2.0 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
