import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** The smallest disk worth making: ext4's own metadata takes a few MiB. */
export const MIN_WORKSPACE_DISK_BYTES = 8 * MiB;

/**
 * How `loopback-ext4` gives each workspace its own size-limited filesystem; `measured` walks the
 * tree after each command; `auto` takes the first when this host can mount loop devices.
 */
export const WorkspaceDiskMode = z.enum(['auto', 'loopback-ext4', 'measured']);
export type WorkspaceDiskMode = z.infer<typeof WorkspaceDiskMode>;

/** Disk limits of one Gantry home. Unknown keys are refused, so a misspelt limit fails loudly. */
export const WorkspaceDiskSettings = z
  .strictObject({
    mode: WorkspaceDiskMode.default('auto'),
    /** Limit of a workspace created without an explicit size. */
    workspaceBytes: z
      .number()
      .int()
      .min(MIN_WORKSPACE_DISK_BYTES)
      .default(2 * GiB),
    /** All workspaces' limits summed may not pass this. */
    homeBudgetBytes: z
      .number()
      .int()
      .min(MIN_WORKSPACE_DISK_BYTES)
      .default(20 * GiB),
    /** ext4 inode density: a dependency tree of small files runs out of inodes before bytes at the default. */
    bytesPerInode: z.number().int().min(1024).max(65536).default(8192),
  })
  .refine((s) => s.workspaceBytes <= s.homeBudgetBytes, {
    message: 'workspaceBytes must not exceed homeBudgetBytes',
    path: ['workspaceBytes'],
  });
export type WorkspaceDiskSettings = z.infer<typeof WorkspaceDiskSettings>;

/**
 * Validates disk settings and fills in the defaults (2 GiB per workspace, 20 GiB per home).
 *
 * @example
 * const settings = parseWorkspaceDiskSettings({ homeBudgetBytes: 50 * 1024 ** 3 });
 */
export function parseWorkspaceDiskSettings(input: unknown = {}): WorkspaceDiskSettings {
  const parsed = WorkspaceDiskSettings.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(`invalid workspace disk settings: ${formatZodIssues(parsed.error.issues)}`, {
    input: JSON.stringify(input),
    hint: `sizes are whole bytes, at least ${MIN_WORKSPACE_DISK_BYTES}; keys: mode, workspaceBytes, homeBudgetBytes, bytesPerInode`,
  });
}
