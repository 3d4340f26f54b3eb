import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invoiceLines } from '../src/index.js';

test('one line per item and a total', () => {
  assert.deepEqual(
    invoiceLines([
      { name: 'Seat', quantity: 3, unitCents: 1200 },
      { name: 'Setup', quantity: 1, unitCents: 50000 },
    ]),
    ['Seat  3 x 12.00  36.00', 'Setup  1 x 500.00  500.00', 'Total  536.00'],
  );
});

test('a discount line is negative', () => {
  assert.deepEqual(invoiceLines([{ name: 'Loyalty', quantity: 1, unitCents: -1500 }]), [
    'Loyalty  1 x -15.00  -15.00',
    'Total  -15.00',
  ]);
});
