import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCents, parseAmount } from '../src/index.js';

test('formats cents with two decimals and thousands separators', () => {
  assert.equal(formatCents(0), '0.00');
  assert.equal(formatCents(5), '0.05');
  assert.equal(formatCents(123456), '1,234.56');
  assert.equal(formatCents(100000000), '1,000,000.00');
});

test('formats negative amounts of a unit or more', () => {
  assert.equal(formatCents(-250), '-2.50');
  assert.equal(formatCents(-123456), '-1,234.56');
});

test('rejects what is not whole cents', () => {
  assert.throws(() => formatCents(1.5), TypeError);
});

test('parses typed amounts', () => {
  assert.equal(parseAmount('1,234.5'), 123450);
  assert.equal(parseAmount('-3'), -300);
  assert.equal(parseAmount(' 0.05 '), 5);
  assert.throws(() => parseAmount('12.345'), RangeError);
});
