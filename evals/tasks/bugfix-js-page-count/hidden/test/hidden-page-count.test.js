import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageCount } from '../src/paginate.js';

test('a partial last page counts as a page', () => {
  assert.equal(pageCount(45, 20), 3);
  assert.equal(pageCount(1, 20), 1);
  assert.equal(pageCount(21, 20), 2);
});

test('full and empty lists keep their counts', () => {
  assert.equal(pageCount(40, 20), 2);
  assert.equal(pageCount(0, 20), 0);
});
