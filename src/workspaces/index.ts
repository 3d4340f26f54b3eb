export { classifyDiskLimit, type DiskLimitTrip } from './disk-limit.js';
export {
  MIN_WORKSPACE_DISK_BYTES,
  parseWorkspaceDiskSettings,
  WorkspaceDiskMode,
  WorkspaceDiskSettings,
} from './disk-settings.js';
export { DiskLimitedSandbox, DiskWorkspaceStorage, plainWorkspaceStorage } from './disk-workspace-storage.js';
export { DiskBudgetExceededError, WorkspaceDiskError } from './errors.js';
export { detectLoopSupport, type LoopSupport } from './loop-filesystem.js';
export {
  decideWorkspaceRetention,
  PullRequestState,
  type RetentionDecision,
  RunForRetention,
} from './retention.js';
export { measureTree, type TreeUsage } from './tree-usage.js';
export {
  removeHome,
  type SweepAction,
  type WorkspaceDisk,
  WorkspaceDisks,
  type WorkspaceDisksOptions,
} from './workspace-disks.js';
export { formatBytes, type WorkspaceUsage } from './workspace-usage.js';
