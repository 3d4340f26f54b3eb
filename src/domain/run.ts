import { z } from 'zod';

export const RunState = z.enum([
  'received',
  'running',
  'waiting_for_approval',
  'completed',
  'rejected',
  'failed',
  'aborted',
  /** The change reached production, hurt it, and Gantry reverted and redeployed it. */
  'rolled_back',
]);
export type RunState = z.infer<typeof RunState>;

export const terminalRunStates: ReadonlySet<RunState> = new Set([
  'completed',
  'rejected',
  'failed',
  'aborted',
  'rolled_back',
]);

/** Who did something: a person, the agent (with its version), a workflow step, or the runtime. */
export const Actor = z.strictObject({
  kind: z.enum(['human', 'agent', 'step', 'system']),
  id: z.string().min(1),
  version: z.string().optional(),
});
export type Actor = z.infer<typeof Actor>;

/** The projection of a run's events that listings and the CLI show. */
export const RunSummary = z.strictObject({
  runId: z.string(),
  traceId: z.string(),
  state: RunState,
  title: z.string(),
  repository: z.string(),
  requester: z.string(),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  reason: z.string().optional(),
  pullRequest: z.string().optional(),
  evidence: z.string().optional(),
  pendingApproval: z.string().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;
