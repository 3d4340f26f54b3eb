import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../src/backoff.js';

test('the delay doubles with each attempt', () => {
  assert.equal(backoffDelay(0), 100);
  assert.equal(backoffDelay(1), 200);
  assert.equal(backoffDelay(3), 800);
});

test('a negative attempt is refused', () => {
  assert.throws(() => backoffDelay(-1), RangeError);
});
