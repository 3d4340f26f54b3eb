/** Query parameters by name; a name that appears several times keeps every value, in order. */
export type QueryParams = Record<string, string[]>;

function decode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}

/**
 * Reads a query string, with or without its leading `?`.
 *
 * @example
 * parseQuery('?tag=a&tag=b&q=hello+world'); // { tag: ['a', 'b'], q: ['hello world'] }
 */
export function parseQuery(query: string): QueryParams {
  const params: QueryParams = {};
  const text = query.startsWith('?') ? query.slice(1) : query;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const [rawKey, rawValue = ''] = pair.split('=');
    const key = decode(rawKey);
    (params[key] ??= []).push(decode(rawValue));
  }
  return params;
}

/**
 * Writes parameters as a query string without the leading `?`, names in the order given.
 *
 * @example
 * formatQuery({ q: ['hello world'], tag: ['a', 'b'] }); // 'q=hello%20world&tag=a&tag=b'
 */
export function formatQuery(params: QueryParams): string {
  return Object.entries(params)
    .flatMap(([key, values]) => values.map((value) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`))
    .join('&');
}
