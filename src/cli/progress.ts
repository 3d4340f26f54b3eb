import { styleText } from 'node:util';
import type { RunEvent } from '../domain/events.js';
import { plainLine } from '../inert-text/index.js';

/**
 * One line per event: what happened, in the words a person watching a run wants. Events quote
 * titles, paths, commands and reasons that came from issues, repositories and the model, so the
 * line is made inert for a terminal: no escape sequence, control character or bidi override, and
 * no newline that would print a line the run never wrote.
 *
 * @example
 * describeEvent(event); // 'request received: "Invoice total is wrong" (file, by maria)'
 */
export function describeEvent(event: RunEvent): string {
  return plainLine(eventLine(event));
}

function eventLine(event: RunEvent): string {
  switch (event.type) {
    case 'request.received':
      return `request received: "${event.data.request.title}" (${event.data.request.source}, by ${event.data.request.requester})`;
    case 'request.rejected':
      return `request rejected: ${event.data.reason}`;
    case 'risk.classified':
      return `risk ${event.data.tier}, autonomy tier ≤ ${event.data.maxAutonomyTier}${event.data.requiredApprovals.length ? `, approvals: ${event.data.requiredApprovals.join(', ')}` : ''}`;
    case 'context.built': {
      const notes = [
        ...(event.data.toolchains ? [`toolchains: ${event.data.toolchains.join(', ') || 'none'}`] : []),
        ...(event.data.configFile ? [`configuration: ${event.data.configFile.origin}`] : []),
        ...(event.data.setupSkipped ?? []).map((skip) => `not installed (${skip.ecosystem}): ${skip.reason}`),
        ...(event.data.configRefused ?? []).map(
          (refused) => `refused ${refused.argv.join(' ')}: ${refused.reason}`,
        ),
      ];
      return `repository mapped: ${event.data.files} files, tests: ${event.data.testCommand?.join(' ') ?? 'none found'}${notes.length ? `; ${notes.join('; ')}` : ''}`;
    }
    case 'plan.created':
      return `plan: ${event.data.plan.steps.map((s) => s.id).join(' → ')} (≤ ${event.data.plan.maxPatchIterations} patch iterations)`;
    case 'approval.requested':
      return `waiting for ${event.data.kind} approval ${event.data.approvalId}`;
    case 'approval.decided':
      return `approval ${event.data.approvalId} ${event.data.decision} by ${event.data.by}`;
    case 'model.turn':
      return `model turn ${event.data.phase} #${event.data.turn} (${event.data.inputTokens}+${event.data.outputTokens} tokens, ${event.data.stopReason})`;
    case 'tool.requested':
      return `  tool ${event.data.tool} requested`;
    case 'tool.authorized':
      return `  ${event.data.decision.action} on ${event.data.decision.resource} allowed by ${event.data.decision.determiningPolicies.join(', ')}`;
    case 'tool.denied':
      return `  ${event.data.decision.action} on ${event.data.decision.resource} DENIED by ${event.data.decision.determiningPolicies.join(', ') || 'default deny'}: ${event.data.decision.reasons.join('; ')}`;
    case 'tool.executed':
      return `  tool ${event.data.tool} executed${event.data.exitCode === undefined ? '' : `, exit ${event.data.exitCode}`} (${event.data.durationMs} ms)`;
    case 'file.changed':
      return `  file changed: ${event.data.path}`;
    case 'test.run': {
      const counts = event.data.counts;
      const detail = counts
        ? ` (${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped; ${event.data.exitReason}, read by ${event.data.parser})`
        : '';
      if (event.data.purpose === 'integrity')
        return `tests on the base code with the final tests (integrity): ${event.data.argv.join(' ')} → exit ${event.data.exitCode}${detail}`;
      return `tests (${event.data.purpose}) ${event.data.passed ? 'passed' : 'failed'}: ${event.data.argv.join(' ')} → exit ${event.data.exitCode}${detail}`;
    }
    case 'verification.level':
      return `${event.data.level} check ${event.data.passed ? 'passed' : 'failed'}: ${event.data.argv.join(' ')} → exit ${event.data.exitCode}`;
    case 'verification.judged':
      return event.data.problems.length === 0
        ? `verification against the baseline: no new failures, the reproduction passes (${event.data.parser})`
        : `verification against the baseline: ${event.data.problems.join('; ')}`;
    case 'setup.installed': {
      const refused = event.data.egress.filter((e) => e.outcome === 'refused').length;
      const reached = new Set(event.data.egress.filter((e) => e.outcome === 'allowed').map((e) => e.host));
      return `setup: ${event.data.argv.join(' ')} → exit ${event.data.exitCode}${reached.size ? `, reached ${[...reached].join(', ')}` : ''}${refused ? `, ${refused} egress refused` : ''}`;
    }
    case 'reproduction.recorded':
      return event.data.reproduced
        ? `reproduced: the tests fail before the patch`
        : `not reproduced: ${event.data.reason}`;
    case 'patch.iteration':
      return `patch iteration ${event.data.iteration}: ${event.data.outcome}`;
    case 'verification.completed':
      return `verification ${event.data.passed ? 'passed' : 'failed'} (iteration ${event.data.iteration})`;
    case 'evidence.assembled':
      return `evidence packet assembled: ${Math.round(event.data.completeness * 100)}% complete${event.data.missing.length ? ` (missing ${event.data.missing.join(', ')})` : ''}`;
    case 'pr.opened':
      return `pull request #${event.data.number} opened: ${event.data.url} (${event.data.branch})`;
    case 'step.completed':
      return `step ${event.data.step} done`;
    case 'run.state':
      return `run ${event.data.state}${event.data.reason ? `: ${event.data.reason}` : ''}`;
    case 'policy.decided':
      return `policy ${event.data.decision.decision}s ${event.data.decision.action} (${event.data.decision.determiningPolicies.join(', ') || 'no policy'})`;
    case 'scope.checked':
      return event.data.violations.length
        ? `diff scope check: ${event.data.violations.map((v) => `${v.rule} (${v.files.join(', ')})`).join('; ')}`
        : `diff scope check passed (${event.data.checks.length} constraints checked)`;
    case 'guard.tripped':
      return `GUARD ${event.data.guard}: ${event.data.reason}`;
    case 'review.completed':
      return `review: ${event.data.findings} finding(s), ${event.data.blockers} blocker(s)${event.data.model === 'unavailable' ? ` (model review unavailable: ${event.data.modelReason ?? 'no reason'})` : ''}`;
    case 'merge.decided':
      return `merge ${event.data.mode}: ${event.data.reason}`;
    case 'merge.queued':
      return `merge queue: pull request #${event.data.pullRequest} queued`;
    case 'pr.merged':
      return `pull request #${event.data.number} merged as ${event.data.mergeCommit.slice(0, 12)} (tested on ${event.data.base.slice(0, 12)}, ${event.data.testRuns} test run(s))`;
    case 'merge.ejected':
      return `merge queue ejected #${event.data.number}: ${event.data.reason}`;
    case 'release.prepared':
      return `release packet for ${event.data.commit.slice(0, 12)}: ${event.data.ready ? 'ready' : `NOT ready (${event.data.blockers.join('; ')})`}`;
    case 'deploy.staged':
      return `staging ${event.data.deploymentId}: smoke checks ${event.data.passed ? 'passed' : 'FAILED'} (${event.data.checks.length})`;
    case 'deploy.step': {
      const c = event.data.canary;
      const b = event.data.baseline;
      return `production ${event.data.trafficPercent}%: ${event.data.verdict.toUpperCase()} — canary ${(c.errorRate * 100).toFixed(1)}% errors, p95 ${c.latencyP95Ms.toFixed(0)} ms (${c.requests} req) vs baseline ${(b.errorRate * 100).toFixed(1)}%, p95 ${b.latencyP95Ms.toFixed(0)} ms${event.data.reasons.length ? `: ${event.data.reasons.join('; ')}` : ''}`;
    }
    case 'deploy.finished':
      return `${event.data.environment} ${event.data.outcome}: ${event.data.reason}`;
    case 'observation.completed':
      return `${event.data.purpose === 'recovery' ? 'recovery check' : 'observation'} of ${event.data.service}: ${event.data.healthy ? 'healthy' : `ALARM (${event.data.alarms.map((a) => `${a.metric} ${a.value} > ${a.threshold}`).join(', ')})`}, ${(event.data.stats.errorRate * 100).toFixed(1)}% errors, p95 ${event.data.stats.latencyP95Ms.toFixed(0)} ms`;
    case 'incident.opened':
      return `INCIDENT ${event.data.incidentId} (${event.data.source}): ${event.data.summary}`;
    case 'rollback.started':
      return `rollback run ${event.data.rollbackRun} started for incident ${event.data.incidentId}`;
    case 'rollback.finished':
      return `rollback ${event.data.outcome}: ${event.data.reason}`;
    case 'revert.prepared':
      return `revert of ${event.data.revertOf.slice(0, 12)} ${event.data.clean ? 'prepared' : 'NOT clean'}: ${event.data.reason}`;
    case 'request.filed':
      return `request filed: "${event.data.title}" (${event.data.requestId})`;
    case 'kill-switch.changed':
      return `kill switch ${event.data.scope}${event.data.target ? ` ${event.data.target}` : ''} ${event.data.engaged ? 'ENGAGED' : 'released'} by ${event.data.by}: ${event.data.reason}`;
  }
}

type Style = Parameters<typeof styleText>[0];

function styleOf(event: RunEvent): Style {
  if (
    event.type === 'tool.denied' ||
    event.type === 'request.rejected' ||
    event.type === 'guard.tripped' ||
    event.type === 'incident.opened'
  )
    return 'red';
  if (event.type === 'run.state')
    return event.data.state === 'completed' ? 'green' : event.data.state === 'failed' ? 'red' : 'cyan';
  if (event.type === 'test.run') return event.data.passed ? 'green' : 'yellow';
  if (event.type === 'pr.opened' || event.type === 'evidence.assembled') return 'green';
  if (event.type.startsWith('tool.') || event.type === 'file.changed' || event.type === 'step.completed')
    return 'dim';
  return 'white';
}

/** Prints events as they are recorded: coloured on a terminal, plain lines otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream, options: { verbose?: boolean } = {}) {
  const tty = Boolean(stream.isTTY);
  return (event: RunEvent) => {
    if (!options.verbose && event.type === 'step.completed') return;
    const line = `${event.at.slice(11, 23)}  ${describeEvent(event)}`;
    stream.write(`${tty ? styleText(styleOf(event), line) : line}\n`);
  };
}
