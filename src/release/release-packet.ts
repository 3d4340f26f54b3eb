import { z } from 'zod';
import { AnalysisRules } from '../deploy/service-spec.js';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { RiskTier } from '../domain/risk.js';
import { redactDeep, type SecretRedactor } from '../gateway/redact.js';

const sha = z.string().regex(/^[0-9a-f]{7,64}$/, 'a commit id (hex)');
const instant = z.iso.datetime({ offset: true });

export const ReleaseChange = z.strictObject({
  commit: sha,
  subject: z.string(),
  author: z.string(),
  /** The pull request the commit merged, when known. */
  pullRequest: z.number().int().positive().optional(),
});
export type ReleaseChange = z.infer<typeof ReleaseChange>;

export const ReleaseCheck = z.strictObject({
  name: z.string().min(1),
  passed: z.boolean(),
  detail: z.string(),
});
export type ReleaseCheck = z.infer<typeof ReleaseCheck>;

export const ReleaseApproval = z.strictObject({
  kind: z.string().min(1),
  decision: z.enum(['approved', 'rejected', 'expired', 'pending']),
  by: z.string(),
  at: instant,
});
export type ReleaseApproval = z.infer<typeof ReleaseApproval>;

/** Percent of production traffic at each step: ascending, ending with all of it. */
export const RolloutSteps = z
  .array(z.number().int().min(1).max(100))
  .min(1)
  .refine((steps) => steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? 0)), {
    message: 'steps must be strictly ascending',
  })
  .refine((steps) => steps.at(-1) === 100, { message: 'the last step must be 100 (all traffic)' });

export const RolloutPlan = z.strictObject({
  steps: RolloutSteps,
  intervalSeconds: z.number().positive(),
  analysis: AnalysisRules,
});
export type RolloutPlan = z.infer<typeof RolloutPlan>;

const packetFields = {
  service: z.string().min(1),
  repository: z.string().min(1),
  /** The commit to release. */
  commit: sha,
  /** What production runs now; absent for a first release. */
  previousRelease: z
    .strictObject({ commit: sha, deployedAt: instant, deploymentId: z.string().min(1) })
    .optional(),
  /** Commits between the previous release and this one, oldest first. */
  changes: z.array(ReleaseChange),
  pullRequests: z.array(
    z.strictObject({
      number: z.number().int().positive(),
      url: z.string().min(1),
      title: z.string(),
      runId: z.string().min(1),
    }),
  ),
  risk: z.strictObject({
    tier: RiskTier,
    autonomyTier: z.number().int().min(0).max(5),
    reasons: z.array(z.string()),
  }),
  /** Tests before and after, merge queue, review blockers, evidence completeness, staging smoke when known. */
  checks: z.array(ReleaseCheck),
  approvals: z.array(ReleaseApproval),
  /** Approval kinds the release needs; a missing or refused one keeps it from being ready. */
  requiredApprovals: z.array(z.string().min(1)).default([]),
  rolloutPlan: RolloutPlan,
  /** What watches production during and after the rollout, in words. */
  monitors: z.array(z.string()),
  /** How a bad release is undone, in words. */
  rollbackMethod: z.string(),
  preparedAt: instant,
};

/** What `buildReleasePacket` takes: the packet without its verdict, which is always computed. */
export const ReleasePacketInput = z.strictObject(packetFields);
export type ReleasePacketInput = z.input<typeof ReleasePacketInput>;

/**
 * The release-readiness packet: everything a person or the runtime reads before a deploy starts.
 * `ready` and `blockers` are derived from the rest; parsing a packet whose verdict does not follow
 * from its contents fails, so a stored packet cannot claim a readiness it lacks.
 */
