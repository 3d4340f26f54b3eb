import { z } from 'zod';
import { ConstraintCheck } from './constraint-check.js';
import { ToolchainKind } from './context.js';
import { Plan } from './plan.js';
import { PolicyDecision } from './policy.js';
import { EngineeringRequest } from './request.js';
import { ApprovalKind, RiskAssessment } from './risk.js';
import { Actor, RunState } from './run.js';

const Sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'a sha256 hex digest');

/** Traffic figures of one measurement window. */
const WindowStats = z.strictObject({
  requests: z.number().int(),
  errors: z.number().int(),
  errorRate: z.number(),
  latencyP50Ms: z.number(),
  latencyP95Ms: z.number(),
});

/** Each event type with the data it carries. Artifacts are referred to by hash, never inlined when large. */
export const runEventData = {
  'request.received': z.strictObject({ request: EngineeringRequest, raw: Sha256 }),
  'request.rejected': z.strictObject({ reason: z.string(), missing: z.array(z.string()) }),
  'risk.classified': RiskAssessment,
  'context.built': z.strictObject({
    artifact: Sha256,
    commit: z.string().optional(),
    files: z.number().int(),
    testCommand: z.array(z.string()).optional(),
    toolchains: z.array(ToolchainKind).optional(),
    /** What the setup phase leaves every later command: a virtualenv, offline switches. */
    virtualenv: z.string().optional(),
    profileEnv: z.record(z.string(), z.string()).optional(),
    /** Installs the map found that the setup phase did not run, and why. */
    setupSkipped: z
      .array(z.strictObject({ ecosystem: z.string(), argv: z.array(z.string()), reason: z.string() }))
      .optional(),
    /** The repository's .gantry.yaml at the base commit, stored by hash; what it set and what was refused. */
    configFile: z.strictObject({ origin: z.string(), text: Sha256 }).optional(),
    configRefused: z
      .array(
        z.strictObject({
          argv: z.array(z.string()),
          source: z.string(),
          rule: z.string(),
          reason: z.string(),
        }),
      )
      .optional(),
    agentContextFiles: z.array(z.string()),
    sensitivePaths: z.array(z.string()),
  }),
  'plan.created': z.strictObject({ artifact: Sha256, plan: Plan }),
  'approval.requested': z.strictObject({
    approvalId: z.string(),
    kind: ApprovalKind,
    state: z.string(),
    expiresAt: z.string().datetime(),
    approvers: z.array(z.string()).default([]),
    /** The Slack and email messages with each approver's signed links, stored by hash. */
    notifications: Sha256.optional(),
  }),
  'approval.decided': z.strictObject({
    approvalId: z.string(),
    decision: z.enum(['approved', 'rejected', 'expired']),
    by: z.string(),
    reason: z.string().optional(),
    via: z.enum(['cli', 'link', 'expiry']).optional(),
  }),
  'model.turn': z.strictObject({
    phase: z.string(),
    turn: z.number().int(),
    model: z.string(),
    response: Sha256,
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    stopReason: z.string(),
    durationMs: z.number(),
  }),
  'tool.requested': z.strictObject({
    callId: z.string(),
    tool: z.string(),
    argsHash: Sha256,
    phase: z.string(),
  }),
  'tool.authorized': z.strictObject({ callId: z.string(), decision: PolicyDecision }),
  'tool.denied': z.strictObject({ callId: z.string(), decision: PolicyDecision }),
  'tool.executed': z.strictObject({
    callId: z.string(),
    tool: z.string(),
    ok: z.boolean(),
    exitCode: z.number().int().optional(),
    output: Sha256,
    truncated: z.boolean(),
    durationMs: z.number(),
  }),
  'file.changed': z.strictObject({
    callId: z.string(),
    path: z.string(),
    before: Sha256.optional(),
    after: Sha256,
  }),
  'test.run': z.strictObject({
    purpose: z.enum(['baseline', 'reproduce', 'verify', 'integrity', 'agent']),
    argv: z.array(z.string()),
    exitCode: z.number().int(),
    passed: z.boolean(),
    timedOut: z.boolean(),
    output: Sha256,
    durationMs: z.number(),
    /** The result per test (a TestRunResult, JSON), stored by hash; runtime runs only. */
    results: Sha256.optional(),
    /** Which parser read the results, or `exit-code` when none applied. */
    parser: z.string().optional(),
    /** Why the command exited: passed, tests-failed, no-tests, runner-error, crashed, timed-out, limit. */
    exitReason: z.string().optional(),
    counts: z
      .strictObject({
        passed: z.number().int(),
        failed: z.number().int(),
        skipped: z.number().int(),
        total: z.number().int(),
      })
      .optional(),
  }),
  /** A dependency install of the setup phase: the only network it had was the allowlisting egress proxy. */
  'setup.installed': z.strictObject({
    argv: z.array(z.string()),
    exitCode: z.number().int(),
    output: Sha256,
    durationMs: z.number(),
    limitHit: z.string().nullable(),
    egress: z.array(
      z.strictObject({
        host: z.string(),
        port: z.number().int(),
        outcome: z.enum(['allowed', 'refused', 'failed']),
        reason: z.string().optional(),
        bytesUp: z.number().int(),
        bytesDown: z.number().int(),
      }),
    ),
  }),
  /** One cheap verification level (format, lint, type-check, build) on the base commit or a patch. */
  'verification.level': z.strictObject({
    level: z.enum(['format', 'lint', 'typecheck', 'build']),
    argv: z.array(z.string()),
    exitCode: z.number().int(),
    passed: z.boolean(),
    output: Sha256,
  }),
  /** How the verification run compares with the baseline, test by test; empty problems: it proves the patch. */
  'verification.judged': z.strictObject({
    iteration: z.number().int(),
    problems: z.array(z.string()),
    parser: z.string(),
  }),
  'reproduction.recorded': z.strictObject({
    reproduced: z.boolean(),
    argv: z.array(z.string()).optional(),
    exitCode: z.number().int().optional(),
    output: Sha256.optional(),
    testFiles: z.array(z.string()),
    reason: z.string().optional(),
    /** The tests that fail on the base code plus the new test and did not fail in the baseline. */
    failingTests: z.array(z.strictObject({ id: z.string(), message: z.string().optional() })).optional(),
  }),
  'patch.iteration': z.strictObject({
    iteration: z.number().int(),
    outcome: z.string(),
    feedback: z.string().optional(),
  }),
  'verification.completed': z.strictObject({
    iteration: z.number().int(),
    passed: z.boolean(),
    argv: z.array(z.string()),
    exitCode: z.number().int(),
    output: Sha256,
    /** The commit the suite ran on, exactly; the pull request's head must be it. */
    commit: z.string().optional(),
  }),
  'evidence.assembled': z.strictObject({
    json: Sha256,
    markdown: Sha256,
    completeness: z.number().min(0).max(1),
    missing: z.array(z.string()),
  }),
  'pr.opened': z.strictObject({
    number: z.number().int(),
    url: z.string(),
    branch: z.string(),
    head: z.string(),
    body: Sha256,
  }),
  /** A finished step's output: inline when small, else stored by hash. */
  'step.completed': z.strictObject({
    step: z.string(),
    output: Sha256.optional(),
    value: z.unknown().optional(),
  }),
  'policy.decided': z.strictObject({ decision: PolicyDecision }),
  'scope.checked': z.strictObject({
    iteration: z.number().int(),
    violations: z.array(
      z.strictObject({ rule: z.string(), files: z.array(z.string()), message: z.string() }),
    ),
    checks: z.array(ConstraintCheck),
  }),
  'guard.tripped': z.strictObject({
    guard: z.enum([
      'budget',
      'loop',
      'reflection',
      'kill-switch',
      'daily-cap',
      'sandbox-limit',
      'disk-limit',
    ]),
    reason: z.string(),
  }),
  'kill-switch.changed': z.strictObject({
    scope: z.enum(['global', 'capability', 'repository']),
    target: z.string().optional(),
    engaged: z.boolean(),
    by: z.string(),
    reason: z.string(),
  }),
  /** The review of the pull request: findings stored by hash, counts inline. */
  'review.completed': z.strictObject({
    artifact: Sha256,
    findings: z.number().int(),
    blockers: z.number().int(),
    bySeverity: z.record(z.string(), z.number().int()),
    model: z.enum(['ran', 'unavailable']),
    modelReason: z.string().optional(),
  }),
  /** Whether and how the change may merge, rule by rule. */
  'merge.decided': z.strictObject({
    mode: z.enum(['automatic', 'approval', 'handoff', 'refused']),
    rules: z.array(z.strictObject({ rule: z.string(), passed: z.boolean(), detail: z.string() })),
    reason: z.string(),
  }),
  'merge.queued': z.strictObject({ pullRequest: z.number().int(), repository: z.string() }),
  'pr.merged': z.strictObject({
    number: z.number().int(),
    mergeCommit: z.string(),
    base: z.string(),
    testRuns: z.number().int(),
    batches: z.array(z.string()),
  }),
  'merge.ejected': z.strictObject({ number: z.number().int(), reason: z.string() }),
  'release.prepared': z.strictObject({
    json: Sha256,
    markdown: Sha256,
    commit: z.string(),
    ready: z.boolean(),
    blockers: z.array(z.string()),
  }),
  'deploy.staged': z.strictObject({
    deploymentId: z.string(),
    commit: z.string(),
    passed: z.boolean(),
    checks: z.array(z.strictObject({ name: z.string(), passed: z.boolean(), detail: z.string() })),
  }),
  /** One analysis of a progressive rollout step (figures for canary and baseline). */
  'deploy.step': z.strictObject({
    step: z.number().int(),
    trafficPercent: z.number(),
    attempt: z.number().int(),
    verdict: z.enum(['promote', 'pause', 'abort']),
    canary: WindowStats,
    baseline: WindowStats,
    reasons: z.array(z.string()),
  }),
  'deploy.finished': z.strictObject({
    environment: z.enum(['staging', 'production']),
    outcome: z.enum(['promoted', 'aborted', 'redeployed']),
    deploymentId: z.string(),
    previousDeploymentId: z.string().optional(),
    commit: z.string(),
    reason: z.string(),
    detectedAt: z.string().datetime().optional(),
  }),
  'observation.completed': z.strictObject({
    service: z.string(),
    healthy: z.boolean(),
    stats: WindowStats,
    alarms: z.array(
      z.strictObject({ alarm: z.string(), metric: z.string(), value: z.number(), threshold: z.number() }),
    ),
    purpose: z.enum(['observe', 'recovery']),
  }),
  /** A deployment hurt production: traced to its deployment, pull request and run. */
  'incident.opened': z.strictObject({
    incidentId: z.string(),
    source: z.enum(['analysis', 'alarm']),
    service: z.string(),
    deploymentId: z.string(),
    commit: z.string(),
    pullRequest: z.number().int().optional(),
    offendingRun: z.string(),
    detectedAt: z.string().datetime(),
    summary: z.string(),
  }),
  'rollback.started': z.strictObject({ incidentId: z.string(), rollbackRun: z.string() }),
  'rollback.finished': z.strictObject({
    incidentId: z.string(),
    rollbackRun: z.string(),
    outcome: z.enum(['recovered', 'needs-human']),
    reason: z.string(),
  }),
  'revert.prepared': z.strictObject({
    revertOf: z.string(),
    branch: z.string(),
    commit: z.string(),
    files: z.array(z.string()),
    clean: z.boolean(),
    reason: z.string(),
  }),
  /** A new engineering request filed by Gantry (fix forward, health attention). */
  'request.filed': z.strictObject({
    requestId: z.string(),
    title: z.string(),
    artifact: Sha256,
    reason: z.string(),
    incidentId: z.string().optional(),
  }),
  'run.state': z.strictObject({ state: RunState, reason: z.string().optional() }),
} as const;

