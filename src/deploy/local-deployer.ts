import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { monotonicFactory } from 'ulid';
import { GantryError, InvalidInputError } from '../domain/errors.js';
import type {
  AlarmSignal,
  DeployEnvironment,
  Deployer,
  Deployment,
  Observation,
  ReleaseTarget,
  RolloutResult,
  ServiceStatus,
  StagingResult,
  StepAnalysis,
  WindowStats,
} from '../ports/deployer.js';
import type { RecordStore } from '../ports/event-log.js';
import type { Forge } from '../ports/forge.js';
import { type AnalysisTally, analyseStep } from './analysis.js';
import { DeploymentRecords } from './deployment-records.js';
import { DeploymentFailedError } from './errors.js';
import { describeOutcome, probe } from './http-probe.js';
import { generateLoad } from './load-generator.js';
import { type ServiceProcess, startServiceProcess } from './service-process.js';
import type { ServiceSpec, ServiceSpecs } from './service-spec.js';
import { runSmokeChecks } from './smoke-checks.js';
import { TrafficRouter } from './traffic-router.js';
import { EMPTY_WINDOW } from './window-stats.js';

export interface LocalDeployerOptions {
  forge: Pick<Forge, 'checkout'>;
  records: RecordStore;
  /** Service specs by service name (loadServiceSpecs). */
  specs: ServiceSpecs;
  /** Directory for the checkouts, one per deployment: `<root>/<service>/<environment>/<id>`. */
  root: string;
  now?: () => Date;
  log?: (line: string) => void;
  /** How long a new version has to answer 200 on its health path; default 10 s. */
  healthTimeoutMs?: number;
}

/** A version this process started and still runs. */
interface RunningVersion {
  deployment: Deployment;
  process: ServiceProcess;
  dir: string;
}

/** Production of one service: a stable router endpoint in front of the stable version and, during a rollout, a canary. */
interface ProductionSlot {
  router: TrafficRouter;
  stable?: RunningVersion;
  canary?: RunningVersion;
}

type VersionSource = Pick<ReleaseTarget, 'repository' | 'commit' | 'runId' | 'pullRequest'>;

const nextId = monotonicFactory();

/**
 * The embedded deployer: runs each version of a target service as a child process on loopback. Staging
 * is one instance per service; production is a traffic router per service whose endpoint never changes,
 * in front of the stable version and, while a rollout runs, a canary that takes each step's share of the
 * synthetic traffic and is judged against the stable version. Deployments are kept in the record store
 * so another process can trace an alarm to its deployment, run and pull request. Every child is stopped
 * by `stop()` and killed when the Gantry process exits.
 *
 * @example
 * const deployer = new LocalDeployer({ forge, records, specs: await loadServiceSpecs(), root: '.gantry/deploy' });
 * const staging = await deployer.deployStaging({ service: 'billing-service', repository: 'billing-service', commit, runId });
 * const rollout = await deployer.rollOut({ ...target, baselineCommit }, { onStep: (analysis) => console.log(analysis.verdict) });
 * await deployer.stop();
 */
