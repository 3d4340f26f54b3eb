import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ulid } from 'ulid';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../adapters/aws/dynamodb-event-log.js';
import { ensureBucket, S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { LocalSandboxGrants } from '../adapters/local/sandbox-grants.js';
import { createModel } from '../agent/models/create-model.js';
import { loadApproverMatrix, mayApprove } from '../approvals/approval-matrix.js';
import { listApprovals, requireApproval, saveApproval } from '../approvals/approval-records.js';
import { startApprovalServer } from '../approvals/approval-server.js';
import {
  loadOrCreateSigningKey,
  RecordStoreLinkLedger,
  SIGNING_KEY_FILE,
} from '../approvals/signed-links.js';
import { GantryError, InvalidInputError } from '../domain/errors.js';
import type { RunEvent } from '../domain/events.js';
import type { EngineeringRequest } from '../domain/request.js';
import { type RunState, type RunSummary, terminalRunStates } from '../domain/run.js';
import { type ReplayReport, replayRun } from '../evidence/replay.js';
import { LocalForge } from '../forge/local-forge.js';
import { redactRequest, SecretRedactor } from '../gateway/redact.js';
import { loadPriceTable, type RunBudget } from '../policy/budgets.js';
import { loadCapabilities } from '../policy/capabilities.js';
import { CedarPolicyEngine } from '../policy/cedar-engine.js';
import { type KillSwitchScope, listKillSwitches, setKillSwitch } from '../policy/kill-switch.js';
import { runPolicyTable } from '../policy/policy-table.js';
import { loadRiskRules } from '../policy/risk-rules.js';
import type { ModelPort } from '../ports/model.js';
import type { Sandbox } from '../ports/sandbox.js';
import { createSandbox } from '../sandbox/create-sandbox.js';
import { approverQueryFor } from '../steps/approver-query.js';
import { assembleEvidence } from '../steps/assemble-evidence.js';
import { checkRequest } from '../steps/check-request.js';
import { classifyRisk } from '../steps/classify-risk.js';
import { createPlan } from '../steps/create-plan.js';
import { finishRun } from '../steps/finish-run.js';
import { grantSandbox } from '../steps/grant-sandbox.js';
import { loadStepResult } from '../steps/load-step-result.js';
import { mapRepository } from '../steps/map-repository.js';
import { openPullRequest } from '../steps/open-pull-request.js';
import { patch } from '../steps/patch.js';
import { reproduce } from '../steps/reproduce.js';
import { requestApproval } from '../steps/request-approval.js';
import { forgetJournals, journalFor, refreshSummary } from '../steps/run-context.js';
import { assertRunMayContinue } from '../steps/run-guard.js';
import type { StepDeps, StepSettings } from '../steps/step-deps.js';
import { verify } from '../steps/verify.js';
import { buildIssueResolver, type IssueResolverStep } from '../workflows/issue-resolver.js';
import { executeLocally, type StepHandler } from '../workflows/local-executor.js';
import { type LocalEngines, startLocalEngines } from './engines.js';
import { lockHome } from './home-lock.js';
import { policyVersionOf } from './policy-version.js';

export const policiesDir = fileURLToPath(new URL('../../policies', import.meta.url));
const BUCKET = 'gantry-artifacts';
const AGENT_VERSION = 'gantry-agent/0.1.0';
const fallbackBudget: RunBudget = {
  maxModelTokens: 20_000,
  maxToolCalls: 10,
  maxWallTimeSeconds: 300,
  maxCostUsd: 0.5,
};

export interface GantryOptions {
  /** Where the embedded platform keeps its data; default `.gantry` in the working directory. */
  home?: string;
  /** Called for each event recorded, as it is recorded. */
  onEvent?: (event: RunEvent) => void;
  /** Overrides of the step settings (iteration limits, sandbox limits, approval lifetime). */
  settings?: Partial<StepSettings>;
  /** Used by the tool gateway's redactor; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** The policies directory (risk rules, capabilities, Cedar, approvers, prices); default `policies/`. */
  policiesDir?: string;
  /** Base URL of signed approval links: where `gantry serve` answers them. */
  approvalBaseUrl?: string;
  /** Wraps the model and sandbox adapters, e.g. to time them (the benchmark does). */
  instrument?: { model?: (model: ModelPort) => ModelPort; sandbox?: (sandbox: Sandbox) => Sandbox };
}

/** What a run command leaves behind: its state, and where to look next. */
export interface RunOutcome {
  runId: string;
  state: RunState;
  summary: RunSummary;
  reason?: string;
  pullRequest?: string;
  evidenceFile?: string;
  approvalId?: string;
}

/**
 * The embedded platform: the real local engines (dynalite, s3rver, bubblewrap, git) behind the same
 * ports Gantry uses on AWS, and the issue resolver run by aws-local-stepfunctions.
 *
 * @example
 * const gantry = await openGantry({ home: '.gantry' });
 * const outcome = await gantry.submit(request, 'cassette:examples/billing-service/cassette.yaml');
 * await gantry.close();
 */
export class Gantry {
  private sandbox: Sandbox | undefined;
  private readonly models = new Map<string, ModelPort>();

  private constructor(
    readonly home: string,
    private readonly engines: LocalEngines,
    readonly log: DynamoEventLog,
    readonly artifacts: S3ArtifactStore,
    private readonly base: Omit<StepDeps, 'model' | 'sandbox'>,
    private readonly unlock: () => Promise<void>,
    private readonly instrument: GantryOptions['instrument'] = {},
  ) {}

  static async open(options: GantryOptions = {}): Promise<Gantry> {
    const home = resolve(options.home ?? process.env.GANTRY_HOME ?? '.gantry');
    await mkdir(home, { recursive: true });
    const unlock = await lockHome(join(home, 'lock'));
    let engines: LocalEngines | undefined;
    try {
      engines = await startLocalEngines(join(home, 'data'));
      const tables = defaultTableNames();
      await ensureEventLogTables(engines.dynamo, tables);
      await ensureBucket(engines.s3, BUCKET);
      const log = new DynamoEventLog(engines.dynamo, tables);
      const artifacts = new S3ArtifactStore(engines.s3, BUCKET);
      const forge = new LocalForge({ root: join(home, 'forge') });
      const policies = options.policiesDir ?? policiesDir;
      const riskRules = await loadRiskRules(join(policies, 'risk-rules.yaml'));
      const capabilities = await loadCapabilities(join(policies, 'capabilities'));
      const settings: StepSettings = {
        workspacesDir: join(home, 'workspaces'),
        evidenceDir: join(home, 'evidence'),
        agentVersion: AGENT_VERSION,
        maxPatchIterations: 3,
        maxTurnsPerPhase: 24,
        sandboxLimits: { wallTimeMs: 120_000, maxOutputBytes: 1024 * 1024 },
        maxIdenticalToolCalls: 3,
        maxReflectionDepth: 2,
        ...options.settings,
      };
      await mkdir(settings.workspacesDir, { recursive: true });
      const base = {
        log,
        records: log,
        artifacts,
        forge,
        riskRules,
        policyVersion: await policyVersionOf(policies, riskRules.version),
        redactor: SecretRedactor.fromEnvironment(options.env ?? process.env),
        settings,
        prices: await loadPriceTable(join(policies, 'model-prices.yaml')),
        capabilities,
        policy: await CedarPolicyEngine.load(join(policies, 'cedar')),
        approvers: await loadApproverMatrix(join(policies, 'approvers.yaml')),
        approvalLinks: {
          key: await loadOrCreateSigningKey(join(home, SIGNING_KEY_FILE)),
          baseUrl: options.approvalBaseUrl ?? 'http://127.0.0.1:8787',
        },
        // An unknown capability is rejected by checkRequest; until then the strictest budget applies.
        budgetFor: (id: string) => capabilities.list().find((c) => c.id === id)?.budgets ?? fallbackBudget,
        now: options.now ?? (() => new Date()),
        onEvent: options.onEvent,
      };
      return new Gantry(home, engines, log, artifacts, base, unlock, options.instrument);
    } catch (error) {
      await engines?.stop();
      await unlock();
      throw error;
    }
  }

  /** Records the request as a new run and resolves it with the given model (`cassette:…`, `bedrock:…`, …). */
  async submit(request: EngineeringRequest, modelSpec: string, raw?: string): Promise<RunOutcome> {
    const model = this.modelFor(modelSpec);
    const runId = ulid();
    const traceId = randomBytes(16).toString('hex');
    const deps = await this.deps(model);
    const journal = await journalFor(deps, { runId, traceId });
    const rawHash = await this.artifacts.put(
      this.base.redactor.redact(raw ?? JSON.stringify(request, null, 2)).text,
      'text/plain; charset=utf-8',
    );
    await this.base.records.put('run-model', runId, { spec: modelSpec });
    await journal.record(
      'request',
      'request.received',
      { kind: 'system', id: 'intake' },
      { request: redactRequest(request, this.base.redactor), raw: rawHash },
    );
    await journal.record(
      'run:received',
      'run.state',
      { kind: 'system', id: 'intake' },
      { state: 'received' },
    );
    await refreshSummary(deps, journal);
    return this.execute(deps, runId, traceId);
  }

  /** Continues a run that stopped (a crash, or a decided approval) from its log. */
  async continueRun(runId: string, modelSpec?: string): Promise<RunOutcome> {
    const summary = await this.requireRun(runId);
    if (terminalRunStates.has(summary.state)) return this.outcome(runId);
    const stored = await this.base.records.get<{ spec: string }>('run-model', runId);
    const spec = modelSpec ?? stored?.spec;
    if (!spec) throw new InvalidInputError(`run ${runId} has no recorded model`, { hint: 'pass --model' });
    const deps = await this.deps(this.modelFor(spec));
    return this.execute(deps, runId, summary.traceId);
  }

  /**
   * Answers an approval and resumes its run. Only someone the approval matrix names may answer, never the
   * requester, and only once.
   */
  async decide(
    approvalId: string,
    decision: 'approved' | 'rejected',
    by: string,
    reason?: string,
    via: 'cli' | 'link' = 'cli',
  ): Promise<RunOutcome> {
    const approval = await requireApproval(this.base.records, approvalId);
    if (approval.status !== 'pending') {
      throw new GantryError(
        `approval ${approvalId} was already ${approval.status} by ${approval.decidedBy ?? 'nobody'}`,
        {
          input: approvalId,
          hint: 'an approval is answered once; see the run with `gantry show`',
        },
      );
    }
    if (this.base.now().toISOString() > approval.expiresAt) {
      await this.continueRun(approval.runId);
      throw new GantryError(`approval ${approvalId} expired at ${approval.expiresAt}`, {
        input: approvalId,
        hint: 'the run ended rejected; submit the request again if it is still wanted',
      });
    }
    const summary = await this.requireRun(approval.runId);
    const journal = await journalFor(this.base as StepDeps, {
      runId: approval.runId,
      traceId: summary.traceId,
    });
    const permission = mayApprove(
      by,
      await approverQueryFor(journal, this.artifacts, approval.kind, this.base.approvers),
    );
    if (!permission.allowed) {
      throw new GantryError(`${by} may not answer approval ${approvalId}: ${permission.reason}`, {
        input: by,
        hint: `ask one of: ${approval.approvers.join(', ') || 'nobody is configured; fix policies/approvers.yaml'}`,
      });
    }
    await saveApproval(this.base.records, {
      ...approval,
      status: decision,
      decidedBy: by,
      decidedAt: this.base.now().toISOString(),
      decidedVia: via,
      reason,
    });
    return this.continueRun(approval.runId);
  }

  /** Ends every gate whose deadline passed: its run resumes and is rejected as expired. */
  async sweepExpiredApprovals(): Promise<RunOutcome[]> {
    const now = this.base.now().toISOString();
    const expired = (await listApprovals(this.base.records)).filter(
      (a) => a.status === 'pending' && a.expiresAt < now,
    );
    const outcomes: RunOutcome[] = [];
    for (const approval of expired) outcomes.push(await this.continueRun(approval.runId));
    return outcomes;
  }

  /** Serves signed approval links on loopback until closed. */
  serveApprovals(options: { port?: number } = {}) {
    return startApprovalServer({
      key: this.base.approvalLinks.key,
      ledger: new RecordStoreLinkLedger(this.base.records),
      decide: (id, decision, by, reason) => this.decide(id, decision, by, reason, 'link'),
      port: options.port ?? 8787,
      now: this.base.now,
    });
  }

  async pendingApprovals() {
    return (await listApprovals(this.base.records)).filter((a) => a.status === 'pending');
  }

  async setKillSwitch(change: {
    scope: KillSwitchScope;
    target?: string;
    engaged: boolean;
    by: string;
    reason: string;
  }) {
    return setKillSwitch(this.log, this.base.records, { ...change, now: this.base.now() });
  }

  async killSwitches() {
    return listKillSwitches(this.base.records);
  }

  /** Runs the policy decision table (`policies/cedar/tests.yaml`) against the loaded policies. */
  async policyTest(file?: string) {
    return runPolicyTable(this.base.policy as CedarPolicyEngine, file);
  }

  async runs(query: { state?: RunState; limit?: number } = {}): Promise<RunSummary[]> {
    return this.log.listRuns(query);
  }

  async show(runId: string): Promise<{ summary: RunSummary; events: RunEvent[]; evidence?: string }> {
    const summary = await this.requireRun(runId);
    const events = await this.log.read(runId);
    const assembled = events.find((e) => e.type === 'evidence.assembled');
    const evidence =
      assembled?.type === 'evidence.assembled'
        ? await this.artifacts.getText(assembled.data.markdown)
        : undefined;
    return { summary, events, evidence };
  }

  async replay(runId: string): Promise<ReplayReport> {
    await this.requireRun(runId);
    return replayRun(this.log, this.artifacts, runId);
  }

  async close(): Promise<void> {
    await this.engines.stop();
    await this.unlock();
  }

  private async execute(deps: StepDeps, runId: string, traceId: string): Promise<RunOutcome> {
    const run = { runId, traceId };
    const journal = await journalFor(deps, run);
    // Every step but the one that records the end first checks the kill switches and the budget.
    const guarded =
      <I>(step: (deps: StepDeps, input: I) => Promise<unknown>): StepHandler =>
      async (input) => {
        await assertRunMayContinue(deps, journal);
        return step(deps, input as I);
      };
    const localGrants = new LocalSandboxGrants();
    const handlers: Record<IssueResolverStep, StepHandler> = {
      checkRequest: guarded(checkRequest),
      classifyRisk: guarded(classifyRisk),
      mapRepository: guarded(mapRepository),
      createPlan: guarded(createPlan),
      requestApproval: guarded(requestApproval),
      reproduce: guarded(reproduce),
      patch: guarded(patch),
      verify: guarded(verify),
      assembleEvidence: guarded(assembleEvidence),
      openPullRequest: guarded(openPullRequest),
      finishRun: (input) => finishRun(deps, input as never),
      loadStepResult: (input) => loadStepResult(deps, input as never),
      grantSandbox: guarded((_deps, input) => grantSandbox(localGrants, input as never)),
    };
    const result = await executeLocally({
      definition: buildIssueResolver(),
      handlers,
      input: { run },
      journal,
      artifacts: this.artifacts,
    });
    if (result.status === 'failed' && !journal.find('run:final', 'run.state')) {
      // The failure path itself failed (for example the log was unreachable): record what we know.
      await finishRun(deps, { run, outcome: 'failed', reason: `${result.error}: ${result.cause}` }).catch(
        () => {},
      );
    }
    await refreshSummary(deps, journal);
    return this.outcome(runId, result.status === 'waiting' ? result.approvalId : undefined);
  }

  private async outcome(runId: string, approvalId?: string): Promise<RunOutcome> {
    const summary = await this.requireRun(runId);
    const evidenceFile = summary.evidence
      ? join(this.base.settings.evidenceDir, runId, 'evidence.md')
      : undefined;
    return {
      runId,
      state: summary.state,
      summary,
      reason: summary.reason,
      pullRequest: summary.pullRequest,
      evidenceFile,
      approvalId: approvalId ?? summary.pendingApproval,
    };
  }

  private async requireRun(runId: string): Promise<RunSummary> {
    const summary = await this.log.getRunSummary(runId);
    if (!summary) {
      throw new InvalidInputError(`there is no run ${runId} in ${this.home}`, {
        input: runId,
        hint: 'list runs with `gantry runs`',
      });
    }
    return summary;
  }

  private modelFor(spec: string): ModelPort {
    let model = this.models.get(spec);
    if (!model) {
      model = createModel(spec);
      if (this.instrument?.model) model = this.instrument.model(model);
      this.models.set(spec, model);
    }
    return model;
  }

  private async deps(model: ModelPort): Promise<StepDeps> {
    if (!this.sandbox) {
      const sandbox = await createSandbox();
      this.sandbox = this.instrument?.sandbox ? this.instrument.sandbox(sandbox) : sandbox;
    }
    forgetJournals(this.base as StepDeps);
    return { ...this.base, model, sandbox: this.sandbox };
  }
}

export const openGantry = (options?: GantryOptions) => Gantry.open(options);
