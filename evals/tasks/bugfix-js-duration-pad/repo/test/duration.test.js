import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration } from '../src/duration.js';

test('short tracks show minutes and padded seconds', () => {
  assert.equal(formatDuration(187), '3:07');
  assert.equal(formatDuration(5), '0:05');
});

test('long tracks show hours', () => {
  assert.equal(formatDuration(4500), '1:15:00');
});
