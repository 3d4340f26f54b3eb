import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration } from '../src/duration.js';

test('minutes are two digits when there are hours', () => {
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(3600), '1:00:00');
  assert.equal(formatDuration(36000 + 540 + 9), '10:09:09');
});

test('durations under an hour keep their format', () => {
  assert.equal(formatDuration(187), '3:07');
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(600), '10:00');
});
