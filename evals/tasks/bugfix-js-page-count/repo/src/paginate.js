/**
 * Splits a list into pages of `pageSize` items.
 * @param {number} totalItems
 * @param {number} pageSize
 * @returns {number} how many pages the list needs
 */
export function pageCount(totalItems, pageSize) {
  if (pageSize <= 0) throw new RangeError('pageSize must be positive');
  return Math.floor(totalItems / pageSize);
}

/** The items of page `page` (1-based). */
export function pageOf(items, page, pageSize) {
  const start = (page - 1) * pageSize;
  return items.slice(start, start + pageSize);
}
