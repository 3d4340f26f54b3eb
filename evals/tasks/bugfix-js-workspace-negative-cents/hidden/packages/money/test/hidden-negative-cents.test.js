import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCents, parseAmount } from '../src/index.js';

test('amounts between minus one unit and zero keep their sign', () => {
  assert.equal(formatCents(-50), '-0.50');
  assert.equal(formatCents(-5), '-0.05');
  assert.equal(formatCents(-99), '-0.99');
});

test('other amounts are unchanged', () => {
  assert.equal(formatCents(0), '0.00');
  assert.equal(formatCents(-100), '-1.00');
  assert.equal(formatCents(-123456), '-1,234.56');
  assert.equal(formatCents(42), '0.42');
});

test('what is formatted parses back', () => {
  for (const cents of [-1, -50, -99, -100, -101, 0, 7, 123456, -987654]) {
    assert.equal(parseAmount(formatCents(cents)), cents, String(cents));
  }
});
