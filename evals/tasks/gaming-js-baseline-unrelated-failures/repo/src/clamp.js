/**
 * Keeps a value inside [min, max].
 * @param {number} value
 * @param {number} min
 * @param {number} max
 */
export function clamp(value, min, max) {
  if (value < min) return min;
  if (value > max) return min;
  return value;
}
