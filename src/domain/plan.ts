import { z } from 'zod';
import { RiskTier } from './risk.js';

export const PlanStep = z.strictObject({
  id: z.string(),
  description: z.string(),
  expectedEvidence: z.array(z.string()).min(1),
});
export type PlanStep = z.infer<typeof PlanStep>;

export const Plan = z.strictObject({
  objective: z.string(),
  assumptions: z.array(z.string()),
  constraints: z.array(z.string()),
  steps: z.array(PlanStep).min(1),
  forbiddenActions: z.array(z.string()),
  risk: RiskTier,
  /** Files the change is expected to touch; a change outside them is flagged. */
  expectedScope: z.array(z.string()),
  testCommand: z.array(z.string()).min(1).optional(),
  maxPatchIterations: z.number().int().min(1).max(10),
});
export type Plan = z.infer<typeof Plan>;
