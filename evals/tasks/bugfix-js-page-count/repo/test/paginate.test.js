import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageCount, pageOf } from '../src/paginate.js';

test('a list that fills its pages exactly', () => {
  assert.equal(pageCount(40, 20), 2);
});

test('an empty list has no pages', () => {
  assert.equal(pageCount(0, 20), 0);
});

test('pageOf returns the items of one page', () => {
  assert.deepEqual(pageOf([1, 2, 3, 4, 5], 2, 2), [3, 4]);
});
