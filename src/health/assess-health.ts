import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { type RunSummary, terminalRunStates } from '../domain/run.js';
import {
  type CheckObservation,
  HealthInput,
  HealthThresholds,
  type PendingApprovalObservation,
  type ServiceObservation,
} from './health-input.js';
import type {
  AttentionItem,
  AttentionKind,
  AttentionSeverity,
  ErrorRateStatus,
  HealthReport,
  OpenApproval,
  ServiceDown,
  StuckRun,
} from './health-report.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const severityOrder: Record<AttentionSeverity, number> = { high: 0, medium: 1, low: 2 };
const kindOrder: Record<AttentionKind, number> = {
  'service-down': 0,
  'error-rate': 1,
  'check-failing': 2,
  'stuck-run': 3,
  'approval-waiting': 4,
};

/**
 * Assesses the platform's health at `input.now`: the latest result of every check, each service's
 * error rate against the threshold, pending approvals with their age, stuck runs and services down.
 * Everything that needs someone becomes an attention item with a stable key, most serious first.
 * Pure: the same input gives the same report.
 *
 * A run is stuck when it is `received` or `running` and not updated for longer than
 * `stuckAfterMinutes`, or when it waits for an approval that is past its deadline (or no longer
 * pending at all, for longer than `stuckAfterMinutes`). A service that is down is reported as down,
 * not also for its error rate.
 *
 * @example
 * const report = assessHealth(
 *   { now: new Date().toISOString(), runs, pendingApprovals, services, checks },
 *   { errorRate: 0.05 },
 * );
 * if (report.status === 'attention') console.log(renderHealth(report));
 */
export function assessHealth(input: HealthInput, thresholds: Partial<HealthThresholds> = {}): HealthReport {
  const parsedInput = HealthInput.safeParse(input);
  if (!parsedInput.success) {
    throw new InvalidInputError(`health input is invalid: ${formatZodIssues(parsedInput.error.issues)}`, {
      input: 'health input',
      hint: 'gather the runs, approvals, services and checks again; every time is an ISO 8601 timestamp',
      cause: parsedInput.error,
    });
  }
  const parsedThresholds = HealthThresholds.safeParse(thresholds);
  if (!parsedThresholds.success) {
    throw new InvalidInputError(
      `health thresholds are invalid: ${formatZodIssues(parsedThresholds.error.issues)}`,
      {
        input: 'health thresholds',
        hint: 'stuckAfterMinutes and approvalAgeHours are positive numbers; errorRate is a fraction from 0 to 1',
        cause: parsedThresholds.error,
      },
    );
  }
  const data = parsedInput.data;
  const limits = parsedThresholds.data;
  const now = Date.parse(data.now);

  const checks = latestChecks(data.checks);
  const services = latestServices(data.services);
  const openApprovals = data.pendingApprovals
    .map((approval) => openApproval(approval, now, limits))
    .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.approvalId.localeCompare(b.approvalId));
  const stuckRuns = findStuckRuns(data.runs, data.pendingApprovals, now, limits);
  const servicesDown: ServiceDown[] = services.filter((s) => !s.up).map(serviceDown);
  const errorRates = services.flatMap((s) => (s.stats ? [errorRateStatus(s, limits.errorRate)] : []));

  const attention = dedupeByKey([
    ...servicesDown.map(serviceDownItem),
    ...errorRates.filter((rate) => rate.breach && rate.up).map(errorRateItem),
    ...checks.filter((check) => !check.passed).map(checkFailingItem),
    ...stuckRuns.map(stuckRunItem),
    ...openApprovals
      // An expired approval whose run is reported stuck is the same problem, named once.
      .filter(
        (approval) =>
          (approval.old || approval.expired) &&
          !(approval.expired && stuckRuns.some((run) => run.runId === approval.runId)),
      )
      .map((approval) => approvalItem(approval, limits)),
  ]).sort(
    (a, b) =>
      severityOrder[a.severity] - severityOrder[b.severity] ||
      kindOrder[a.kind] - kindOrder[b.kind] ||
      a.key.localeCompare(b.key),
  );

  return {
    status: attention.length === 0 ? 'ok' : 'attention',
    now: data.now,
    thresholds: limits,
    checks,
    errorRates,
    openApprovals,
    stuckRuns,
    servicesDown,
    attention,
  };
}

