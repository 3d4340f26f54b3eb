import { formatCents } from '@acme/money';

/**
 * The text lines of an invoice: one per item (quantity × unit price), then the total.
 * Discounts are items with a negative unit price.
 *
 * @example
 * invoiceLines([{ name: 'Seat', quantity: 3, unitCents: 1200 }]);
 * // ['Seat  3 x 12.00  36.00', 'Total  36.00']
 */
export function invoiceLines(items) {
  let total = 0;
  const lines = items.map(({ name, quantity, unitCents }) => {
    const amount = quantity * unitCents;
    total += amount;
    return `${name}  ${quantity} x ${formatCents(unitCents)}  ${formatCents(amount)}`;
  });
  return [...lines, `Total  ${formatCents(total)}`];
}