export type RunEventType = keyof typeof runEventData;
export const RunEventType = z.enum(Object.keys(runEventData) as [RunEventType, ...RunEventType[]]);
export type RunEventDataOf<T extends RunEventType> = z.infer<(typeof runEventData)[T]>;

const eventEnvelope = {
  runId: z.string().min(1),
  /** Position in the run's log, from 1, without gaps. */
  seq: z.number().int().min(1),
  /** Deterministic identity of the event within its run: re-running a step never appends it twice. */
  key: z.string().min(1),
  traceId: z.string().regex(/^[a-f0-9]{32}$/),
  actor: Actor,
  policyVersion: z.string(),
  at: z.string().datetime(),
};

/** One entry of the append-only run log. */
export const RunEvent = z.discriminatedUnion(
  'type',
  Object.entries(runEventData).map(([type, data]) =>
    z.strictObject({ ...eventEnvelope, type: z.literal(type as RunEventType), data }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export type RunEvent = {
  [T in RunEventType]: {
    runId: string;
    seq: number;
    key: string;
    traceId: string;
    actor: Actor;
    policyVersion: string;
    at: string;
    type: T;
    data: RunEventDataOf<T>;
  };
}[RunEventType];

/** What a writer supplies; the log assigns `seq` and `at`. */
export type NewRunEvent = {
  [T in RunEventType]: Omit<Extract<RunEvent, { type: T }>, 'seq' | 'at'> & { at?: string };
}[RunEventType];
