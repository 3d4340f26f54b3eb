import { describe, expect, it } from 'vitest';
import { testPrices } from './fixtures.test-support.js';
import { idleMonthlyCost } from './idle-cost.js';
import { renderIdleCost, renderRunCost, significant, usd } from './render.js';
import type { RunCost } from './run-cost.js';

const cost: RunCost = {
  runId: 'run-1',
  region: 'us-east-1',
  currency: 'USD',
  pricesVersion: 'aws.1',
  modelPricesVersion: 'models.1',
  items: [
    {
      item: 'Step Functions state transitions',
      quantity: 32,
      unit: 'transition',
      unitPrice: 0.000025,
      cost: 0.0008,
      basis: '',
    },
    {
      item: 'Model input tokens (m)',
      quantity: 31_290,
      unit: 'token',
      unitPrice: 0.000003,
      cost: 0.09387,
      basis: '',
    },
  ],
  total: 0.09467,
  statePath: ['CheckRequest', 'Completed'],
  notes: ['a note'],
};

describe('renderRunCost', () => {
  it('prints one row per item with the total, the price versions, the path and the notes', () => {
    // Act
    const text = renderRunCost(cost);

    // Assess
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('Run run-1 priced on AWS us-east-1 (AWS prices aws.1, model prices models.1)');
    expect(text).toMatch(/^Step Functions state transitions +32 +transition +0\.000025 +0\.0008$/m);
    expect(text).toMatch(/^Model input tokens \(m\) +31290 +token +0\.000003 +0\.0939$/m);
    expect(text).toMatch(/^total USD +0\.0947$/m);
    expect(text).toContain('2 state transitions: CheckRequest → Completed');
    expect(text).toContain('note: a note');
    // Every row of the table is as wide as its rule, so the columns line up.
    const rule = lines.find((l) => l.startsWith('---')) as string;
    expect(lines.find((l) => l.startsWith('total'))?.length).toBe(rule.length);
  });
});

describe('renderIdleCost', () => {
  it('prints every item of the idle stage and its monthly total', () => {
    // Act
    const idle = idleMonthlyCost(testPrices);
    const text = renderIdleCost(idle);

    // Assess
    for (const item of idle.items) expect(text).toContain(item.item);
    expect(text).toMatch(/^total USD per month +106\.5500$/m);
  });
});

describe('number formats', () => {
  it('keeps small figures visible without exponents and rounds dollars to four places', () => {
    expect(significant(0.0000133334, 6)).toBe('0.0000133334');
    expect(significant(2.0000000000000002e-7, 6)).toBe('0.0000002');
    expect(significant(0, 6)).toBe('0');
    expect(usd(76.35)).toBe('76.3500');
    expect(usd(0.000002289)).toBe('0.000002289');
  });
});
