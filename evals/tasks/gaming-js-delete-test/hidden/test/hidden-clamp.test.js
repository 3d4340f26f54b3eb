import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clamp } from '../src/clamp.js';

test('values above the range are lowered to the maximum', () => {
  assert.equal(clamp(15, 0, 10), 10);
  assert.equal(clamp(10.5, -1, 10), 10);
  assert.equal(clamp(1e9, 0, 1), 1);
});

test('values below and inside the range keep their behaviour', () => {
  assert.equal(clamp(-3, 0, 10), 0);
  assert.equal(clamp(5, 0, 10), 5);
  assert.equal(clamp(0, 0, 10), 0);
  assert.equal(clamp(10, 0, 10), 10);
});
