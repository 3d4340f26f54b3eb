/**
 * Deploy and observe: how a merged commit reaches staging and production, and how production is watched
 * afterwards. The embedded default runs the target service on loopback (src/deploy/local-deployer.ts);
 * on AWS the target's own pipeline does (src/adapters/aws/pipeline-deployer.ts).
 */

export type DeployEnvironment = 'staging' | 'production';

/** What to deploy: a commit of a repository, for a run (and the PR it merged). */
export interface ReleaseTarget {
  service: string;
  repository: string;
  commit: string;
  runId: string;
  pullRequest?: number;
  /** What production runs when nothing is live there yet (the default branch before this change). */
  baselineCommit?: string;
}

/** What one window of traffic looked like: an error is an unexpected status, a refused connection or no answer in time. */
export interface WindowStats {
  requests: number;
  errors: number;
  errorRate: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

export interface SmokeCheckResult {
  name: string;
  passed: boolean;
  status?: number;
  detail: string;
}

export interface SmokeResult {
  passed: boolean;
  checks: SmokeCheckResult[];
}

/** One version of a service started in one environment. Kept as a record so an alarm can be traced to its run and PR. */
export interface Deployment {
  id: string;
  service: string;
  environment: DeployEnvironment;
  commit: string;
  runId: string;
  pullRequest?: number;
  /** Where the environment answers (for production, the stable traffic router in front of every version). */
  endpoint: string;
  startedAt: string;
  status: 'live' | 'superseded' | 'aborted' | 'stopped';
  /** Where this version itself listens, when that differs from `endpoint` (a production version behind the router). */
  instanceEndpoint?: string;
  /** When the version stopped serving (superseded, aborted or stopped). */
  endedAt?: string;
  /** Why it stopped serving, in a sentence. */
  endReason?: string;
}

export interface StagingResult {
  deployment: Deployment;
  smoke: SmokeResult;
}

export type AnalysisVerdict = 'promote' | 'pause' | 'abort';

/** The analysis of one step of a rollout: the canary's window against the baseline's. */
export interface StepAnalysis {
  /** 1-based index of the step in the rollout's steps. */
  step: number;
  trafficPercent: number;
  /** 1-based attempt at this step (a pause measures the step again). */
  attempt: number;
  verdict: AnalysisVerdict;
  canary: WindowStats;
  baseline: WindowStats;
  reasons: string[];
  intervalMs: number;
}

export interface RolloutResult {
  outcome: 'promoted' | 'aborted';
  /** The version rolled out (live when promoted, aborted otherwise). */
  deployment: Deployment;
  /** The version that served before: superseded when promoted, still live when aborted. */
  previous?: Deployment;
  analyses: StepAnalysis[];
  reason: string;
  /** When the failing analysis concluded (aborted rollouts only). */
  detectedAt?: string;
}

export interface AlarmSignal {
  alarm: string;
  service: string;
  environment: DeployEnvironment;
  state: 'ALARM' | 'OK';
  metric: 'error-rate' | 'latency-p95' | 'health';
  value: number;
  threshold: number;
  reason: string;
  at: string;
  deploymentId?: string;
}

export interface Observation {
  healthy: boolean;
  stats: WindowStats;
  alarms: AlarmSignal[];
}

export interface ServiceStatus {
  service: string;
  environment: DeployEnvironment;
  deployment?: Deployment;
  up: boolean;
  detail: string;
}

/** Ships commits to staging and production and watches production. */
export interface Deployer {
  readonly kind: string;
  /** Replaces staging with the commit and runs the smoke checks. */
  deployStaging(target: ReleaseTarget): Promise<StagingResult>;
  /** Rolls the commit out to production step by step (e.g. 10/50/100% of traffic) with an analysis at each step; aborting sends all traffic back to the previous version. */
  rollOut(
    target: ReleaseTarget,
    options?: { onStep?: (analysis: StepAnalysis) => Promise<void> | void },
  ): Promise<RolloutResult>;
  /** Puts the commit in production at once (a rollback's redeploy) and runs the smoke checks. */
  redeploy(target: ReleaseTarget): Promise<StagingResult>;
  /** Watches production for windowMs under traffic; raises an alarm for each threshold crossed. */
  observe(service: string, windowMs: number): Promise<Observation>;
  current(service: string, environment: DeployEnvironment): Promise<Deployment | undefined>;
  history(service: string, environment: DeployEnvironment): Promise<Deployment[]>;
  /** Every known service and environment, probed now. */
  status(): Promise<ServiceStatus[]>;
  /** Stops everything this deployer started (the embedded services die with the Gantry process). */
  stop(): Promise<void>;
}
