import {
  type CodePipelineClient,
  GetPipelineExecutionCommand,
  type PipelineExecutionStatus,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { monotonicFactory } from 'ulid';
import { DeploymentRecords } from '../../deploy/deployment-records.js';
import { DeploymentFailedError } from '../../deploy/errors.js';
import { EMPTY_WINDOW } from '../../deploy/window-stats.js';
import { InvalidInputError } from '../../domain/errors.js';
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
} from '../../ports/deployer.js';
import type { RecordStore } from '../../ports/event-log.js';

/**
 * Record kind the alarm router (functions/alarm-router.ts) keeps CloudWatch alarm state changes under,
 * keyed `<alarm>@<time>`. Repeated here because src/ must not import functions/.
 */
export const ALARM_STATE_CHANGE_KIND = 'alarm-state-change';

/** The part of an alarm router record this deployer reads. */
interface AlarmStateChangeRecord {
  alarm: string;
  state: string;
  reason?: string;
  at: string;
}

/** One of the target's pipelines. */
export interface PipelineRef {
  /** The CodePipeline pipeline name. */
  name: string;
  /** The source action whose revision is pinned to the commit; default `Source`. */
  sourceActionName?: string;
  /** Where the environment answers, kept on the deployment record; default `codepipeline:<name>`. */
  endpoint?: string;
}

/** One CloudWatch alarm that watches the service in production. */
export interface WatchedAlarm {
  name: string;
  metric: AlarmSignal['metric'];
}

/** The pipelines and alarms of one service. */
export interface PipelineService {
  staging: PipelineRef;
  /** Runs the progressive rollout (its own canary steps and alarm-based rollback). */
  production: PipelineRef;
  /** Puts a commit in production at once (a rollback's redeploy); default the production pipeline, told so by a variable. */
  redeploy?: PipelineRef;
  /**
   * Alarms watching production; default every recorded alarm named `<service>-…` except
   * `<service>-staging-…` (the convention `<service>-<environment>-<what>`, e.g. `billing-service-production-5xx`).
   */
  alarms?: WatchedAlarm[];
}

/** How a deployment is asked for: progressively, or all at once. */
export type RolloutMode = 'progressive' | 'immediate';

export interface PipelineDeployerOptions {
  client: CodePipelineClient;
  records: RecordStore;
  /** Pipelines and alarms by service name. */
  services: Record<string, PipelineService>;
  /** How often an execution is polled; default 15 s. */
  pollIntervalMs?: number;
  /** How long an execution may run before the deployer gives up waiting; default one hour. */
  timeoutMs?: number;
  /**
   * The pipeline variables sent with each execution; default {@link defaultPipelineVariables}. A V2
   * pipeline refuses variables it does not declare: return `{}` to send only the source revision.
   */
  variables?: (
    target: ReleaseTarget,
    environment: DeployEnvironment,
    mode: RolloutMode,
  ) => Record<string, string>;
  now?: () => Date;
}

const FINISHED: ReadonlySet<PipelineExecutionStatus> = new Set([
  'Succeeded',
  'Failed',
  'Stopped',
  'Cancelled',
  'Superseded',
]);

const nextId = monotonicFactory();

/**
 * The variables Gantry sends by default: the commit, the run, the pull request and the rollout mode.
 *
 * @example
 * defaultPipelineVariables(target, 'production', 'immediate'); // { GANTRY_COMMIT: 'abc…', GANTRY_ROLLOUT: 'immediate', … }
 */
export function defaultPipelineVariables(
  target: ReleaseTarget,
  environment: DeployEnvironment,
  mode: RolloutMode,
): Record<string, string> {
  return {
    GANTRY_COMMIT: target.commit,
    GANTRY_RUN_ID: target.runId,
    GANTRY_ENVIRONMENT: environment,
    GANTRY_ROLLOUT: mode,
    ...(target.pullRequest === undefined ? {} : { GANTRY_PULL_REQUEST: String(target.pullRequest) }),
  };
}

