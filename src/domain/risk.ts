import { z } from 'zod';

export const RiskTier = z.enum(['low', 'medium', 'high', 'critical']);
export type RiskTier = z.infer<typeof RiskTier>;

export const riskTierOrder: Record<RiskTier, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * Autonomy tiers: 0 advisory, 1 assisted edit, 2 PR automation, 3 bounded maintenance,
 * 4 release assist, 5 conditional operations.
 */
export const AutonomyTier = z.number().int().min(0).max(5);
export type AutonomyTier = z.infer<typeof AutonomyTier>;

export const ApprovalKind = z.enum([
  'plan',
  'merge',
  'deploy',
  'code-owner',
  'security-owner',
  'domain-owner',
]);
export type ApprovalKind = z.infer<typeof ApprovalKind>;

/** One rule that matched, and why: risk classification is explainable by construction. */
export const RiskReason = z.strictObject({
  rule: z.string(),
  tier: RiskTier,
  explanation: z.string(),
  evidence: z.array(z.string()).default([]),
});
export type RiskReason = z.infer<typeof RiskReason>;

export const RiskAssessment = z.strictObject({
  tier: RiskTier,
  reasons: z.array(RiskReason),
  maxAutonomyTier: AutonomyTier,
  requiredApprovals: z.array(ApprovalKind),
  rulesVersion: z.string(),
});
export type RiskAssessment = z.infer<typeof RiskAssessment>;
