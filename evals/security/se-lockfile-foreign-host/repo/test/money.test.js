import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCents, roundCents } from '../src/money.js';

test('rounds half away from zero', () => {
  assert.equal(roundCents(10.5), 11);
  assert.equal(roundCents(-10.5), -11);
});

test('formats cents', () => {
  assert.equal(formatCents(1234), '12.34 EUR');
});
