import { InvalidInputError } from '../domain/errors.js';

/**
 * JSON with object keys sorted (by UTF-16 code units, as RFC 8785 does) and no whitespace, so the same
 * value always gives the same bytes to sign. Keys whose value is `undefined` are left out, as
 * `JSON.stringify` does; numbers must be finite.
 *
 * @example
 * canonicalJson({ runId: 'r1', approvalId: 'apv-1', decision: 'approved' });
 * // '{"approvalId":"apv-1","decision":"approved","runId":"r1"}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw unsupported(String(value));
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw unsupported(typeof value);
}

function unsupported(what: string): InvalidInputError {
  return new InvalidInputError(`canonical JSON cannot hold ${what}`, {
    input: what,
    hint: 'sign only strings, finite numbers, booleans, null, arrays and plain objects',
  });
}