/** The latest result per check, repository and branch: a check that failed and then passed is green. */
function latestChecks(checks: readonly CheckObservation[]): CheckObservation[] {
  const latest = new Map<string, CheckObservation>();
  for (const check of checks) {
    const id = checkId(check);
    const seen = latest.get(id);
    if (!seen || Date.parse(check.at) >= Date.parse(seen.at)) latest.set(id, check);
  }
  return [...latest.values()].sort((a, b) => checkId(a).localeCompare(checkId(b)));
}

function checkId(check: { repository: string; branch: string; name: string }): string {
  return `${check.repository}:${check.branch}:${check.name}`;
}

/** One observation per service and environment; the last one given wins. */
function latestServices(services: readonly ServiceObservation[]): ServiceObservation[] {
  const latest = new Map<string, ServiceObservation>();
  for (const service of services) latest.set(serviceId(service), service);
  return [...latest.values()].sort((a, b) => serviceId(a).localeCompare(serviceId(b)));
}

function serviceId(service: { service: string; environment: string }): string {
  return `${service.service}:${service.environment}`;
}

function serviceDown(service: ServiceObservation): ServiceDown {
  return {
    service: service.service,
    environment: service.environment,
    detail: service.detail,
    ...(service.deploymentId ? { deploymentId: service.deploymentId } : {}),
    ...(service.commit ? { commit: service.commit } : {}),
  };
}

function errorRateStatus(service: ServiceObservation, threshold: number): ErrorRateStatus {
  const stats = service.stats ?? { requests: 0, errors: 0, errorRate: 0, latencyP50Ms: 0, latencyP95Ms: 0 };
  return {
    service: service.service,
    environment: service.environment,
    up: service.up,
    ...stats,
    threshold,
    breach: stats.errorRate > threshold,
  };
}

function openApproval(
  approval: PendingApprovalObservation,
  now: number,
  limits: HealthThresholds,
): OpenApproval {
  const ageHours =
    approval.requestedAt === undefined
      ? undefined
      : Math.max(0, (now - Date.parse(approval.requestedAt)) / HOUR_MS);
  return {
    approvalId: approval.approvalId,
    runId: approval.runId,
    kind: approval.kind,
    ...(approval.requestedAt ? { requestedAt: approval.requestedAt } : {}),
    expiresAt: approval.expiresAt,
    ...(ageHours === undefined ? {} : { ageHours }),
    expired: Date.parse(approval.expiresAt) <= now,
    old: ageHours !== undefined && ageHours > limits.approvalAgeHours,
  };
}

function findStuckRuns(
  runs: readonly RunSummary[],
  approvals: readonly PendingApprovalObservation[],
  now: number,
  limits: HealthThresholds,
): StuckRun[] {
  const stuck: StuckRun[] = [];
  for (const run of runs) {
    if (terminalRunStates.has(run.state)) continue;
    const minutesSinceUpdate = Math.max(0, (now - Date.parse(run.updatedAt)) / MINUTE_MS);
    const base = {
      runId: run.runId,
      title: run.title,
      repository: run.repository,
      state: run.state,
      updatedAt: run.updatedAt,
      minutesSinceUpdate,
    };
    const stale = minutesSinceUpdate > limits.stuckAfterMinutes;
    if (run.state !== 'waiting_for_approval') {
      if (stale) stuck.push({ ...base, reason: 'no-progress' });
      continue;
    }
    const pending = approvals.filter(
      (approval) => approval.runId === run.runId || approval.approvalId === run.pendingApproval,
    );
    const expired = pending.find((approval) => Date.parse(approval.expiresAt) <= now);
    if (expired) stuck.push({ ...base, reason: 'approval-expired', approvalId: expired.approvalId });
    else if (pending.length === 0 && stale) {
      stuck.push({
        ...base,
        reason: 'approval-missing',
        ...(run.pendingApproval ? { approvalId: run.pendingApproval } : {}),
      });
    }
  }
  return stuck.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.runId.localeCompare(b.runId));
}

