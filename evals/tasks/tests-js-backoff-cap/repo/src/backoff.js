/**
 * The delay before retry number `attempt` (0-based): it doubles each time from `baseMs`, and never
 * exceeds `maxMs`, so a long outage does not push retries hours apart.
 */
export function backoffDelay(attempt, { baseMs = 100, maxMs = 10_000 } = {}) {
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError('attempt must be a whole number, 0 or more');
  const delay = baseMs * 2 ** attempt;
  return Math.min(delay, maxMs);
}

/** Every delay of a retry schedule with `retries` retries. */
export function retrySchedule(retries, options) {
  return Array.from({ length: retries }, (_, attempt) => backoffDelay(attempt, options));
}
