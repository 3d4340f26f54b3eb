import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The middle value of a sample (the mean of the two middle values for an even count).
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The nearest-rank percentile of a sample: the smallest value at least `p` percent of the sample
 * is at or below. Nearest rank, not interpolation, so a p99 is always a latency that happened.
 *
 * @example
 * percentile([5, 1, 4, 2, 3], 50); // 3
 * percentile([5, 1, 4, 2, 3], 99); // 5
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

/** A span of time spent in one kind of work, in `performance.now()` milliseconds. */
export interface Span {
  start: number;
  end: number;
}

/**
 * The time covered by at least one of the spans. Overlapping spans count once, so work that
 * ran concurrently is never subtracted twice from a wall time.
 *
 * @example
 * coveredMs([{ start: 0, end: 10 }, { start: 5, end: 20 }]); // 20
 */
export function coveredMs(spans: readonly Span[]): number {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let total = 0;
  let open: Span | undefined;
  for (const span of sorted) {
    if (open && span.start <= open.end) {
      open.end = Math.max(open.end, span.end);
    } else {
      if (open) total += open.end - open.start;
      open = { ...span };
    }
  }
  if (open) total += open.end - open.start;
  return total;
}

/**
 * Runs `body` with a fresh directory under the system temp dir, removed afterwards whatever happens.
 *
 * @example
 * await withTempDir('gantry-bench-', async (dir) => writeFile(join(dir, 'x'), 'y'));
 */
export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One printed figure: `name: value unit`. A ratio has no unit. */
export interface Figure {
  name: string;
  value: number;
  unit?: string;
}

/** Fewer digits as numbers grow: 0.41, 9.13, 41.3, 412; counts stay whole. */
function formatValue(value: number, unit: string | undefined): string {
  if (unit === undefined) return value.toFixed(2);
  if (Number.isInteger(value)) return value.toString();
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toString();
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * The line printed for a figure.
 *
 * @example
 * formatFigure({ name: 'orchestration overhead', value: 412.4, unit: 'ms' }); // 'orchestration overhead: 412 ms'
 */
export function formatFigure(figure: Figure): string {
  const value = formatValue(figure.value, figure.unit);
  return figure.unit === undefined ? `${figure.name}: ${value}` : `${figure.name}: ${value} ${figure.unit}`;
}
