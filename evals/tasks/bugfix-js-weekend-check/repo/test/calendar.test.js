const assert = require('node:assert/strict');
const { test } = require('node:test');
const { isWeekend } = require('../lib/calendar.js');

test('a Saturday is a weekend day', () => {
  assert.equal(isWeekend(new Date('2026-11-21T12:00:00Z')), true);
});

test('a Wednesday is not', () => {
  assert.equal(isWeekend(new Date('2026-11-18T12:00:00Z')), false);
});