export const ReleasePacket = z
  .strictObject({
    ...packetFields,
    ready: z.boolean(),
    /** Why the release is not ready, one sentence each; empty when it is. */
    blockers: z.array(z.string()),
  })
  .superRefine((packet, context) => {
    const expected = releaseBlockers(packet);
    if (JSON.stringify(expected) !== JSON.stringify(packet.blockers)) {
      context.addIssue({
        code: 'custom',
        path: ['blockers'],
        message: `blockers do not follow from the packet; expected ${JSON.stringify(expected)}`,
      });
    }
    if (packet.ready !== (expected.length === 0)) {
      context.addIssue({
        code: 'custom',
        path: ['ready'],
        message: 'ready must be true exactly when there is no blocker',
      });
    }
  });
export type ReleasePacket = z.infer<typeof ReleasePacket>;

/**
 * Builds the release-readiness packet and decides whether the release may start. It is not ready
 * when a check failed, a required approval is missing, an approval was refused, expired or is still
 * pending, the risk is critical, nothing changed since the previous release, no pull request traces
 * the change, or there is no monitor or rollback method. Text is redacted when a redactor is given.
 *
 * @example
 * const packet = buildReleasePacket({ service: 'billing-service', repository: 'billing-service', commit, changes,
 *   pullRequests, risk, checks, approvals: [], rolloutPlan, monitors, rollbackMethod, preparedAt: now });
 * if (!packet.ready) throw new Error(packet.blockers.join('; '));
 */
export function buildReleasePacket(
  input: ReleasePacketInput,
  options: { redactor?: SecretRedactor } = {},
): ReleasePacket {
  const parsed = ReleasePacketInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(`release packet input is invalid: ${formatZodIssues(parsed.error.issues)}`, {
      input: `release of ${String((input as { service?: unknown }).service ?? 'an unnamed service')}`,
      hint: 'fix the fields listed; the rollout plan comes from the service spec and the checks from the run',
      cause: parsed.error,
    });
  }
  const fields = options.redactor ? redactDeep(parsed.data, options.redactor) : parsed.data;
  const blockers = releaseBlockers(fields);
  return { ...fields, ready: blockers.length === 0, blockers };
}

/**
 * Why a release is not ready, in the order a person fixes them; empty when it is ready.
 *
 * @example
 * releaseBlockers(packet); // ['check "review" failed: 1 blocker(s)', 'approval deploy is required and was not given']
 */
export function releaseBlockers(packet: z.infer<typeof ReleasePacketInput>): string[] {
  const blockers: string[] = [];
  if (packet.previousRelease?.commit === packet.commit) {
    blockers.push(`nothing to release: production already runs ${packet.commit.slice(0, 12)}`);
  } else if (packet.changes.length === 0) {
    blockers.push('nothing to release: no commit since the previous release');
  }
  if (packet.pullRequests.length === 0) {
    blockers.push('no pull request: the release cannot be traced to a reviewed change');
  }
  if (packet.risk.tier === 'critical')
    blockers.push('risk tier critical: Gantry does not release critical changes');
  if (packet.checks.length === 0) blockers.push('no check recorded for this release');
  for (const check of packet.checks) {
    if (!check.passed) blockers.push(`check "${check.name}" failed: ${check.detail}`);
  }
  const latest = new Map<string, ReleaseApproval>();
  for (const approval of packet.approvals) {
    const seen = latest.get(approval.kind);
    if (!seen || Date.parse(approval.at) >= Date.parse(seen.at)) latest.set(approval.kind, approval);
  }
  for (const approval of latest.values()) {
    if (approval.decision === 'pending') blockers.push(`approval ${approval.kind} is still pending`);
    else if (approval.decision !== 'approved')
      blockers.push(`approval ${approval.kind} was ${approval.decision} (${approval.by}, ${approval.at})`);
  }
  for (const kind of packet.requiredApprovals ?? []) {
    if (!latest.has(kind)) blockers.push(`approval ${kind} is required and was not given`);
  }
  if (packet.monitors.every((monitor) => monitor.trim() === '')) {
    blockers.push('no monitor: nothing would see a regression during the rollout');
  }
  if (packet.rollbackMethod.trim() === '')
    blockers.push('no rollback method: a bad release could not be undone');
  return blockers;
}
