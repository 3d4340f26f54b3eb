/** Formats whole cents as a price, e.g. 1999 -> "$19.99". */
export function formatCents(cents) {
  return `$${Math.floor(cents / 100)}.${cents % 100}`;
}
