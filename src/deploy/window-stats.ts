import type { WindowStats } from '../ports/deployer.js';

/** The outcome of one request: whether it got the answer expected, and how long it took. */
export interface OutcomeSample {
  ok: boolean;
  latencyMs: number;
}

/** A window with no requests. */
export const EMPTY_WINDOW: WindowStats = Object.freeze({
  requests: 0,
  errors: 0,
  errorRate: 0,
  latencyP50Ms: 0,
  latencyP95Ms: 0,
});

/**
 * Summarises a window of samples: error rate and nearest-rank p50 / p95 latency over every request
 * (a timed-out request counts with the time it was given, so timeouts raise the latency too).
 *
 * @example
 * summariseWindow([{ ok: true, latencyMs: 3 }, { ok: false, latencyMs: 2000 }]).errorRate; // 0.5
 */
export function summariseWindow(samples: readonly OutcomeSample[]): WindowStats {
  if (samples.length === 0) return { ...EMPTY_WINDOW };
  const errors = samples.filter((sample) => !sample.ok).length;
  const latencies = samples.map((sample) => sample.latencyMs).sort((a, b) => a - b);
  return {
    requests: samples.length,
    errors,
    errorRate: errors / samples.length,
    latencyP50Ms: round(percentile(latencies, 50)),
    latencyP95Ms: round(percentile(latencies, 95)),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