export class LocalDeployer implements Deployer {
  readonly kind = 'local';
  private readonly deployments: DeploymentRecords;
  private readonly now: () => Date;
  private readonly staging = new Map<string, RunningVersion>();
  private readonly production = new Map<string, ProductionSlot>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: LocalDeployerOptions) {
    this.deployments = new DeploymentRecords(options.records);
    this.now = options.now ?? (() => new Date());
  }

  async deployStaging(target: ReleaseTarget): Promise<StagingResult> {
    const spec = this.specFor(target);
    return this.serialised(`${spec.name}/staging`, async () => {
      const version = await this.startVersion(spec, 'staging', target);
      const old = this.staging.get(spec.name);
      this.staging.set(spec.name, version);
      await this.deployments.makeCurrent(version.deployment, this.now());
      if (old) await this.retire(old, 'superseded', `replaced on staging by ${version.deployment.id}`);
      const smoke = await runSmokeChecks(version.process.endpoint, spec.smoke);
      this.say(
        spec,
        'staging',
        `smoke checks ${smoke.passed ? 'passed' : 'FAILED'} on ${version.deployment.id}`,
      );
      return { deployment: version.deployment, smoke };
    });
  }

  async rollOut(
    target: ReleaseTarget,
    options: { onStep?: (analysis: StepAnalysis) => Promise<void> | void } = {},
  ): Promise<RolloutResult> {
    const spec = this.specFor(target);
    return this.serialised(`${spec.name}/production`, async () => {
      const slot = await this.productionSlot(spec);
      const previous = slot.stable ?? (await this.startBaseline(spec, slot, target));
      let canary: RunningVersion;
      try {
        canary = await this.startVersion(spec, 'production', target, slot.router);
      } catch (error) {
        if (!(error instanceof DeploymentFailedError) || !error.deployment) throw error;
        return {
          outcome: 'aborted',
          deployment: error.deployment,
          previous: previous.deployment,
          analyses: [],
          reason: `the new version never took traffic: ${error.message}`,
          detectedAt: this.now().toISOString(),
        };
      }
      slot.canary = canary;
      try {
        return await this.runSteps(spec, slot, previous, canary, options.onStep);
      } catch (error) {
        // Whatever broke mid-rollout, production goes back to the version that served before it.
        if (slot.canary === canary)
          await this.abandonCanary(slot, previous, canary, `rollout failed: ${error}`);
        throw error;
      }
    });
  }

  async redeploy(target: ReleaseTarget): Promise<StagingResult> {
    const spec = this.specFor(target);
    return this.serialised(`${spec.name}/production`, async () => {
      const slot = await this.productionSlot(spec);
      const version = await this.startVersion(spec, 'production', target, slot.router);
      const { stable: old, canary } = slot;
      slot.router.route({ stable: backendOf(version), canaryPercent: 0 });
      slot.stable = version;
      slot.canary = undefined;
      await this.deployments.makeCurrent(version.deployment, this.now());
      const replaced = `replaced at once by ${version.deployment.id} (redeploy)`;
      if (canary) await this.retire(canary, 'aborted', replaced);
      if (old) await this.retire(old, 'superseded', replaced);
      const smoke = await runSmokeChecks(slot.router.endpoint, spec.smoke);
      this.say(
        spec,
        'production',
        `redeployed ${version.deployment.id}; smoke ${smoke.passed ? 'passed' : 'FAILED'}`,
      );
      return { deployment: version.deployment, smoke };
    });
  }

  async observe(service: string, windowMs: number): Promise<Observation> {
    const spec = this.specs(service);
    return this.serialised(`${service}/production`, async () => {
      const deployment = await this.deployments.current(service, 'production');
      if (!deployment) {
        throw new GantryError(
          `nothing has been deployed to production for ${service}, so there is nothing to observe`,
          {
            input: service,
            hint: 'roll a commit out (or redeploy one) before observing production',
          },
        );
      }
      const slot = this.production.get(service);
      let stats: WindowStats = { ...EMPTY_WINDOW };
      if (slot?.stable) {
        const report = await generateLoad({
          endpoint: slot.router.endpoint,
          mix: spec.traffic.mix,
          requestsPerSecond: spec.traffic.requestsPerSecond,
          durationMs: windowMs,
        });
        stats = report.stats;
      }
      const health = await probe(deployment.endpoint, {
        method: 'GET',
        path: spec.healthPath,
        expectStatus: 200,
      });
      const at = this.now().toISOString();
      const thresholds = spec.observe.alarms;
      const alarm = (
        metric: AlarmSignal['metric'],
        value: number,
        threshold: number,
        reason: string,
      ): AlarmSignal => ({
        alarm: `${service}-production-${metric}`,
        service,
        environment: 'production',
        state: 'ALARM',
        metric,
        value,
        threshold,
        reason,
        at,
        deploymentId: deployment.id,
      });
      const alarms: AlarmSignal[] = [];
      if (stats.errorRate > thresholds.errorRate) {
        alarms.push(
          alarm(
            'error-rate',
            stats.errorRate,
            thresholds.errorRate,
            `error rate ${(stats.errorRate * 100).toFixed(1)}% (${stats.errors} of ${stats.requests} requests) over ${windowMs} ms is above ${(thresholds.errorRate * 100).toFixed(1)}%`,
          ),
        );
      }
      if (stats.latencyP95Ms > thresholds.latencyP95Ms) {
        alarms.push(
          alarm(
            'latency-p95',
            stats.latencyP95Ms,
            thresholds.latencyP95Ms,
            `p95 latency ${Math.round(stats.latencyP95Ms)} ms over ${windowMs} ms is above ${thresholds.latencyP95Ms} ms`,
          ),
        );
      }
      if (!health.ok) {
        alarms.push(
          alarm(
            'health',
            1,
            0,
            `GET ${spec.healthPath} on ${deployment.endpoint}: ${describeOutcome(health, 200)}`,
          ),
        );
      }
      for (const raised of alarms) this.say(spec, 'production', `ALARM ${raised.alarm}: ${raised.reason}`);
      return { healthy: alarms.length === 0, stats, alarms };
    });
  }

  current(service: string, environment: DeployEnvironment): Promise<Deployment | undefined> {
    return this.deployments.current(service, environment);
  }

  history(service: string, environment: DeployEnvironment): Promise<Deployment[]> {
    return this.deployments.history(service, environment);
  }

  async status(): Promise<ServiceStatus[]> {
    const statuses: ServiceStatus[] = [];
    for (const spec of this.options.specs.values()) {
      for (const environment of ['staging', 'production'] as const) {
        const deployment = await this.deployments.current(spec.name, environment);
        if (!deployment) continue;
        if (deployment.status !== 'live') {
          statuses.push({
            service: spec.name,
            environment,
            deployment,
            up: false,
            detail: `${deployment.id} is ${deployment.status}${deployment.endReason ? `: ${deployment.endReason}` : ''}`,
          });
          continue;
        }
        const health = await probe(deployment.endpoint, {
          method: 'GET',
          path: spec.healthPath,
          expectStatus: 200,
        });
        statuses.push({
          service: spec.name,
          environment,
          deployment,
          up: health.ok,
          detail: `GET ${spec.healthPath} ${describeOutcome(health, 200)}`,
        });
      }
    }
    return statuses;
  }

  async stop(): Promise<void> {
    const reason = 'the Gantry process that ran it stopped';
    const stopping: Promise<unknown>[] = [];
    for (const version of this.staging.values()) stopping.push(this.retire(version, 'stopped', reason));
    for (const slot of this.production.values()) {
      if (slot.canary) stopping.push(this.retire(slot.canary, 'stopped', reason));
      if (slot.stable) stopping.push(this.retire(slot.stable, 'stopped', reason));
      stopping.push(slot.router.close());
    }
    this.staging.clear();
    this.production.clear();
    await Promise.all(stopping);
  }

  private async runSteps(
    spec: ServiceSpec,
    slot: ProductionSlot,
    previous: RunningVersion,
    canary: RunningVersion,
    onStep: ((analysis: StepAnalysis) => Promise<void> | void) | undefined,
  ): Promise<RolloutResult> {
    const { steps, intervalSeconds, analysis: rules } = spec.rollout;
    const intervalMs = intervalSeconds * 1000;
    const analyses: StepAnalysis[] = [];
    let tally: AnalysisTally = { failures: 0, pauses: 0 };
    // At 100% the canary takes all traffic: it is judged against the stable version's last window.
    let lastStableWindow: WindowStats | undefined;
    for (const [index, trafficPercent] of steps.entries()) {
      for (let attempt = 1; ; attempt++) {
        slot.router.route({
          stable: backendOf(previous),
          canary: backendOf(canary),
          canaryPercent: trafficPercent,
        });
        slot.router.openWindow();
        await generateLoad({
          endpoint: slot.router.endpoint,
          mix: spec.traffic.mix,
          requestsPerSecond: spec.traffic.requestsPerSecond,
          durationMs: intervalMs,
        });
        const window = slot.router.closeWindow();
        if (window.stable.requests > 0) lastStableWindow = window.stable;
        const baseline = trafficPercent < 100 ? window.stable : (lastStableWindow ?? window.stable);
        const judgement = analyseStep(window.canary, baseline, rules, tally);
        const concludedAt = this.now().toISOString();
        tally = judgement.tally;
        const analysis: StepAnalysis = {
          step: index + 1,
          trafficPercent,
          attempt,
          verdict: judgement.verdict,
          canary: window.canary,
          baseline,
          reasons: judgement.reasons,
          intervalMs,
        };
        analyses.push(analysis);
        this.say(
          spec,
          'production',
          `step ${index + 1} (${trafficPercent}%) attempt ${attempt}: ${analysis.verdict}`,
        );
        await onStep?.(analysis);
        if (analysis.verdict === 'promote') break;
        if (analysis.verdict === 'abort') {
          const reason = `aborted at step ${index + 1} (${trafficPercent}% of traffic): ${analysis.reasons.join('; ')}`;
          const aborted = await this.abandonCanary(slot, previous, canary, reason);
          return {
            outcome: 'aborted',
            deployment: aborted,
            previous: previous.deployment,
            analyses,
            reason,
            detectedAt: concludedAt,
          };
        }
      }
    }
    slot.router.route({ stable: backendOf(canary), canaryPercent: 0 });
    slot.stable = canary;
    slot.canary = undefined;
    await this.deployments.makeCurrent(canary.deployment, this.now());
    const superseded = await this.retire(previous, 'superseded', `superseded by ${canary.deployment.id}`);
    return {
      outcome: 'promoted',
      deployment: canary.deployment,
      previous: superseded,
      analyses,
      reason: `promoted through ${steps.map((step) => `${step}%`).join(', ')} of traffic, every analysis within limits`,
    };
  }

  /** Sends all traffic back to the stable version and retires the canary as aborted. */
  private async abandonCanary(
    slot: ProductionSlot,
    stable: RunningVersion,
    canary: RunningVersion,
    reason: string,
  ): Promise<Deployment> {
    slot.router.route({ stable: backendOf(stable), canaryPercent: 0 });
    slot.canary = undefined;
    return this.retire(canary, 'aborted', reason);
  }

  /** Production has nothing running here: start what it last ran (from the records), else the target's baseline. */
  private async startBaseline(
    spec: ServiceSpec,
    slot: ProductionSlot,
    target: ReleaseTarget,
  ): Promise<RunningVersion> {
    const recorded = await this.deployments.current(spec.name, 'production');
    const source: VersionSource | undefined = recorded
      ? {
          repository: target.repository,
          commit: recorded.commit,
          runId: recorded.runId,
          pullRequest: recorded.pullRequest,
        }
      : target.baselineCommit
        ? { repository: target.repository, commit: target.baselineCommit, runId: target.runId }
        : undefined;
    if (!source) {
      throw new InvalidInputError(
        `production of ${spec.name} runs nothing yet and the rollout names no baseline to compare the new version with`,
        {
          input: target.runId,
          hint: 'pass baselineCommit (the default branch before this change), or redeploy a commit to production first',
        },
      );
    }
    const stable = await this.startVersion(spec, 'production', source, slot.router);
    slot.router.route({ stable: backendOf(stable), canaryPercent: 0 });
    slot.stable = stable;
    await this.deployments.makeCurrent(stable.deployment, this.now());
    return stable;
  }

  private async productionSlot(spec: ServiceSpec): Promise<ProductionSlot> {
    let slot = this.production.get(spec.name);
    if (!slot) {
      slot = { router: await TrafficRouter.start() };
      this.production.set(spec.name, slot);
      this.say(spec, 'production', `traffic router on ${slot.router.endpoint}`);
    }
    return slot;
  }

  /** Checks the commit out and starts it; a version that never becomes healthy is recorded aborted. */
  private async startVersion(
    spec: ServiceSpec,
    environment: DeployEnvironment,
    source: VersionSource,
    router?: TrafficRouter,
  ): Promise<RunningVersion> {
    const id = `dep-${nextId().toLowerCase()}`;
    const dir = path.join(this.options.root, spec.name, environment, id);
    await mkdir(dir, { recursive: true });
    let commit: string;
    try {
      commit = await this.options.forge.checkout(source.repository, source.commit, dir);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const deployment: Deployment = {
      id,
      service: spec.name,
      environment,
      commit,
      runId: source.runId,
      ...(source.pullRequest === undefined ? {} : { pullRequest: source.pullRequest }),
      endpoint: router?.endpoint ?? '',
      startedAt: this.now().toISOString(),
      status: 'live',
    };
    let service: ServiceProcess;
    try {
      service = await startServiceProcess({
        command: spec.start.command,
        cwd: dir,
        healthPath: spec.healthPath,
        healthTimeoutMs: this.options.healthTimeoutMs,
        label: `${spec.name} ${environment} ${id} (commit ${commit.slice(0, 12)})`,
      });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      if (!(error instanceof DeploymentFailedError)) throw error;
      const aborted: Deployment = {
        ...deployment,
        status: 'aborted',
        endedAt: this.now().toISOString(),
        endReason: error.message,
      };
      await this.deployments.save(aborted);
      throw new DeploymentFailedError(error.message, {
        input: error.input,
        hint: error.hint,
        cause: error,
        deployment: aborted,
      });
    }
    deployment.instanceEndpoint = service.endpoint;
    if (!router) deployment.endpoint = service.endpoint;
    await this.deployments.save(deployment);
    this.say(spec, environment, `started ${id} (commit ${commit.slice(0, 12)}) on ${service.endpoint}`);
    return { deployment, process: service, dir };
  }

  /** Stops a version, records how it ended and removes its checkout. */
  private async retire(
    version: RunningVersion,
    status: 'superseded' | 'aborted' | 'stopped',
    reason: string,
  ): Promise<Deployment> {
    await version.process.stop();
    await rm(version.dir, { recursive: true, force: true });
    const ended: Deployment = {
      ...version.deployment,
      status,
      endedAt: this.now().toISOString(),
      endReason: reason,
    };
    version.deployment = ended;
    await this.deployments.save(ended);
    this.say(ended, ended.environment, `${ended.id} ${status}: ${reason}`);
    return ended;
  }

  private specFor(target: ReleaseTarget): ServiceSpec {
    const spec = this.specs(target.service);
    if (spec.repository !== target.repository) {
      throw new InvalidInputError(
        `${target.service} is built from the repository ${spec.repository}, not ${target.repository}`,
        {
          input: target.repository,
          hint: `deploy a commit of ${spec.repository}, or fix repository in its service spec`,
        },
      );
    }
    return spec;
  }

  private specs(service: string): ServiceSpec {
    const spec = this.options.specs.get(service);
    if (!spec) {
      throw new InvalidInputError(`no service spec for "${service}"`, {
        input: service,
        hint: `add policies/services/${service}.yaml; known services: ${[...this.options.specs.keys()].join(', ') || 'none'}`,
      });
    }
    return spec;
  }

  /** Runs one operation at a time per service and environment: two rollouts must not share a router. */
  private serialised<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const before = this.queues.get(key) ?? Promise.resolve();
    const result = before.then(operation, operation);
    this.queues.set(
      key,
      result.catch(() => undefined),
    );
    return result;
  }

  private say(
    where: { name?: string; service?: string },
    environment: DeployEnvironment,
    line: string,
  ): void {
    this.options.log?.(`${where.name ?? where.service} ${environment}: ${line}`);
  }
}

function backendOf(version: RunningVersion): { deploymentId: string; endpoint: string } {
  return { deploymentId: version.deployment.id, endpoint: version.process.endpoint };
}
