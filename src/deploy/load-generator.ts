import { Agent } from 'node:http';
import type { WindowStats } from '../ports/deployer.js';
import { probe } from './http-probe.js';
import type { TrafficItem } from './service-spec.js';
import { EXPECT_STATUS_HEADER, TRAFFIC_CLASS_HEADER } from './traffic-router.js';
import { type OutcomeSample, summariseWindow } from './window-stats.js';

export interface LoadRun {
  /** `http://127.0.0.1:<port>`: a traffic router or a single version. */
  endpoint: string;
  mix: readonly TrafficItem[];
  requestsPerSecond: number;
  durationMs: number;
  /** A request with no answer by then counts as an error; default 2000. */
  timeoutMs?: number;
}

export interface LoadReport {
  /** Every request of the run, as the client saw it. */
  stats: WindowStats;
  /** The same, per mix item. */
  byItem: Record<string, WindowStats>;
}

/**
 * Sends the traffic mix at a steady rate for a while and measures what came back: an error is a status
 * other than the item's `expectStatus`, a failed connection, or no answer within `timeoutMs`. Requests
 * go out on schedule whether or not earlier ones answered (a slow version must not slow the load down),
 * and the run ends when the last one settles. Items follow a smooth weighted rotation, so the mix is
 * exact and the same on every run. Each request carries its expected status and item name for the router.
 *
 * @example
 * const { stats } = await generateLoad({ endpoint: router.endpoint, mix: spec.traffic.mix, requestsPerSecond: 60, durationMs: 2000 });
 */
export async function generateLoad(run: LoadRun): Promise<LoadReport> {
  const count = Math.max(1, Math.round((run.durationMs * run.requestsPerSecond) / 1000));
  const gapMs = 1000 / run.requestsPerSecond;
  const nextItem = weightedRotation(run.mix);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const samples: Array<OutcomeSample & { item: string }> = [];
  const inFlight: Promise<void>[] = [];
  const start = Date.now();
  try {
    for (let i = 0; i < count; i++) {
      const due = start + i * gapMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const item = nextItem();
      inFlight.push(
        probe(
          run.endpoint,
          {
            ...item,
            headers: { [EXPECT_STATUS_HEADER]: String(item.expectStatus), [TRAFFIC_CLASS_HEADER]: item.name },
          },
          { timeoutMs: run.timeoutMs ?? 2000, agent },
        ).then((outcome) => {
          samples.push({ ok: outcome.ok, latencyMs: outcome.latencyMs, item: item.name });
        }),
      );
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  const byItem: Record<string, WindowStats> = {};
  for (const item of new Set(run.mix.map((entry) => entry.name))) {
    byItem[item] = summariseWindow(samples.filter((sample) => sample.item === item));
  }
  return { stats: summariseWindow(samples), byItem };
}

/** Smooth weighted round-robin over the mix: over any `sum(weights)` picks each item comes up `weight` times. */
function weightedRotation(mix: readonly TrafficItem[]): () => TrafficItem {
  const total = mix.reduce((sum, item) => sum + item.weight, 0);
  const current = mix.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < mix.length; i++) {
      current[i] = (current[i] ?? 0) + (mix[i]?.weight ?? 0);
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    }
    current[best] = (current[best] ?? 0) - total;
    const item = mix[best];
    if (!item) throw new Error('the traffic mix is empty');
    return item;
  };
}
