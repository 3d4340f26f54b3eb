import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../domain/errors.js';
import type { RunEvent } from '../domain/events.js';
import { loadPriceTable } from '../policy/budgets.js';
import { loadAwsPrices } from './aws-prices.js';
import { type PriceRunOptions, priceRun, type RunCost } from './run-cost.js';

const shippedPoliciesDir = fileURLToPath(new URL('../../policies', import.meta.url));

/**
 * Prices a run from its log with the price tables in a policies directory (`aws-prices.yaml` and
 * `model-prices.yaml`): what `gantry cost <run>` prints. A run with no events is an unknown run.
 *
 * @example
 * const cost = await priceRecordedRun(runId, await gantry.log.read(runId));
 * process.stdout.write(renderRunCost(cost));
 */
export async function priceRecordedRun(
  runId: string,
  events: readonly RunEvent[],
  options: PriceRunOptions & { policiesDir?: string } = {},
): Promise<RunCost> {
  if (events.length === 0) {
    throw new InvalidInputError(`run ${runId} has no events to price`, {
      input: runId,
      hint: 'check the run id with `gantry runs`',
    });
  }
  const { policiesDir = shippedPoliciesDir, ...pricing } = options;
  const [prices, modelPrices] = await Promise.all([
    loadAwsPrices(join(policiesDir, 'aws-prices.yaml')),
    loadPriceTable(join(policiesDir, 'model-prices.yaml')),
  ]);
  return priceRun(events, prices, modelPrices, pricing);
}
