import type { RunEvent } from '../domain/events.js';
import type { RunSummary } from '../domain/run.js';

/**
 * Rebuilds a run's summary from its events alone. Listings store the result, and `gantry replay`
 * recomputes it to prove the stored summary is what the log says.
 */
export function projectRunSummary(events: readonly RunEvent[]): RunSummary | undefined {
  const first = events[0];
  if (first?.type !== 'request.received') return undefined;
  const request = first.data.request;
  const summary: RunSummary = {
    runId: first.runId,
    traceId: first.traceId,
    state: 'received',
    title: request.title,
    repository: request.repository.name,
    requester: request.requester,
    createdAt: first.at,
    updatedAt: first.at,
  };
  for (const event of events) {
    summary.updatedAt = event.at;
    switch (event.type) {
      case 'run.state':
        summary.state = event.data.state;
        if (event.data.reason) summary.reason = event.data.reason;
        else delete summary.reason;
        if (event.data.state !== 'waiting_for_approval') delete summary.pendingApproval;
        break;
      case 'approval.requested':
        summary.pendingApproval = event.data.approvalId;
        break;
      case 'approval.decided':
        delete summary.pendingApproval;
        break;
      case 'pr.opened':
        summary.pullRequest = event.data.url;
        break;
      case 'evidence.assembled':
        summary.evidence = event.data.json;
        break;
      default:
        break;
    }
  }
  return summary;
}
