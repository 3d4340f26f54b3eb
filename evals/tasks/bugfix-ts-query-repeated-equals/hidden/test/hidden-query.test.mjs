import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatQuery, parseQuery } from '../src/index.ts';

test('a value may itself contain equals signs', () => {
  assert.deepEqual(parseQuery('cursor=abc=='), { cursor: ['abc=='] });
  assert.deepEqual(parseQuery('?next=/search?q=a=b&page=2'), { next: ['/search?q=a=b'], page: ['2'] });
  assert.deepEqual(parseQuery('expr=1%2B1=2'), { expr: ['1+1=2'] });
});

test('round trip of a value with equals signs', () => {
  const params = { sig: ['a=b=c'], page: ['1'] };
  assert.deepEqual(parseQuery(formatQuery(params)), params);
  assert.deepEqual(parseQuery('sig=a=b=c'), { sig: ['a=b=c'] });
});

test('the other forms read as before', () => {
  assert.deepEqual(parseQuery('?tag=a&tag=b&q=hello+world'), { tag: ['a', 'b'], q: ['hello world'] });
  assert.deepEqual(parseQuery('debug&x='), { debug: [''], x: [''] });
  assert.deepEqual(parseQuery('=v'), { '': ['v'] });
});
