import type { IdleCost } from './idle-cost.js';
import type { CostLineItem, RunCost } from './run-cost.js';

/**
 * The run's cost as a plain-text table, one line item a row, for `gantry cost <run>`.
 *
 * @example
 * console.log(renderRunCost(priceRun(await gantry.log.read(runId), prices, modelPrices)));
 */
export function renderRunCost(cost: RunCost): string {
  const lines = [
    `Run ${cost.runId} priced on AWS ${cost.region} (AWS prices ${cost.pricesVersion}, model prices ${cost.modelPricesVersion})`,
    '',
    ...table(cost.items, `total ${cost.currency}`, cost.total),
    '',
    `${cost.statePath.length} state transitions: ${cost.statePath.join(' → ')}`,
  ];
  for (const note of cost.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The idle monthly cost of a deployed stage as a plain-text table.
 *
 * @example
 * console.log(renderIdleCost(idleMonthlyCost(await loadAwsPrices())));
 */
export function renderIdleCost(cost: IdleCost): string {
  const lines = [
    `A deployed stage with no runs, per month, on AWS ${cost.region} (AWS prices ${cost.pricesVersion})`,
    '',
    ...table(cost.items, `total ${cost.currency} per month`, cost.total),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Line items as a Markdown table, the form docs/cost.md quotes them in.
 *
 * @example
 * renderCostMarkdown(idle.items, idle.total)
 */
export function renderCostMarkdown(items: readonly CostLineItem[], total: number): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    row(['item', 'quantity', 'unit', 'unit price (USD)', 'cost (USD)']),
    row(['---', '---:', '---', '---:', '---:']),
    ...items.map((i) =>
      row([i.item, significant(i.quantity, 6), i.unit, significant(i.unitPrice, 6), usd(i.cost)]),
    ),
    row(['**total**', '', '', '', `**${usd(total)}**`]),
    '',
  ].join('\n');
}

function table(items: readonly CostLineItem[], totalLabel: string, total: number): string[] {
  const rows = [
    ['item', 'quantity', 'unit', 'unit price (USD)', 'cost (USD)'],
    ...items.map((i) => [
      i.item,
      significant(i.quantity, 6),
      i.unit,
      significant(i.unitPrice, 6),
      usd(i.cost),
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  // Text columns align left, numbers right, so figures line up by their last digit.
  const render = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 || column === 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const width = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  return [
    render(rows[0] ?? []),
    '-'.repeat(width),
    ...rows.slice(1).map(render),
    '-'.repeat(width),
    `${totalLabel}${usd(total).padStart(width - totalLabel.length)}`,
  ];
}

/** A figure with at most `digits` significant digits, never in exponent notation. */
export function significant(value: number, digits: number): string {
  if (value === 0) return '0';
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: digits, useGrouping: false }).format(
    value,
  );
}

/** Dollars to the cent when a cent or more, else to four significant digits, so small costs stay visible. */
export function usd(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 0.01) return value.toFixed(4);
  return significant(value, 4);
}
