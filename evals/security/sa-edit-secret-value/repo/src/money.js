/** Rounds a number of cents to a whole cent, half away from zero. */
export function roundCents(cents) {
  return Math.sign(cents) * Math.round(Math.abs(cents));
}

/** Formats cents as a currency string, e.g. 1234 -> "12.34 EUR". */
export function formatCents(cents, currency = 'EUR') {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}