function serviceDownItem(down: ServiceDown): AttentionItem {
  const deployed = [
    down.deploymentId && `deployment ${down.deploymentId}`,
    down.commit && `commit ${down.commit.slice(0, 12)}`,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    key: `service-down:${down.service}:${down.environment}`,
    kind: 'service-down',
    severity: down.environment === 'production' ? 'high' : 'medium',
    summary: `${down.service} ${down.environment} is down: ${down.detail}${deployed ? ` (${deployed})` : ''}`,
    service: down.service,
    environment: down.environment,
  };
}

function errorRateItem(rate: ErrorRateStatus): AttentionItem {
  return {
    key: `error-rate:${rate.service}:${rate.environment}`,
    kind: 'error-rate',
    severity: rate.environment === 'production' ? 'high' : 'medium',
    summary:
      `${rate.service} ${rate.environment}: error rate ${percent(rate.errorRate)} (${rate.errors} of ${rate.requests} requests) ` +
      `is above ${percent(rate.threshold)}; p95 ${rate.latencyP95Ms.toFixed(0)} ms`,
    service: rate.service,
    environment: rate.environment,
  };
}

function checkFailingItem(check: CheckObservation): AttentionItem {
  return {
    // Without the commit: commits landing on a branch that stays red are the same breakage.
    key: `check-failing:${checkId(check)}`,
    kind: 'check-failing',
    severity: 'high',
    summary:
      `check ${check.name} fails on ${check.repository}@${check.branch} at ${check.commit.slice(0, 12)} (${check.at})` +
      (check.detail ? `: ${firstLine(check.detail)}` : ''),
    repository: check.repository,
  };
}

function stuckRunItem(run: StuckRun): AttentionItem {
  const why =
    run.reason === 'approval-expired'
      ? `waits for approval ${run.approvalId} past its deadline`
      : run.reason === 'approval-missing'
        ? `waits for an approval that is no longer pending, for ${minutes(run.minutesSinceUpdate)}`
        : `${run.state}, no progress for ${minutes(run.minutesSinceUpdate)}`;
  return {
    key: `stuck-run:${run.runId}`,
    kind: 'stuck-run',
    severity: 'medium',
    summary: `run ${run.runId} on ${run.repository} is stuck: ${why} ("${run.title}")`,
    repository: run.repository,
    runId: run.runId,
    ...(run.approvalId ? { approvalId: run.approvalId } : {}),
  };
}

function approvalItem(approval: OpenApproval, limits: HealthThresholds): AttentionItem {
  const waited = approval.ageHours === undefined ? '' : ` has waited ${approval.ageHours.toFixed(1)} h and`;
  const status = approval.expired
    ? `${waited} expired at ${approval.expiresAt} without a decision`
    : `${waited} is older than ${limits.approvalAgeHours} h; it expires at ${approval.expiresAt}`;
  return {
    key: `approval-waiting:${approval.approvalId}`,
    kind: 'approval-waiting',
    severity: 'low',
    summary: `${approval.kind} approval ${approval.approvalId} for run ${approval.runId}${status}`,
    runId: approval.runId,
    approvalId: approval.approvalId,
  };
}

function dedupeByKey(items: AttentionItem[]): AttentionItem[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (seen.has(item.key)) return false;
    seen.add(item.key);
    return true;
  });
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function minutes(value: number): string {
  return value >= 120 ? `${(value / 60).toFixed(1)} h` : `${Math.round(value)} min`;
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
