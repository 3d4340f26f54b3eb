import { markdownCode, markdownInline, markdownText, markdownUrl } from '../inert-text/index.js';
import type { ReleasePacket } from './release-packet.js';

/**
 * Renders the release-readiness packet as markdown for the people who approve or watch the
 * release: verdict and blockers first, then changes, pull requests, risk, checks, approvals, the
 * rollout plan, monitors and the rollback method. Commit subjects, titles and every other text
 * are escaped, since anyone who commits writes them: no HTML, link, mention or heading of their own.
 *
 * @example
 * await artifacts.put(renderReleasePacket(packet), 'text/markdown; charset=utf-8');
 */
export function renderReleasePacket(packet: ReleasePacket): string {
  const lines: string[] = [];
  lines.push(
    `## Release readiness — ${markdownInline(packet.service)} at ${markdownCode(short(packet.commit))}`,
    '',
    packet.ready
      ? '**Ready to release.**'
      : `**Not ready** (${packet.blockers.length} blocker${packet.blockers.length === 1 ? '' : 's'}):`,
  );
  if (!packet.ready) {
    lines.push('');
    for (const blocker of packet.blockers) lines.push(`- ${markdownInline(blocker)}`);
  }
  lines.push(
    '',
    `Repository ${markdownCode(packet.repository)}; prepared ${markdownInline(packet.preparedAt)}.`,
    packet.previousRelease
      ? `Production runs ${markdownCode(short(packet.previousRelease.commit))} (deployment ${markdownCode(packet.previousRelease.deploymentId)}, ${markdownInline(packet.previousRelease.deployedAt)}).`
      : 'First release: nothing runs in production yet.',
  );

  lines.push('', `### Changes (${packet.changes.length})`, '');
  if (packet.changes.length === 0) lines.push('None.');
  for (const change of packet.changes) {
    const pr = change.pullRequest ? ` (#${change.pullRequest})` : '';
    lines.push(
      `- ${markdownCode(short(change.commit))} ${markdownInline(change.subject)} — ${markdownInline(change.author)}${pr}`,
    );
  }

  lines.push('', '### Pull requests', '');
  if (packet.pullRequests.length === 0) lines.push('None.');
  for (const pr of packet.pullRequests) {
    lines.push(
      `- #${pr.number} ${markdownInline(pr.title)} — ${markdownUrl(pr.url)} (run ${markdownCode(pr.runId)})`,
    );
  }

  lines.push(
    '',
    '### Risk',
    '',
    `Tier **${packet.risk.tier}**, autonomy tier ${packet.risk.autonomyTier}.`,
    ...packet.risk.reasons.map((reason) => `- ${markdownInline(reason)}`),
  );

  lines.push('', '### Checks', '');
  if (packet.checks.length === 0) lines.push('None recorded.');
  for (const check of packet.checks) {
    lines.push(
      `- [${check.passed ? 'x' : ' '}] ${markdownInline(check.name)} — ${markdownInline(check.detail)}`,
    );
  }

  lines.push('', '### Approvals', '');
  if (packet.approvals.length === 0) lines.push('None recorded.');
  for (const approval of packet.approvals) {
    lines.push(
      `- ${markdownInline(approval.kind)}: ${approval.decision} by ${markdownInline(approval.by)} at ${approval.at}`,
    );
  }
  if (packet.requiredApprovals.length) {
    lines.push(
      '',
      `Required: ${packet.requiredApprovals.map((approval) => markdownInline(approval)).join(', ')}.`,
    );
  }

  const plan = packet.rolloutPlan;
  const rules = plan.analysis;
  lines.push(
    '',
    '### Rollout plan',
    '',
    `Staging first, then production at ${plan.steps.map((step) => `${step}%`).join(' → ')} of traffic, ${plan.intervalSeconds} s per step.`,
    'At each step the new version is compared with the previous one:',
    `- error rate at most ${percent(rules.maxErrorRate)}, and at most ${percent(rules.maxErrorRateIncrease)} above the previous version's`,
    `- p95 latency at most ${rules.maxLatencyP95Ratio}× the previous version's (tolerance ${rules.latencyToleranceMs} ms)`,
    `- at least ${rules.minRequests} requests per window, else the step pauses (at most ${rules.maxPauses} pauses)`,
    `- the rollout aborts after ${rules.failureLimit} failed analys${rules.failureLimit === 1 ? 'is' : 'es'}`,
  );

  lines.push('', '### Monitors', '');
  if (packet.monitors.length === 0) lines.push('None.');
  for (const monitor of packet.monitors) lines.push(`- ${markdownInline(monitor)}`);

  lines.push(
    '',
    '### Rollback',
    '',
    packet.rollbackMethod.trim() ? markdownText(packet.rollbackMethod) : 'None stated.',
  );
  return `${lines.join('\n')}\n`;
}

function short(commit: string): string {
  return commit.slice(0, 12);
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toFixed(2))}%`;
}
