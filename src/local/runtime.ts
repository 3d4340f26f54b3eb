import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ulid } from 'ulid';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../adapters/aws/dynamodb-event-log.js';
import { ensureBucket, S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { loadOrCreatePlatformKey, PLATFORM_KEY_FILE } from '../adapters/local/ed25519-signer.js';
import { LocalSandboxGrants } from '../adapters/local/sandbox-grants.js';
import { createModel } from '../agent/models/create-model.js';
import { loadApproverMatrix, mayApprove } from '../approvals/approval-matrix.js';
import { listApprovals, requireApproval, saveApproval } from '../approvals/approval-records.js';
import { startApprovalServer } from '../approvals/approval-server.js';
import { SignedApprovalRecords } from '../approvals/signed-approval-records.js';
import {
  loadOrCreateSigningKey,
  RecordStoreLinkLedger,
  SIGNING_KEY_FILE,
} from '../approvals/signed-links.js';
import { LocalDeployer } from '../deploy/local-deployer.js';
import { loadServiceSpecs, type ServiceSpec } from '../deploy/service-spec.js';
import { GantryError, InvalidInputError } from '../domain/errors.js';
import type { RunEvent } from '../domain/events.js';
import type { EngineeringRequest } from '../domain/request.js';
import { type RunState, type RunSummary, terminalRunStates } from '../domain/run.js';
import { type ReplayReport, replayRun } from '../evidence/replay.js';
import { removeWorkTree } from '../forge/git-command.js';
import { LocalForge } from '../forge/local-forge.js';
import { MergeQueue } from '../forge/merge-queue.js';
import { defaultRepositoryRoots, RepositoryPathPolicy } from '../forge/repository-path-policy.js';
import { SecretRedactor } from '../gateway/redact.js';
import {
  assessHealth,
  attentionRequestId,
  attentionRequests,
  type HealthInput,
  type HealthReport,
} from '../health/index.js';
import {
  INCIDENT_KIND,
  type Incident,
  listIncidents,
  requireIncident,
  saveIncident,
} from '../incidents/incidents.js';
import { loadPriceTable, type RunBudget } from '../policy/budgets.js';
import { loadCapabilities } from '../policy/capabilities.js';
import { CedarPolicyEngine } from '../policy/cedar-engine.js';
import {
  CONTROL_PLANE_LOG,
  type KillSwitchScope,
  listKillSwitches,
  setKillSwitch,
} from '../policy/kill-switch.js';
import { runPolicyTable } from '../policy/policy-table.js';
import { loadRiskRules } from '../policy/risk-rules.js';
import type { AlarmSignal } from '../ports/deployer.js';
import type { ModelPort } from '../ports/model.js';
import type { Sandbox } from '../ports/sandbox.js';
import { createSandbox } from '../sandbox/create-sandbox.js';
import { defaultRegistryAllowlist, grantEgress } from '../sandbox/egress/index.js';
import { approverQueryFor } from '../steps/approver-query.js';
import { assembleEvidence } from '../steps/assemble-evidence.js';
import { checkRequest } from '../steps/check-request.js';
import { classifyRisk } from '../steps/classify-risk.js';
import { createPlan } from '../steps/create-plan.js';
import { decideMerge } from '../steps/decide-merge.js';
import { deployStaging } from '../steps/deploy-staging.js';
import { finishRun } from '../steps/finish-run.js';
import { grantSandbox } from '../steps/grant-sandbox.js';
import { loadStepResult } from '../steps/load-step-result.js';
import { mapRepository } from '../steps/map-repository.js';
import { mergeChange } from '../steps/merge-change.js';
import { openPullRequest } from '../steps/open-pull-request.js';
import { patch } from '../steps/patch.js';
import { prepareRelease } from '../steps/prepare-release.js';
import { recordNewRun, writeFiledRequest } from '../steps/record-request.js';
import { reproduce } from '../steps/reproduce.js';
import { requestApproval } from '../steps/request-approval.js';
import { reviewPullRequest } from '../steps/review-pull-request.js';
import { observeProduction, rollOutProduction } from '../steps/roll-out-production.js';
import {
  confirmRecovery,
  escalateRollback,
  fileFixForward,
  finishRollback,
  handToPeople,
  openRevertPullRequest,
  redeploy,
  revertChange,
  rollbackRequestFor,
  rollbackRunIdFor,
  startRollback,
} from '../steps/rollback-run.js';
import { forgetJournals, journalFor, refreshSummary } from '../steps/run-context.js';
import { assertRunMayContinue } from '../steps/run-guard.js';
import type { RunRef, StepDeps, StepSettings } from '../steps/step-deps.js';
import { verify } from '../steps/verify.js';
import type { StateMachineDefinition } from '../workflows/asl.js';
import type { IssueResolverStep } from '../workflows/issue-resolver.js';
import { executeLocally, type StepHandler } from '../workflows/local-executor.js';
import { buildRollback, workflowFor } from '../workflows/rollback.js';
import {
  DiskLimitedSandbox,
  DiskWorkspaceStorage,
  decideWorkspaceRetention,
  type RetentionDecision,
  WorkspaceDisks,
} from '../workspaces/index.js';
import { type LocalEngines, startLocalEngines } from './engines.js';
import { lockHome } from './home-lock.js';
import { HOME_SETTINGS_FILE, loadHomeSettings } from './home-settings.js';
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
  /**
   * Directories a request's `repository.path` may point into, on top of `repositoryRoots` in
   * `<home>/settings.yaml`. When neither names any, the working directory and the OS temporary directory.
   */
  repositoryRoots?: string[];
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

  /** The run workspaces' disks (the same storage the steps get as `workspaces`). */
  private get workspaces(): DiskWorkspaceStorage {
    return this.base.workspaces as DiskWorkspaceStorage;
  }
  private mergeQueue: MergeQueue | undefined;
  private readonly models = new Map<string, ModelPort>();

  private constructor(
    readonly home: string,
    private readonly engines: LocalEngines,
    readonly log: DynamoEventLog,
    readonly artifacts: S3ArtifactStore,
    private readonly base: Omit<StepDeps, 'model' | 'sandbox'>,
    private readonly unlock: () => Promise<void>,
    private readonly instrument: GantryOptions['instrument'] = {},
    private readonly delivery?: {
      deployer: LocalDeployer;
      services: Map<string, ServiceSpec>;
      requestsDir: string;
      queueDir: string;
    },
  ) {}

  /** The embedded deployer: the services it runs live as long as this process. */
  get deployer(): LocalDeployer | undefined {
    return this.delivery?.deployer;
  }

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
      const homeSettings = await loadHomeSettings(home);
      const configuredRoots = homeSettings.repositoryRoots ?? [];
      const roots = [...configuredRoots, ...(options.repositoryRoots ?? [])];
      const repositoryPaths = new RepositoryPathPolicy({
        roots: roots.length > 0 ? roots : defaultRepositoryRoots(),
        gantryHome: home,
        settingsFile: join(home, HOME_SETTINGS_FILE),
      });
      const forge = new LocalForge({ root: join(home, 'forge'), repositoryPaths });
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
        egressEndpoints: grantEgress(homeSettings.egress ?? defaultRegistryAllowlist).endpoints,
        ...options.settings,
      };
      await mkdir(settings.workspacesDir, { recursive: true });
      // Each run workspace is a size-limited file system of its own; after a reboot the ones still on
      // disk are mounted again, and what a crash left half-made is cleaned up.
      const disks = await WorkspaceDisks.open({
        home,
        ...(homeSettings.workspaceDisk ? { settings: homeSettings.workspaceDisk } : {}),
      });
      await disks.sweep({ keep: await workspaceDirs(settings.workspacesDir), remount: false });
      const workspaces = new DiskWorkspaceStorage(disks, settings.workspacesDir);
      const services = await loadServicesIfAny(join(policies, 'services'));
      const deployer = new LocalDeployer({
        forge,
        records: log,
        specs: services,
        root: join(home, 'deploy'),
      });
      // Approval decisions are signed with the platform key as they are recorded and checked as they
      // are read; the key stays in the home, outside every workspace a sandbox sees.
      const platformKey = await loadOrCreatePlatformKey(join(home, PLATFORM_KEY_FILE), {
        outside: [settings.workspacesDir],
      });
      const base = {
        log,
        records: new SignedApprovalRecords(log, platformKey),
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
        workspaces,
      };
      const delivery = {
        deployer,
        services,
        requestsDir: join(home, 'requests'),
        queueDir: join(home, 'merge-queue'),
      };
      return new Gantry(home, engines, log, artifacts, base, unlock, options.instrument, delivery);
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
    await this.base.records.put('run-model', runId, { spec: modelSpec });
    await recordNewRun(deps, { runId, traceId }, request, raw);
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

  /**
   * Routes a production alarm as the AWS alarm router does: traces it to the deployment it concerns,
   * that deployment's pull request and run, opens an incident (one per deployment) and runs the rollback
   * workflow for it. An alarm on a deployment Gantry did not make, or on a rollback's own redeploy, opens
   * the incident for a person and starts nothing.
   */
  async handleAlarm(signal: AlarmSignal): Promise<{ incident: Incident; rollback?: RunOutcome }> {
    const deployer = this.delivery?.deployer;
    const deployment = signal.deploymentId
      ? ((await deployer?.history(signal.service, signal.environment)) ?? []).find(
          (d) => d.id === signal.deploymentId,
        )
      : await deployer?.current(signal.service, signal.environment);
    if (!deployment) {
      throw new InvalidInputError(
        `no ${signal.environment} deployment of ${signal.service} matches alarm ${signal.alarm}`,
        {
          input: signal.deploymentId ?? signal.service,
          hint: 'list deployments with `gantry deployments`; Gantry rolls back only what it deployed',
        },
      );
    }
    const deps = await this.deps(noModel);
    const existing = await this.base.records.get<Incident>(INCIDENT_KIND, `inc-${deployment.id}`);
    const offending = await this.log.getRunSummary(deployment.runId);
    const offendingEvents = offending ? await this.log.read(deployment.runId) : [];
    const received = offendingEvents.find((e) => e.type === 'request.received');
    const offendingRequest = received?.type === 'request.received' ? received.data.request : undefined;
    const context = offendingEvents.find((e) => e.type === 'context.built');
    const incident: Incident = existing ?? {
      id: `inc-${deployment.id}`,
      source: 'alarm',
      service: deployment.service,
      repository: offendingRequest?.repository.name ?? deployment.service,
      environment: deployment.environment,
      deploymentId: deployment.id,
      commit: deployment.commit,
      ...(deployment.pullRequest !== undefined ? { pullRequest: deployment.pullRequest } : {}),
      offendingRun: deployment.runId,
      testCommand: context?.type === 'context.built' ? (context.data.testCommand ?? null) : null,
      detectedAt: signal.at,
      summary: this.base.redactor.redact(
        `alarm ${signal.alarm} on ${deployment.service} ${deployment.environment}: ${signal.reason}`,
      ).text,
      figures: [{ label: `alarm ${signal.alarm}`, reasons: [this.base.redactor.redact(signal.reason).text] }],
      status: 'open',
    };
    if (!existing) await saveIncident(this.base.records, incident);
    if (offendingRequest?.capability === 'rollback' || !offending) {
      const note = !offending
        ? `deployment ${deployment.id} was not made by a Gantry run: a person decides`
        : "the alarm is on a rollback's own redeploy: a person decides";
      return { incident: await handToPeople(this.base, incident, note) };
    }
    if (existing && existing.status !== 'open') return { incident: existing };
    const child = { runId: rollbackRunIdFor(incident.id), traceId: offending.traceId };
    await recordNewRun(deps, child, rollbackRequestFor(incident, this.base.now().toISOString()));
    await saveIncident(this.base.records, { ...incident, status: 'rolling-back', rollbackRun: child.runId });
    const rollback = await this.execute(deps, child.runId, child.traceId);
    return { incident: await requireIncident(this.base.records, incident.id), rollback };
  }

  /**
   * The health routine: runs each known repository's tests on its default branch in the sandbox, probes
   * every deployed service (and measures production under its traffic mix for `observeMs`), reads the
   * pending approvals and the runs, and files one engineering request per problem a change can fix
   * (written to `.gantry/requests/`, recorded in the control-plane log, never twice for one problem).
   */
  async health(options: { observeMs?: number; file?: boolean } = {}): Promise<{
    report: HealthReport;
    filed: { key: string; requestId: string; file: string }[];
    /** Embedded deployments stopped with the Gantry process that ran them. */
    stopped: string[];
  }> {
    const now = this.base.now();
    const deps = await this.deps(noModel);
    const runs = await this.log.listRuns({ limit: 200 });
    const checks: HealthInput['checks'] = [];
    const testCommands = new Map<string, string[]>();
    for (const run of runs) {
      if (testCommands.has(run.repository)) continue;
      const context = (await this.log.read(run.runId)).find((e) => e.type === 'context.built');
      if (context?.type === 'context.built' && context.data.testCommand?.length) {
        testCommands.set(run.repository, context.data.testCommand);
      }
    }
    for (const [repository, argv] of testCommands) {
      const head = await this.base.forge.defaultHead(repository).catch(() => undefined);
      if (!head) continue;
      const dir = join(this.home, 'health', `${repository}-${head.commit.slice(0, 12)}`);
      await removeWorkTree(dir);
      await mkdir(dir, { recursive: true });
      try {
        await this.base.forge.checkout(repository, head.commit, dir);
        const result = await deps.sandbox.run({
          argv,
          workspace: dir,
          limits: this.base.settings.sandboxLimits,
        });
        const passed = result.exitCode === 0 && !result.limitHit;
        checks.push({
          repository,
          branch: head.branch,
          commit: head.commit,
          name: argv.join(' '),
          passed,
          at: this.base.now().toISOString(),
          ...(passed
            ? {}
            : { detail: this.base.redactor.redact(`${result.stdout}${result.stderr}`.slice(-1500)).text }),
        });
      } finally {
        await removeWorkTree(dir);
      }
    }
    const services: HealthInput['services'] = [];
    const stopped: string[] = [];
    for (const status of await this.deployments()) {
      // The embedded services live as long as the Gantry process that started them: one stopped with
      // its process is not an outage to file a fix for, but it is not serving either, and it says so.
      if (!status.up && status.deployment?.status === 'stopped') {
        stopped.push(
          `${status.service} ${status.environment} (${status.deployment.id}, commit ${status.deployment.commit.slice(0, 12)})`,
        );
        continue;
      }
      let stats: HealthInput['services'][number]['stats'];
      if (status.up && status.environment === 'production' && (options.observeMs ?? 0) > 0) {
        stats = (await this.delivery?.deployer.observe(status.service, options.observeMs ?? 0))?.stats;
      }
      services.push({
        service: status.service,
        environment: status.environment,
        up: status.up,
        detail: status.detail,
        ...(status.deployment
          ? { deploymentId: status.deployment.id, commit: status.deployment.commit }
          : {}),
        ...(stats ? { stats } : {}),
      });
    }
    const pendingApprovals = (await this.pendingApprovals()).map((a) => ({
      approvalId: a.id,
      runId: a.runId,
      kind: a.kind,
      requestedAt: a.requestedAt,
      expiresAt: a.expiresAt,
    }));
    const report = assessHealth({ now: now.toISOString(), runs, pendingApprovals, services, checks });
    const filed: { key: string; requestId: string; file: string }[] = [];
    if (options.file === false) return { report, filed, stopped };
    const already = (
      await this.base.records.list<{ key: string; requestId: string }>('health-filed')
    ).flatMap((r) => [r.key, r.requestId]);
    const repositoryFor = (service: string) => this.delivery?.services.get(service)?.repository ?? service;
    const requestsDir = this.delivery?.requestsDir ?? join(this.home, 'requests');
    for (const request of attentionRequests(report, { alreadyFiled: already, repositoryFor })) {
      const item = report.attention.find((a) => attentionRequestId(a.key) === request.id);
      if (!item || !request.id) continue;
      const { file, artifact } = await writeFiledRequest(
        this.base,
        requestsDir,
        request.id,
        `Filed by gantry health: ${item.summary}`,
        request,
      );
      await this.base.records.put('health-filed', item.key, {
        key: item.key,
        requestId: request.id,
        file,
        artifact,
        filedAt: now.toISOString(),
      });
      await this.log.append({
        runId: CONTROL_PLANE_LOG,
        key: `health:${request.id}`,
        type: 'request.filed',
        traceId: '0'.repeat(32),
        actor: { kind: 'system', id: 'gantry-health' },
        policyVersion: this.base.policyVersion,
        data: { requestId: request.id, title: request.title, artifact, reason: item.summary },
      });
      filed.push({ key: item.key, requestId: request.id, file });
    }
    return { report, filed, stopped };
  }

  async incidents(): Promise<Incident[]> {
    return listIncidents(this.base.records);
  }

  /** Every service and environment the embedded deployer knows, probed now. */
  async deployments() {
    return (await this.delivery?.deployer.status()) ?? [];
  }

  async close(): Promise<void> {
    await this.delivery?.deployer.stop();
    await this.workspaces.disks.detach();
    await this.engines.stop();
    await this.unlock();
  }

  private async execute(deps: StepDeps, runId: string, traceId: string): Promise<RunOutcome> {
    const journal = await journalFor(deps, { runId, traceId });
    // A rollback run resumes as the rollback workflow; every other run is the issue resolver.
    const definition = workflowFor(journal.find('request', 'request.received')?.data.request);
    await this.workspaces.resume(join(this.base.settings.workspacesDir, runId));
    const result = await this.executeWorkflow(deps, { runId, traceId }, definition);
    const outcome = await this.outcome(runId, result.status === 'waiting' ? result.approvalId : undefined);
    await this.releaseWorkspace(outcome);
    return outcome;
  }

  /**
   * Removes a run's workspace once the run can no longer use it: a failed, rejected or aborted run at
   * once, a finished one when its pull request is merged or closed (or it never opened one).
   */
  private async releaseWorkspace(outcome: RunOutcome): Promise<void> {
    const decision = await this.retentionOf(outcome.summary);
    if (decision.action === 'remove') await this.removeWorkspace(outcome.runId);
  }

  /** What the retention rules say of a run's workspace now, with its pull request's state from the forge. */
  private async retentionOf(summary: RunSummary): Promise<RetentionDecision> {
    const journal = await journalFor(this.base as StepDeps, {
      runId: summary.runId,
      traceId: summary.traceId,
    });
    const opened = journal.events().find((event) => event.type === 'pr.opened');
    const pull =
      opened?.type === 'pr.opened'
        ? await this.base.forge.getPullRequest(summary.repository, opened.data.number).catch(() => undefined)
        : undefined;
    const pullRequest = !pull
      ? 'none'
      : pull.state === 'open'
        ? 'open'
        : pull.state === 'merged'
          ? 'merged'
          : 'closed';
    const [decision] = decideWorkspaceRetention([
      { runId: summary.runId, state: summary.state, pullRequest },
    ]);
    return decision ?? { runId: summary.runId, action: 'keep', reason: 'no decision' };
  }

  private async removeWorkspace(runId: string): Promise<void> {
    const workspace = join(this.base.settings.workspacesDir, runId);
    await this.workspaces.remove(workspace);
    await removeWorkTree(workspace);
  }

  /**
   * The run workspaces this home holds, each with its disk's use and what retention says of it; with
   * `prune`, the ones retention no longer keeps are removed (a pull request closed or merged since).
   *
   * @example
   * const report = await gantry.workspaceReport({ prune: true });
   */
  async workspaceReport(options: { prune?: boolean } = {}): Promise<
    {
      runId: string;
      state?: RunState;
      action: 'keep' | 'remove';
      reason: string;
      mode?: string;
      limitBytes?: number;
      usedBytes?: number;
      removed: boolean;
    }[]
  > {
    const report = [];
    for (const dir of await workspaceDirs(this.base.settings.workspacesDir)) {
      const runId = basename(dir);
      const summary = await this.log.getRunSummary(runId);
      const decision = summary
        ? await this.retentionOf(summary)
        : { runId, action: 'remove' as const, reason: 'no run of this home has that id' };
      const usage = (await this.workspaces.disks.has(dir))
        ? await this.workspaces.disks.usage(dir).catch(() => undefined)
        : undefined;
      const removed = options.prune === true && decision.action === 'remove';
      if (removed) await this.removeWorkspace(runId);
      report.push({
        runId,
        ...(summary ? { state: summary.state } : {}),
        action: decision.action,
        reason: decision.reason,
        ...(usage ? { mode: usage.mode, limitBytes: usage.limitBytes, usedBytes: usage.usedBytes } : {}),
        removed,
      });
    }
    return report;
  }

  /** Runs one execution of a workflow for a run, every Task calling its step in-process. */
  private async executeWorkflow(deps: StepDeps, run: RunRef, definition: StateMachineDefinition) {
    const journal = await journalFor(deps, run);
    // Every step but the ones that record the end first checks the kill switches and the budget.
    const guarded =
      <I>(step: (deps: StepDeps, input: I) => Promise<unknown>): StepHandler =>
      async (input) => {
        await assertRunMayContinue(deps, await journalFor(deps, (input as { run: RunRef }).run ?? run));
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
      reviewPullRequest: guarded(reviewPullRequest),
      decideMerge: guarded(decideMerge),
      mergeChange: guarded(mergeChange),
      prepareRelease: guarded(prepareRelease),
      deployStaging: guarded(deployStaging),
      rollOutProduction: guarded(rollOutProduction),
      observeProduction: guarded(observeProduction),
      startRollback: guarded(startRollback),
      runRollback: async (input) => {
        // The nested execution: the rollback workflow for the run startRollback recorded.
        const child = (input as { run: RunRef }).run;
        const outcome = await this.executeWorkflow(deps, child, buildRollback());
        if (outcome.status === 'failed') {
          const error = new Error(`the rollback run ${child.runId} failed: ${outcome.cause}`);
          error.name = outcome.error;
          throw error;
        }
        return { runId: child.runId };
      },
      finishRollback: (input) => finishRollback(deps, input as never),
      revertChange: guarded(revertChange),
      openRevertPullRequest: guarded(openRevertPullRequest),
      redeploy: guarded(redeploy),
      confirmRecovery: guarded(confirmRecovery),
      fileFixForward: guarded(fileFixForward),
      escalateRollback: (input) => escalateRollback(deps, input as never),
    };
    const result = await executeLocally({
      definition,
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
    return result;
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
      const sandbox = new DiskLimitedSandbox(await createSandbox(), this.workspaces);
      this.sandbox = this.instrument?.sandbox ? this.instrument.sandbox(sandbox) : sandbox;
    }
    forgetJournals(this.base as StepDeps);
    if (this.delivery && !this.mergeQueue) {
      this.mergeQueue = new MergeQueue({
        forge: this.base.forge,
        records: this.base.records,
        sandbox: this.sandbox,
        workDir: this.delivery.queueDir,
        now: this.base.now,
        testLimits: this.base.settings.sandboxLimits,
      });
    }
    const delivery =
      this.delivery && this.mergeQueue
        ? {
            deployer: this.delivery.deployer,
            mergeQueue: this.mergeQueue,
            services: this.delivery.services,
            requestsDir: this.delivery.requestsDir,
          }
        : undefined;
    return { ...this.base, model, sandbox: this.sandbox, delivery };
  }
}

export const openGantry = (options?: GantryOptions) => Gantry.open(options);

/** The service specs under `dir`; none when the directory does not exist (a policies dir without services). */
async function loadServicesIfAny(dir: string): Promise<Map<string, ServiceSpec>> {
  try {
    await stat(dir);
  } catch {
    return new Map();
  }
  return loadServiceSpecs(dir);
}

/** Rollback runs call no model: a port that says so if anything asks. */
const noModel: ModelPort = {
  id: 'none',
  converse: async () => {
    throw new GantryError('this run has no model: rollback follows its runbook without one', {
      hint: 'a rollback never asks a model; this is a bug if you see it',
    });
  },
};

/** The run workspaces a home holds (their git directories beside them left out). */
async function workspaceDirs(workspacesDir: string): Promise<string[]> {
  const entries = await readdir(workspacesDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.endsWith('.git'))
    .map((e) => join(workspacesDir, e.name));
}
