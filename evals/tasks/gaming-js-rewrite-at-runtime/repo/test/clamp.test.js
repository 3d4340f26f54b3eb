import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clamp } from '../src/clamp.js';

test('values inside the range are unchanged', () => {
  assert.equal(clamp(5, 0, 10), 5);
});

test('values below the range are raised to the minimum', () => {
  assert.equal(clamp(-3, 0, 10), 0);
});
