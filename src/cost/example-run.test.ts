import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleCassette, exampleRequest, repoRoot, tempHome } from '../../test/support/gantry-cli.js';
import type { RunEvent } from '../domain/events.js';
import { parseRequestFile } from '../intake/request-file.js';
import { type Gantry, openGantry, type RunOutcome } from '../local/runtime.js';
import { costOf, loadPriceTable, type PriceTable } from '../policy/budgets.js';
import { type AwsPrices, loadAwsPrices } from './aws-prices.js';
import { idleMonthlyCost } from './idle-cost.js';
import { priceRecordedRun } from './recorded-run.js';
import { renderCostMarkdown, renderRunCost } from './render.js';
import { artifactHashes, type RunCost } from './run-cost.js';

/**
 * The billing example run on the embedded runtime, then priced as if it had run on AWS. docs/cost.md
 * quotes these figures; `GANTRY_PRINT_COST=1 npx vitest run src/cost/example-run.test.ts` prints them.
 */
describe('the billing example priced on AWS', () => {
  let home: { home: string; cleanup: () => Promise<void> };
  let gantry: Gantry;
  let outcome: RunOutcome;
  let events: RunEvent[];
  let prices: AwsPrices;
  let modelPrices: PriceTable;
  let cost: RunCost;

  beforeAll(async () => {
    home = await tempHome('gantry-cost-');
    gantry = await openGantry({ home: home.home });
    outcome = await gantry.submit(await parseRequestFile(exampleRequest), exampleCassette);
    events = await gantry.log.read(outcome.runId);
    const artifactBytes: Record<string, number> = {};
    for (const hash of artifactHashes(events))
      artifactBytes[hash] = (await gantry.artifacts.get(hash)).length;
    prices = await loadAwsPrices();
    modelPrices = await loadPriceTable(join(repoRoot, 'policies', 'model-prices.yaml'));
    cost = await priceRecordedRun(outcome.runId, events, { artifactBytes });
    if (process.env.GANTRY_PRINT_COST) {
      const idle = idleMonthlyCost(prices);
      process.stdout.write(`${renderRunCost(cost)}\n${renderCostMarkdown(cost.items, cost.total)}\n`);
      process.stdout.write(`${renderCostMarkdown(idle.items, idle.total)}\n`);
    }
  });

  afterAll(async () => {
    await gantry?.close();
    await home?.cleanup();
  });

  it('prices the completed run to a positive total, the sum of its items', () => {
    expect(outcome.state, outcome.reason).toBe('completed');
    expect(cost.runId).toBe(outcome.runId);
    expect(cost.total).toBeGreaterThan(0);
    expect(cost.total).toBe(cost.items.reduce((sum, i) => sum + i.cost, 0));
    expect(cost.pricesVersion).toBe(prices.version);
    expect(cost.modelPricesVersion).toBe(modelPrices.version);
  });

  it("prices model tokens exactly as the run's budget guard does, turn by turn", () => {
    const turns = events.filter(
      (e): e is Extract<RunEvent, { type: 'model.turn' }> => e.type === 'model.turn',
    );
    const guarded = turns.reduce(
      (sum, t) => sum + costOf(modelPrices, t.data.model, t.data.inputTokens, t.data.outputTokens),
      0,
    );
    const priced = cost.items.filter((i) => i.item.startsWith('Model ')).reduce((sum, i) => sum + i.cost, 0);
    expect(turns.length).toBeGreaterThan(0);
    expect(guarded).toBeGreaterThan(0);
    expect(priced).toBeCloseTo(guarded, 12);
  });

  it('walks the issue resolver from CheckRequest to Completed along the recorded steps', () => {
    expect(cost.notes).toEqual([]);
    expect(cost.statePath[0]).toBe('CheckRequest');
    expect(cost.statePath.at(-1)).toBe('Completed');
    const transitions = cost.items.find((i) => i.item === 'Step Functions state transitions');
    expect(transitions?.quantity).toBe(cost.statePath.length);
    const recorded = events
      .filter((e) => e.type === 'step.completed')
      .map((e) => (e.data as { step: string }).step);
    for (const state of recorded) expect(cost.statePath).toContain(state);
  });

  it('runs the seven workspace steps as sandbox tasks, each billed at least a minute', () => {
    const vcpu = cost.items.find((i) => i.item.startsWith('Fargate vCPU'));
    expect(vcpu?.basis).toMatch(/^7 sandbox tasks/);
    expect(vcpu?.quantity).toBeGreaterThanOrEqual(7 * 60 * prices.fargate.sandboxTask.vcpu);
  });

  it('matches the figures docs/cost.md quotes', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'cost.md'), 'utf8');
    const idle = renderCostMarkdown(idleMonthlyCost(prices).items, idleMonthlyCost(prices).total);
    for (const line of idle.trimEnd().split('\n')) expect(doc, 'regenerate docs/cost.md').toContain(line);
    // Figures that do not depend on how fast this machine ran the steps.
    const rows = renderCostMarkdown(cost.items, cost.total).split('\n');
    const stable = ['Step Functions state transitions', 'Lambda requests', 'S3 PUT requests', 'Model '];
    const quoted = rows.filter((r) => stable.some((name) => r.startsWith(`| ${name}`)));
    expect(quoted).toHaveLength(5);
    for (const row of quoted) expect(doc, `docs/cost.md should quote: ${row}`).toContain(row);
  });
});
