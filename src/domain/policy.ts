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
