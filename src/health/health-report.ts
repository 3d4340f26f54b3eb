import { z } from 'zod';
import { ApprovalKind } from '../domain/risk.js';
import { RunState } from '../domain/run.js';
import { CheckObservation, HealthThresholds } from './health-input.js';

/** The kinds of problem the health routine reports, in the order a person should read them. */
export const AttentionKind = z.enum([
  'service-down',
  'error-rate',
  'check-failing',
  'stuck-run',
  'approval-waiting',
]);
export type AttentionKind = z.infer<typeof AttentionKind>;

export const AttentionSeverity = z.enum(['high', 'medium', 'low']);
export type AttentionSeverity = z.infer<typeof AttentionSeverity>;

/**
 * One thing that needs someone. `key` names the problem, not the moment it was seen: the same
 * problem has the same key on every run of the routine, so a caller files it once.
 */
export const AttentionItem = z.strictObject({
  key: z.string().min(1),
  kind: AttentionKind,
  severity: AttentionSeverity,
  /** One line with the figures, e.g. `billing-service production: error rate 20.0% (360 of 1800) above 2.0%`. */
  summary: z.string().min(1),
  repository: z.string().optional(),
  service: z.string().optional(),
  environment: z.enum(['staging', 'production']).optional(),
  runId: z.string().optional(),
  approvalId: z.string().optional(),
});
export type AttentionItem = z.infer<typeof AttentionItem>;

/** A service's traffic against the error-rate threshold. */
export const ErrorRateStatus = z.strictObject({
  service: z.string(),
  environment: z.enum(['staging', 'production']),
  up: z.boolean(),
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
  errorRate: z.number().min(0).max(1),
  latencyP50Ms: z.number().min(0),
  latencyP95Ms: z.number().min(0),
  threshold: z.number().min(0).max(1),
  breach: z.boolean(),
});
export type ErrorRateStatus = z.infer<typeof ErrorRateStatus>;

export const OpenApproval = z.strictObject({
  approvalId: z.string(),
  runId: z.string(),
  kind: ApprovalKind,
  requestedAt: z.string().optional(),
  expiresAt: z.string(),
  /** Hours since the approval was requested; absent when the request time is unknown. */
  ageHours: z.number().min(0).optional(),
  /** Past its deadline and still pending: the next sweep decides it `expired`. */
  expired: z.boolean(),
  /** Older than the approval-age threshold. */
  old: z.boolean(),
});
export type OpenApproval = z.infer<typeof OpenApproval>;

/** Why a run counts as stuck. */
export const StuckReason = z.enum(['no-progress', 'approval-expired', 'approval-missing']);
export type StuckReason = z.infer<typeof StuckReason>;

export const StuckRun = z.strictObject({
  runId: z.string(),
  title: z.string(),
  repository: z.string(),
  state: RunState,
  updatedAt: z.string(),
  minutesSinceUpdate: z.number().min(0),
  reason: StuckReason,
  approvalId: z.string().optional(),
});
export type StuckRun = z.infer<typeof StuckRun>;

export const ServiceDown = z.strictObject({
  service: z.string(),
  environment: z.enum(['staging', 'production']),
  detail: z.string(),
  deploymentId: z.string().optional(),
  commit: z.string().optional(),
});
export type ServiceDown = z.infer<typeof ServiceDown>;

/** What the health routine found, section by section; `attention` lists what needs someone, most serious first. */
export const HealthReport = z.strictObject({
  status: z.enum(['ok', 'attention']),
  now: z.string(),
  thresholds: HealthThresholds,
  /** The latest result of each check per repository and branch. */
  checks: z.array(CheckObservation),
  errorRates: z.array(ErrorRateStatus),
  openApprovals: z.array(OpenApproval),
  stuckRuns: z.array(StuckRun),
  servicesDown: z.array(ServiceDown),
  attention: z.array(AttentionItem),
});
export type HealthReport = z.infer<typeof HealthReport>;
