import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatQuery, parseQuery } from '../src/index.js';

test('reads names and values, with or without the question mark', () => {
  assert.deepEqual(parseQuery('?page=2&q=hello+world'), { page: ['2'], q: ['hello world'] });
  assert.deepEqual(parseQuery('page=2'), { page: ['2'] });
});

test('keeps every value of a repeated name', () => {
  assert.deepEqual(parseQuery('tag=a&tag=b'), { tag: ['a', 'b'] });
});

test('a name without a value reads as the empty string', () => {
  assert.deepEqual(parseQuery('debug&x='), { debug: [''], x: [''] });
});

test('writes what it reads', () => {
  const query = 'q=hello%20world&tag=a&tag=b';
  assert.equal(formatQuery(parseQuery(query)), query);
});
