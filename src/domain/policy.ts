import { z } from 'zod';

/** A decision of the control plane about one action, recorded with the policy that made it. */
export const PolicyDecision = z.strictObject({
  id: z.string(),
  action: z.string(),
  resource: z.string(),
  decision: z.enum(['allow', 'deny']),
  reasons: z.array(z.string()),
  policyVersion: z.string(),
  /** Ids of the policies or rules that decided. */
  determiningPolicies: z.array(z.string()),
});
export type PolicyDecision = z.infer<typeof PolicyDecision>;

/**
 * One question to the policy engine: may this principal take this action on this resource, now?
 * The gateway and the lifecycle steps build it; the Cedar engine answers it with a PolicyDecision.
 */
export const AuthorizationRequest = z.strictObject({
  principal: z.strictObject({
    /** The agent's version, e.g. `gantry-agent/0.1.0`, or a step name for lifecycle actions. */
    agent: z.string().min(1),
    capability: z.string().min(1),
    capabilityVersion: z.string().min(1),
    /** From the capability contract. */
    allowedActions: z.array(z.string()),
    forbiddenActions: z.array(z.string()),
  }),
  action: z.string().min(1),
  resource: z.strictObject({
    repository: z.string().min(1),
    /** Workspace-relative path, when the action touches one file or directory. */
    path: z.string().optional(),
    /** The command line, for run_command and run_tests. */
    command: z.string().optional(),
  }),
  context: z.strictObject({
    riskTier: z.enum(['low', 'medium', 'high', 'critical']),
    /** The run's effective autonomy tier: min(capability, risk, domain caps). */
    autonomyTier: z.number().int().min(0).max(5),
    runState: z.string(),
    evidence: z.strictObject({
      reproduced: z.boolean(),
      verified: z.boolean(),
      evidenceComplete: z.boolean(),
      /** Approval kinds granted so far in this run (plan, merge, code-owner, ...). */
      approvals: z.array(z.string()),
    }),
  }),
});
export type AuthorizationRequest = z.infer<typeof AuthorizationRequest>;
