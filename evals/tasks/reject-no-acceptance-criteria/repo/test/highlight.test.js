import assert from 'node:assert/strict';
import { test } from 'node:test';
import { highlight } from '../src/highlight.js';

test('marks every occurrence', () => {
  assert.equal(highlight('Tea and tea', 'tea'), '<mark>Tea</mark> and <mark>tea</mark>');
});
