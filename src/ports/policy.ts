import type { AuthorizationRequest, PolicyDecision } from '../domain/policy.js';

/** Answers whether an action may happen. The Cedar engine implements it, in-process, everywhere. */
export interface PolicyEngine {
  readonly version: string;
  decide(request: AuthorizationRequest): PolicyDecision;
}
