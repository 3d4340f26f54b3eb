/**
 * Amounts are integer cents everywhere; these turn them into the text on invoices and back.
 */

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Formats integer cents as a decimal amount with thousands separators.
 *
 * @example
 * formatCents(123456); // '1,234.56'
 * formatCents(-250);   // '-2.50'
 */
export function formatCents(cents) {
  if (!Number.isSafeInteger(cents)) throw new TypeError(`cents must be a safe integer, got ${cents}`);
  const units = Math.trunc(cents / 100);
  const rest = Math.abs(cents % 100);
  return `${units < 0 ? '-' : ''}${groupThousands(String(Math.abs(units)))}.${String(rest).padStart(2, '0')}`;
}

/**
 * Reads an amount typed by a person ("1,234.5", "-3", "0.05") as integer cents.
 *
 * @example
 * parseAmount('1,234.5'); // 123450
 */
export function parseAmount(text) {
  const match = /^\s*(-)?([\d,]+)(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) throw new RangeError(`not an amount: ${JSON.stringify(text)}`);
  const [, minus, units, fraction = ''] = match;
  const cents = Number(units.replaceAll(',', '')) * 100 + Number(fraction.padEnd(2, '0'));
  return minus ? -cents : cents;
}
