import { z } from 'zod';
import { ApprovalKind } from '../domain/risk.js';
import { RunSummary } from '../domain/run.js';

const Timestamp = z.iso.datetime({ offset: true });

/** What a service's traffic looked like over the window the caller measured. */
export const ServiceStats = z.strictObject({
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
  /** Errors over requests, 0..1; 0 when there were no requests. */
  errorRate: z.number().min(0).max(1),
  latencyP50Ms: z.number().min(0),
  latencyP95Ms: z.number().min(0),
});
export type ServiceStats = z.infer<typeof ServiceStats>;

/** One deployed service in one environment, as its probe saw it. */
export const ServiceObservation = z.strictObject({
  service: z.string().min(1),
  environment: z.enum(['staging', 'production']),
  up: z.boolean(),
  /** What the probe saw, e.g. `GET /health 200 in 3 ms` or `connection refused`. */
  detail: z.string(),
  deploymentId: z.string().min(1).optional(),
  commit: z.string().min(1).optional(),
  stats: ServiceStats.optional(),
});
export type ServiceObservation = z.infer<typeof ServiceObservation>;

/** A gate still waiting for a person. */
export const PendingApprovalObservation = z.strictObject({
  approvalId: z.string().min(1),
  runId: z.string().min(1),
  kind: ApprovalKind,
  requestedAt: Timestamp.optional(),
  expiresAt: Timestamp,
});
export type PendingApprovalObservation = z.infer<typeof PendingApprovalObservation>;

/** One result of a check (CI job, test command) on a repository's branch. */
export const CheckObservation = z.strictObject({
  repository: z.string().min(1),
  branch: z.string().min(1),
  commit: z.string().min(1),
  name: z.string().min(1),
  passed: z.boolean(),
  at: Timestamp,
  detail: z.string().optional(),
});
export type CheckObservation = z.infer<typeof CheckObservation>;

/**
 * Everything the health routine looks at, gathered by the caller at `now`: the runs that are not
 * finished plus recent ones, the pending approvals, each service per environment, and the checks of
 * the default branches. Plain data, so a report can be recomputed from a stored input.
 */
export const HealthInput = z.strictObject({
  now: Timestamp,
  runs: z.array(RunSummary),
  pendingApprovals: z.array(PendingApprovalObservation),
  services: z.array(ServiceObservation),
  checks: z.array(CheckObservation),
});
export type HealthInput = z.infer<typeof HealthInput>;

/** Where "worth a look" begins. Unknown keys are an error, so a misspelt threshold fails loudly. */
export const HealthThresholds = z.strictObject({
  /** A `received` or `running` run not updated for longer than this is stuck. */
  stuckAfterMinutes: z.number().positive().default(30),
  /** A service whose error rate is above this (0..1) needs attention. */
  errorRate: z.number().min(0).max(1).default(0.02),
  /** A pending approval older than this needs someone to answer it. */
  approvalAgeHours: z.number().positive().default(24),
});
export type HealthThresholds = z.infer<typeof HealthThresholds>;
