import { z } from 'zod';
import type { ToolName } from './tools.js';

/**
 * Everything the agent or the runtime may do that policy decides on: tool actions and lifecycle
 * actions. Capability contracts, autonomy tiers and Cedar policies all speak this vocabulary.
 */
export const GantryAction = z.enum([
  'inspect',
  'run_tests',
  'run_command',
  'edit_files',
  'create_branch',
  'open_pr',
  'comment',
  'merge',
  'deploy',
  'rollback',
  'read_secret',
  'network_egress',
  'finish',
]);
export type GantryAction = z.infer<typeof GantryAction>;

/** The action each agent tool performs. */
export const toolActions: Record<ToolName, GantryAction> = {
  list_files: 'inspect',
  read_file: 'inspect',
  search_code: 'inspect',
  edit_file: 'edit_files',
  run_command: 'run_command',
  run_tests: 'run_tests',
  finish: 'finish',
};

/** Who must say yes before an action goes ahead. `automatic` means policy alone decides. */
export const ApprovalRequirement = z.enum([
  'automatic',
  'reviewer',
  'code-owner',
  'security-owner',
  'domain-owner',
]);
export type ApprovalRequirement = z.infer<typeof ApprovalRequirement>;
