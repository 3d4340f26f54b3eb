import { plainLine } from '../inert-text/index.js';
import type { HealthReport } from './health-report.js';

/**
 * Renders a health report as plain text for a terminal. Sections always come in the same order
 * (status, attention, checks, error rates, open approvals, stuck runs, services down), and an empty
 * one says so, so two reports can be compared line by line. Reported text is printed inert.
 *
 * @example
 * process.stdout.write(renderHealth(assessHealth(input)));
 * // health: attention (2 items) at 2026-11-24T10:00:00.000Z
 * // ...
 */
export function renderHealth(report: HealthReport): string {
  const lines: string[] = [];
  const items = report.attention.length;
  lines.push(
    `health: ${report.status}${report.status === 'attention' ? ` (${items} item${items === 1 ? '' : 's'})` : ''} at ${report.now}`,
  );

  section(
    lines,
    'Needs attention',
    report.attention.map((item) => `[${item.severity}] ${item.kind}: ${item.summary}  (key ${item.key})`),
  );
  section(
    lines,
    'Checks',
    report.checks.map(
      (check) =>
        `${check.passed ? 'pass' : 'FAIL'}  ${check.repository}@${check.branch}  ${check.name}  ${check.commit.slice(0, 12)}  ${check.at}`,
    ),
  );
  section(
    lines,
    `Error rates (limit ${percent(report.thresholds.errorRate)})`,
    report.errorRates.map(
      (rate) =>
        `${rate.breach ? 'OVER' : 'ok  '}  ${rate.service} ${rate.environment}  ${percent(rate.errorRate)} ` +
        `(${rate.errors}/${rate.requests})  p50 ${rate.latencyP50Ms.toFixed(0)} ms  p95 ${rate.latencyP95Ms.toFixed(0)} ms` +
        (rate.up ? '' : '  (down)'),
    ),
  );
  section(
    lines,
    'Open approvals',
    report.openApprovals.map(
      (approval) =>
        `${approval.approvalId}  ${approval.kind}  run ${approval.runId}  ` +
        `age ${approval.ageHours === undefined ? 'unknown' : `${approval.ageHours.toFixed(1)} h`}  ` +
        `${approval.expired ? 'EXPIRED' : 'expires'} ${approval.expiresAt}${approval.old ? '  (old)' : ''}`,
    ),
  );
  section(
    lines,
    `Stuck runs (no progress for ${report.thresholds.stuckAfterMinutes} min)`,
    report.stuckRuns.map(
      (run) =>
        `${run.runId}  ${run.state}  ${run.repository}  ${run.reason}` +
        `${run.approvalId ? ` ${run.approvalId}` : ''}  updated ${run.updatedAt} (${Math.round(run.minutesSinceUpdate)} min ago)`,
    ),
  );
  section(
    lines,
    'Services down',
    report.servicesDown.map(
      (down) =>
        `${down.service} ${down.environment}: ${down.detail}` +
        `${down.deploymentId ? `  deployment ${down.deploymentId}` : ''}${down.commit ? `  commit ${down.commit.slice(0, 12)}` : ''}`,
    ),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Rows quote what services, checks and runs reported (summaries, details, reasons, titles): each is
 * one line without terminal controls, so it cannot recolour, rewrite or add lines of the report.
 */
function section(lines: string[], title: string, rows: string[]): void {
  lines.push('', `${title}:`);
  if (rows.length === 0) lines.push('  none');
  for (const row of rows) lines.push(`  ${plainLine(row)}`);
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
