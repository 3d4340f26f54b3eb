import { basename } from 'node:path';
import type { RunEventDataOf } from '../domain/events.js';
import type { SandboxResult } from '../ports/sandbox.js';
import { formatBytes, type WorkspaceUsage } from './workspace-usage.js';

/** The `guard.tripped` data to record when a command ran its workspace out of disk. */
export type DiskLimitTrip = RunEventDataOf<'guard.tripped'> & { guard: 'disk-limit' };

const noSpace = /no space left on device|\bENOSPC\b|disk quota exceeded|\bEDQUOT\b/i;

/**
 * Decides whether a sandboxed command hit its workspace's disk limit: the workspace is at or over
 * the limit after the command. The command's output only enriches the reason; an ENOSPC from the
 * sandbox's own `/tmp` with room left in the workspace is not a workspace limit.
 *
 * @example
 * const trip = classifyDiskLimit(await disks.usage(workspace), result);
 * if (trip) {
 *   await journal.record(`guard:disk-limit:${callId}`, 'guard.tripped', actor, trip);
 *   throw new RunHaltedError(trip.reason);
 * }
 */
export function classifyDiskLimit(
  usage: WorkspaceUsage,
  result?: Pick<SandboxResult, 'exitCode' | 'stdout' | 'stderr'>,
): DiskLimitTrip | null {
  if (!usage.overLimit) return null;
  const figures =
    usage.mode === 'loopback-ext4'
      ? `its ${formatBytes(usage.limitBytes)} filesystem is full (${formatBytes(usage.availableBytes)} left)`
      : `${formatBytes(usage.usedBytes)} used of its ${formatBytes(usage.limitBytes)} limit`;
  const command = !result
    ? ''
    : noSpace.test(`${result.stderr}\n${result.stdout}`)
      ? `; the command failed with "No space left on device" (exit ${result.exitCode})`
      : `; the command exited ${result.exitCode}`;
  return {
    guard: 'disk-limit',
    reason:
      `workspace ${basename(usage.workspace)} reached its disk limit: ${figures}${command}. ` +
      'Keep build output and caches out of the workspace, or raise workspaceBytes in the workspace disk settings.',
  };
}
