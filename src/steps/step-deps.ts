import { z } from 'zod';
import type { ApproverMatrix } from '../approvals/approval-matrix.js';
import type { ServiceSpec } from '../deploy/service-spec.js';
import { ToolchainKind } from '../domain/context.js';
import type { RunEvent } from '../domain/events.js';
import type { MergeQueue } from '../forge/merge-queue.js';
import type { SecretRedactor } from '../gateway/redact.js';
import type { PriceTable, RunBudget } from '../policy/budgets.js';
import type { CapabilityRegistry } from '../policy/capabilities.js';
import type { RiskRules } from '../policy/risk-rules.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import type { Deployer } from '../ports/deployer.js';
import type { EventLog, RecordStore } from '../ports/event-log.js';
import type { Forge } from '../ports/forge.js';
import type { ModelPort } from '../ports/model.js';
import type { PolicyEngine } from '../ports/policy.js';
import type { Sandbox, SandboxCommand, SandboxLimits } from '../ports/sandbox.js';
import type { WorkspaceStorage } from '../ports/workspace-storage.js';

/** Settings every step reads; the runtime fills them once at start-up. */
export interface StepSettings {
  /** Directory of run workspaces (one clone per run). */
  workspacesDir: string;
  /** Directory where readable copies of evidence packets are written. */
  evidenceDir: string;
  agentVersion: string;
  maxPatchIterations: number;
  maxTurnsPerPhase: number;
  sandboxLimits: Partial<SandboxLimits>;
  /** The same tool call with the same arguments this many times in one phase is a loop. */
  maxIdenticalToolCalls: number;
  /** Consecutive patch iterations failing with identical output before the loop is declared stuck. */
  maxReflectionDepth: number;
  /** The registries (`host:port`) a setup-phase install may reach through the egress proxy. */
  egressEndpoints?: readonly string[];
}

/** The ports a step works through. Steps never import an adapter. */
export interface StepDeps {
  log: EventLog;
  records: RecordStore;
  artifacts: ArtifactStore;
  forge: Forge;
  sandbox: Sandbox;
  /** Where run workspaces live, each within its disk limit. */
  workspaces: WorkspaceStorage;
  model: ModelPort;
  riskRules: RiskRules;
  capabilities: CapabilityRegistry;
  policy: PolicyEngine;
  approvers: ApproverMatrix;
  /** Key and base URL of the signed approval links. */
  approvalLinks: { key: Buffer; baseUrl: string };
  policyVersion: string;
  redactor: SecretRedactor;
  settings: StepSettings;
  prices: PriceTable;
  /** The per-run budget of a capability. */
  budgetFor: (capability: string) => RunBudget;
  now: () => Date;
  /** Called for every event a step records (progress output). */
  onEvent?: (event: RunEvent) => void;
  /** The delivery loop's ports; a runtime without them ends runs at the pull request. */
  delivery?: DeliveryDeps;
}

/** What the delivery loop after the pull request works through. */
export interface DeliveryDeps {
  deployer: Deployer;
  mergeQueue: MergeQueue;
  /** Deployable services by name (policies/services/). */
  services: Map<string, ServiceSpec>;
  /** Where filed requests (fix forward, health) are written as YAML for a person to pick up. */
  requestsDir: string;
}

/** What identifies a run in every step's input. */
export const RunRef = z.object({ runId: z.string().min(1), traceId: z.string().regex(/^[a-f0-9]{32}$/) });
export type RunRef = z.infer<typeof RunRef>;

/**
 * What the sandbox gives every command of a run after the setup phase: the toolchains the map detected
 * (the view shows those and no other), the virtualenv the setup made (first on PATH, VIRTUAL_ENV), and
 * variables that keep tools offline where their registry is not allowlisted.
 */
export const SandboxProfile = z.strictObject({
  toolchains: z.array(ToolchainKind).optional(),
  /** A virtualenv inside the workspace, relative to it. */
  virtualenv: z.string().optional(),
  env: z.record(z.string(), z.string()),
});
export type SandboxProfile = z.infer<typeof SandboxProfile>;

/** The sandbox command fields a profile sets. */
export function profileCommand(
  profile: SandboxProfile | undefined,
): Pick<SandboxCommand, 'toolchains' | 'virtualenv' | 'env'> {
  if (!profile) return {};
  return {
    ...(profile.toolchains ? { toolchains: profile.toolchains } : {}),
    ...(profile.virtualenv ? { virtualenv: profile.virtualenv } : {}),
    ...(Object.keys(profile.env).length > 0 ? { env: profile.env } : {}),
  };
}

/** The repository part of the workflow state, produced by mapRepository. */
export const RepoState = z.object({
  repository: z.string(),
  workspace: z.string(),
  baseCommit: z.string(),
  defaultBranch: z.string(),
  branch: z.string(),
  context: z.string(),
  testCommand: z.array(z.string()).nullable(),
  /** What every sandboxed command of the run gets: the map's toolchains, the setup phase's virtualenv. */
  profile: SandboxProfile.optional(),
});
export type RepoState = z.infer<typeof RepoState>;

/** The agent part of the workflow state: the conversation so far and the workspace commit it left. */
export const AgentState = z.object({
  transcript: z.string(),
  workspaceCommit: z.string(),
  outcome: z.string(),
});
export type AgentState = z.infer<typeof AgentState>;
