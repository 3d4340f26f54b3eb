import { readFile } from 'node:fs/promises';
import picomatch from 'picomatch';
import YAML from 'yaml';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import type { RunEvent } from '../domain/events.js';

/** What one run may spend. The runtime enforces it; the model is never asked to. */
export const RunBudget = z.strictObject({
  maxModelTokens: z.number().int().positive(),
  maxToolCalls: z.number().int().positive(),
  maxWallTimeSeconds: z.number().int().positive(),
  maxCostUsd: z.number().positive(),
});
export type RunBudget = z.infer<typeof RunBudget>;

export const PriceTable = z.strictObject({
  version: z.string().min(1),
  currency: z.literal('USD'),
  models: z
    .array(
      z.strictObject({
        match: z.string().min(1),
        inputPerMillion: z.number().min(0),
        outputPerMillion: z.number().min(0),
      }),
    )
    .min(1),
});
export type PriceTable = z.infer<typeof PriceTable>;

/** Loads `policies/model-prices.yaml`; a malformed table names the file and each wrong field. */
export async function loadPriceTable(file: string): Promise<PriceTable> {
  const parsed = PriceTable.safeParse(YAML.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    throw new InvalidInputError(
      `the price table ${file} is invalid: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: file,
        hint: 'fix the listed fields; every model entry needs match, inputPerMillion and outputPerMillion',
      },
    );
  }
  return parsed.data;
}

/**
 * The cost in USD of one model turn, by the first matching entry of the table.
 *
 * @example
 * costOf(table, 'anthropic.claude-sonnet-4-5', 1_000_000, 0) // 3
 */
export function costOf(table: PriceTable, model: string, inputTokens: number, outputTokens: number): number {
  const entry = table.models.find((m) => picomatch.isMatch(model, m.match));
  if (!entry) return 0;
  return (inputTokens * entry.inputPerMillion + outputTokens * entry.outputPerMillion) / 1_000_000;
}

export interface RunUsage {
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  costUsd: number;
  /** Seconds since the request arrived, less the time spent waiting for people at gates. */
  wallTimeSeconds: number;
}

/** What a run has spent so far, read from its own events, so a resumed run counts what came before. */
export function usageOf(events: readonly RunEvent[], prices: PriceTable, now: Date): RunUsage {
  const usage: RunUsage = { inputTokens: 0, outputTokens: 0, toolCalls: 0, costUsd: 0, wallTimeSeconds: 0 };
  let waitingSince: number | undefined;
  let waited = 0;
  for (const event of events) {
    if (event.type === 'model.turn') {
      usage.inputTokens += event.data.inputTokens;
      usage.outputTokens += event.data.outputTokens;
      usage.costUsd += costOf(prices, event.data.model, event.data.inputTokens, event.data.outputTokens);
    } else if (event.type === 'tool.requested') {
      usage.toolCalls++;
    } else if (event.type === 'run.state') {
      if (event.data.state === 'waiting_for_approval') waitingSince ??= Date.parse(event.at);
      else if (waitingSince !== undefined) {
        waited += Date.parse(event.at) - waitingSince;
        waitingSince = undefined;
      }
    }
  }
  // A run still waiting at a gate, or re-running its steps on the way back to the gate a person just
  // answered, has spent nothing since the wait began: that time is the approver's.
  if (waitingSince !== undefined) waited += Math.max(0, now.getTime() - waitingSince);
  const start = events[0] ? Date.parse(events[0].at) : now.getTime();
  usage.wallTimeSeconds = Math.max(0, (now.getTime() - start - waited) / 1000);
  return usage;
}

/** The first budget the usage breaks, as a sentence for the run's failure reason. */
export function budgetViolation(usage: RunUsage, budget: RunBudget): string | undefined {
  const tokens = usage.inputTokens + usage.outputTokens;
  if (tokens > budget.maxModelTokens)
    return `model tokens ${tokens} exceed the budget of ${budget.maxModelTokens}`;
  if (usage.toolCalls > budget.maxToolCalls)
    return `tool calls ${usage.toolCalls} exceed the budget of ${budget.maxToolCalls}`;
  if (usage.costUsd > budget.maxCostUsd) {
    return `model cost ${usage.costUsd.toFixed(4)} USD exceeds the budget of ${budget.maxCostUsd} USD`;
  }
  if (usage.wallTimeSeconds > budget.maxWallTimeSeconds) {
    return `wall time ${Math.round(usage.wallTimeSeconds)} s exceeds the budget of ${budget.maxWallTimeSeconds} s`;
  }
  return undefined;
}
