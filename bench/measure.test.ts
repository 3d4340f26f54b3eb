import { describe, expect, it } from 'vitest';
import { coveredMs, formatFigure, median, percentile } from './measure.js';

describe('coveredMs', () => {
  it('counts overlapping spans once and adds disjoint ones', () => {
    // Prepare: a model call overlapping a sandbox command, and a later command on its own.
    const spans = [
      { start: 100, end: 150 },
      { start: 0, end: 10 },
      { start: 5, end: 20 },
      { start: 140, end: 160 },
    ];
    // Act
    const covered = coveredMs(spans);
    // Assess: [0, 20] and [100, 160].
    expect(covered).toBe(80);
  });

  it('is zero without spans', () => {
    expect(coveredMs([])).toBe(0);
  });
});

describe('median', () => {
  it('takes the middle of an odd sample and the mean of the middle pair of an even one', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses an empty sample', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('percentile', () => {
  it('takes the nearest rank, so a p99 of 200 samples is the second largest value', () => {
    // Prepare: 1..200 shuffled, so sorting is part of what is checked.
    const sample = Array.from({ length: 200 }, (_, i) => ((i * 73) % 200) + 1);
    // Act
    const [p50, p99, p100] = [percentile(sample, 50), percentile(sample, 99), percentile(sample, 100)];
    // Assess
    expect([p50, p99, p100]).toEqual([100, 198, 200]);
  });

  it('refuses an empty sample and a percentile outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('formatFigure', () => {
  it('prints name, value and unit, fewer digits as values grow, ratios with two decimals', () => {
    expect(formatFigure({ name: 'orchestration overhead', value: 412.4, unit: 'ms' })).toBe(
      'orchestration overhead: 412 ms',
    );
    expect(formatFigure({ name: 'sandbox start overhead', value: 9.134, unit: 'ms added' })).toBe(
      'sandbox start overhead: 9.13 ms added',
    );
    expect(formatFigure({ name: 'commands', value: 12, unit: 'commands' })).toBe('commands: 12 commands');
    expect(formatFigure({ name: 'orchestration overhead / target', value: 0.4124 })).toBe(
      'orchestration overhead / target: 0.41',
    );
  });
});