/**
 * The deployer on AWS: the target's own CodePipeline pipelines ship the commit. Each operation starts an
 * execution with the commit as the source revision (and in variables), polls it until it finishes and
 * records the deployment. The pipeline owns the progressive steps and their alarms, so a rollout's
 * analyses are one synthetic step summarising the pipeline's result; CloudWatch alarm state changes
 * arrive on the bus, are kept by the alarm router, and `observe` reads them from the record store.
 *
 * @example
 * const deployer = new PipelineDeployer({
 *   client: new CodePipelineClient({}),
 *   records,
 *   services: { 'billing-service': { staging: { name: 'billing-staging' }, production: { name: 'billing-production' } } },
 * });
 * const rollout = await deployer.rollOut({ service: 'billing-service', repository: 'billing-service', commit, runId });
 */
export class PipelineDeployer implements Deployer {
  readonly kind = 'aws-codepipeline';
  private readonly deployments: DeploymentRecords;
  private readonly now: () => Date;

  constructor(private readonly options: PipelineDeployerOptions) {
    this.deployments = new DeploymentRecords(options.records);
    this.now = options.now ?? (() => new Date());
  }

  async deployStaging(target: ReleaseTarget): Promise<StagingResult> {
    const service = this.serviceFor(target.service);
    const execution = await this.runPipeline(service.staging, target, 'staging', 'progressive');
    const deployment = await this.record(execution, target, 'staging');
    return { deployment, smoke: pipelineSmoke(execution) };
  }

  async rollOut(
    target: ReleaseTarget,
    options: { onStep?: (analysis: StepAnalysis) => Promise<void> | void } = {},
  ): Promise<RolloutResult> {
    const service = this.serviceFor(target.service);
    const before = await this.deployments.current(target.service, 'production');
    const execution = await this.runPipeline(service.production, target, 'production', 'progressive');
    const concludedAt = this.now().toISOString();
    const succeeded = execution.status === 'Succeeded';
    const analysis: StepAnalysis = {
      step: 1,
      trafficPercent: 100,
      attempt: 1,
      verdict: succeeded ? 'promote' : 'abort',
      canary: { ...EMPTY_WINDOW },
      baseline: { ...EMPTY_WINDOW },
      reasons: [describeExecution(execution)],
      intervalMs: execution.elapsedMs,
    };
    await options.onStep?.(analysis);
    const deployment = await this.record(execution, target, 'production');
    const previous = before && (await this.deployments.get(before.id));
    return {
      outcome: succeeded ? 'promoted' : 'aborted',
      deployment,
      ...(previous ? { previous } : {}),
      analyses: [analysis],
      reason: describeExecution(execution),
      ...(succeeded ? {} : { detectedAt: concludedAt }),
    };
  }

  async redeploy(target: ReleaseTarget): Promise<StagingResult> {
    const service = this.serviceFor(target.service);
    const execution = await this.runPipeline(
      service.redeploy ?? service.production,
      target,
      'production',
      'immediate',
    );
    const deployment = await this.record(execution, target, 'production');
    return { deployment, smoke: pipelineSmoke(execution) };
  }

