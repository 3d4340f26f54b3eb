import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invoiceTotals } from '../src/invoice.js';

const lines = [
  { sku: 'PLAN-PRO', unitPriceCents: 4900, quantity: 2 },
  { sku: 'SEAT', unitPriceCents: 1000, quantity: 3 },
];

test('applies a negotiated discount before tax', () => {
  const totals = invoiceTotals({ lines, discountPercent: 10 });
  assert.deepEqual(totals, { subtotal: 12800, discount: 1280, tax: 2304, total: 13824 });
});

test('applies the loyalty discount when the customer has none', () => {
  const totals = invoiceTotals({ lines });
  assert.deepEqual(totals, { subtotal: 12800, discount: 640, tax: 2432, total: 14592 });
});
