import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCents } from '../src/money.js';

test('prices show their cents', () => {
  assert.equal(formatCents(1999), '$19.99');
});

// Known bug tracked separately (PRICE-88): single-digit cents are not padded.
test('single-digit cents are padded', () => {
  assert.equal(formatCents(1905), '$19.05');
});