  /** Waits `windowMs` for alarm state changes to arrive, then reports the service's alarms whose latest state is ALARM. */
  async observe(service: string, windowMs: number): Promise<Observation> {
    const watched = this.serviceFor(service).alarms;
    if (windowMs > 0) await new Promise((resolve) => setTimeout(resolve, windowMs));
    const deployment = await this.deployments.current(service, 'production');
    const latest = new Map<string, AlarmStateChangeRecord>();
    for (const record of await this.options.records.list<AlarmStateChangeRecord>(ALARM_STATE_CHANGE_KIND)) {
      const belongs = watched
        ? watched.some((alarm) => alarm.name === record.alarm)
        : record.alarm.startsWith(`${service}-`) && !record.alarm.startsWith(`${service}-staging-`);
      if (!belongs) continue;
      const seen = latest.get(record.alarm);
      if (!seen || seen.at < record.at) latest.set(record.alarm, record);
    }
    const alarms: AlarmSignal[] = [];
    for (const record of latest.values()) {
      if (record.state !== 'ALARM') continue;
      const reason = record.reason ?? `${record.alarm} is in ALARM`;
      alarms.push({
        alarm: record.alarm,
        service,
        environment: 'production',
        state: 'ALARM',
        metric: watched?.find((alarm) => alarm.name === record.alarm)?.metric ?? metricOf(record.alarm),
        value: numberIn(reason, /\[(-?[\d.]+(?:[eE][-+]?\d+)?) \(/),
        threshold: numberIn(reason, /threshold \((-?[\d.]+(?:[eE][-+]?\d+)?)\)/),
        reason,
        at: record.at,
        ...(deployment ? { deploymentId: deployment.id } : {}),
      });
    }
    // The pipeline's alarms measure traffic in CloudWatch; nothing is measured here.
    return { healthy: alarms.length === 0, stats: { ...EMPTY_WINDOW }, alarms };
  }

  current(service: string, environment: DeployEnvironment): Promise<Deployment | undefined> {
    return this.deployments.current(service, environment);
  }

  history(service: string, environment: DeployEnvironment): Promise<Deployment[]> {
    return this.deployments.history(service, environment);
  }

  /** What the deployment records say: the last successful execution of each environment is taken as up. */
  async status(): Promise<ServiceStatus[]> {
    const statuses: ServiceStatus[] = [];
    for (const service of Object.keys(this.options.services)) {
      for (const environment of ['staging', 'production'] as const) {
        const deployment = await this.deployments.current(service, environment);
        if (!deployment) continue;
        const up = deployment.status === 'live';
        statuses.push({
          service,
          environment,
          deployment,
          up,
          detail: up
            ? `${deployment.id} (commit ${deployment.commit.slice(0, 12)}) deployed by its pipeline at ${deployment.startedAt}`
            : `${deployment.id} is ${deployment.status}`,
        });
      }
    }
    return statuses;
  }

  /** Nothing runs in this process: the pipelines and services live in the target's account. */
  async stop(): Promise<void> {}

  private async runPipeline(
    pipeline: PipelineRef,
    target: ReleaseTarget,
    environment: DeployEnvironment,
    mode: RolloutMode,
  ): Promise<FinishedExecution> {
    const variables = (this.options.variables ?? defaultPipelineVariables)(target, environment, mode);
    const startedAt = this.now();
    const started = Date.now();
    let executionId: string | undefined;
    try {
      const answer = await this.options.client.send(
        new StartPipelineExecutionCommand({
          name: pipeline.name,
          clientRequestToken: requestToken(target, environment, mode),
          sourceRevisions: [
            {
              actionName: pipeline.sourceActionName ?? 'Source',
              revisionType: 'COMMIT_ID',
              revisionValue: target.commit,
            },
          ],
          ...(Object.keys(variables).length
            ? { variables: Object.entries(variables).map(([name, value]) => ({ name, value })) }
            : {}),
        }),
      );
      executionId = answer.pipelineExecutionId;
    } catch (cause) {
      throw new DeploymentFailedError(
        `CodePipeline did not start ${pipeline.name} for ${target.service} ${environment}: ${messageOf(cause)}`,
        {
          input: pipeline.name,
          hint: 'check the pipeline name in the deployer configuration, that it declares the variables sent, and that the role may call codepipeline:StartPipelineExecution',
          cause,
        },
      );
    }
    if (!executionId) {
      throw new DeploymentFailedError(`CodePipeline started ${pipeline.name} but returned no execution id`, {
        input: pipeline.name,
        hint: 'retry; the same run reuses the same request token, so no second execution starts',
      });
    }
    const timeoutMs = this.options.timeoutMs ?? 3_600_000;
    const pollMs = this.options.pollIntervalMs ?? 15_000;
    for (;;) {
      const { pipelineExecution } = await this.options.client.send(
        new GetPipelineExecutionCommand({ pipelineName: pipeline.name, pipelineExecutionId: executionId }),
      );
      const status = pipelineExecution?.status;
      if (status && FINISHED.has(status)) {
        return {
          pipeline,
          executionId,
          status,
          summary: pipelineExecution?.statusSummary,
          startedAt,
          elapsedMs: Date.now() - started,
        };
      }
      if (Date.now() - started > timeoutMs) {
        throw new DeploymentFailedError(
          `${pipeline.name} execution ${executionId} is still ${status ?? 'unknown'} after ${Math.round(timeoutMs / 1000)} s`,
          {
            input: executionId,
            hint: 'look at the execution in the CodePipeline console; Gantry stopped waiting but the pipeline goes on',
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async record(
    execution: FinishedExecution,
    target: ReleaseTarget,
    environment: DeployEnvironment,
  ): Promise<Deployment> {
    const succeeded = execution.status === 'Succeeded';
    const deployment: Deployment = {
      id: `dep-${nextId().toLowerCase()}`,
      service: target.service,
      environment,
      commit: target.commit,
      runId: target.runId,
      ...(target.pullRequest === undefined ? {} : { pullRequest: target.pullRequest }),
      endpoint: execution.pipeline.endpoint ?? `codepipeline:${execution.pipeline.name}`,
      startedAt: execution.startedAt.toISOString(),
      status: succeeded ? 'live' : 'aborted',
      ...(succeeded ? {} : { endedAt: this.now().toISOString(), endReason: describeExecution(execution) }),
    };
    if (succeeded) await this.deployments.makeCurrent(deployment, this.now());
    else await this.deployments.save(deployment);
    return deployment;
  }

  private serviceFor(service: string): PipelineService {
    const found = this.options.services[service];
    if (!found) {
      throw new InvalidInputError(`no pipelines are configured for "${service}"`, {
        input: service,
        hint: `add ${service} to the deployer's services (known: ${Object.keys(this.options.services).join(', ') || 'none'})`,
      });
    }
    return found;
  }
}

interface FinishedExecution {
  pipeline: PipelineRef;
  executionId: string;
  status: PipelineExecutionStatus;
  summary: string | undefined;
  startedAt: Date;
  elapsedMs: number;
}

function describeExecution(execution: FinishedExecution): string {
  const summary = execution.summary ? `: ${execution.summary}` : '';
  return `pipeline ${execution.pipeline.name} execution ${execution.executionId} ${execution.status}${summary}`;
}

/** The pipeline runs its own checks; its result is the one smoke check Gantry sees. */
function pipelineSmoke(execution: FinishedExecution): StagingResult['smoke'] {
  const passed = execution.status === 'Succeeded';
  return {
    passed,
    checks: [{ name: `pipeline ${execution.pipeline.name}`, passed, detail: describeExecution(execution) }],
  };
}

/** The same run, environment, mode and commit always send the same token, so a retried step starts no second execution. */
function requestToken(target: ReleaseTarget, environment: DeployEnvironment, mode: RolloutMode): string {
  return `${target.runId}-${environment}-${mode}-${target.commit.slice(0, 12)}`
    .replace(/[^a-zA-Z0-9-]/g, '-')
    .slice(0, 128);
}

function metricOf(alarm: string): AlarmSignal['metric'] {
  if (/latency|p95|duration/i.test(alarm)) return 'latency-p95';
  if (/health/i.test(alarm)) return 'health';
  return 'error-rate';
}

/** CloudWatch reasons read "... [12.5 (01/01/24 00:00:00)] was greater than the threshold (5.0) ...". */
function numberIn(reason: string, pattern: RegExp): number {
  const match = pattern.exec(reason);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
