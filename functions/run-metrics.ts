import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { listApprovals } from '../src/approvals/approval-records.js';
import { usageOf } from '../src/policy/budgets.js';
import { journalFor } from '../src/steps/run-context.js';
import type { RunRef, StepDeps } from '../src/steps/step-deps.js';

/** The run states the dashboard counts, as the metric each one publishes. */
const runStateMetric: Record<string, string> = {
  completed: 'RunsCompleted',
  rejected: 'RunsRejected',
  failed: 'RunsFailed',
  aborted: 'RunsAborted',
};

/**
 * The run-level figures the dashboard and alarms read (namespace `Gantry`, no dimensions), published
 * when a run ends: its final state, the tool calls policy denied, and what its model turns cost.
 */
export async function publishRunMetrics(metrics: Metrics, deps: StepDeps, run: RunRef): Promise<void> {
  const journal = await journalFor(deps, run);
  const events = journal.events();
  const final = events.filter((e) => e.type === 'run.state').at(-1);
  const single = metrics.singleMetric();
  const stateMetric = final?.type === 'run.state' ? runStateMetric[final.data.state] : undefined;
  if (stateMetric) single.addMetric(stateMetric, MetricUnit.Count, 1);
  single.addMetric('PolicyDenials', MetricUnit.Count, events.filter((e) => e.type === 'tool.denied').length);
  single.addMetric('ModelCostUsd', MetricUnit.NoUnit, usageOf(events, deps.prices, deps.now()).costUsd);
  single.publishStoredMetrics();
}

/** How many gates wait for a person right now: a level, read with the Maximum statistic. */
export async function publishPendingApprovals(metrics: Metrics, deps: StepDeps): Promise<void> {
  const pending = (await listApprovals(deps.records)).filter((a) => a.status === 'pending').length;
  const single = metrics.singleMetric();
  single.addMetric('ApprovalsPending', MetricUnit.Count, pending);
  single.publishStoredMetrics();
}
