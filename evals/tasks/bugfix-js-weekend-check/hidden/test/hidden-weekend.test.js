const assert = require('node:assert/strict');
const { test } = require('node:test');
const { isWeekend, workingDays } = require('../lib/calendar.js');
const { shiftRate } = require('../lib/shifts.js');

test('every day of one week', () => {
  const expected = [false, false, false, false, false, true, true]; // Mon 16 .. Sun 22 Nov 2026
  expected.forEach((weekend, i) => {
    assert.equal(isWeekend(new Date(Date.UTC(2026, 10, 16 + i, 9))), weekend, `day ${16 + i}`);
  });
});

test('a week has 5 working days and Sunday pays the weekend rate', () => {
  assert.equal(workingDays(new Date('2026-11-16T00:00:00Z'), new Date('2026-11-22T00:00:00Z')), 5);
  assert.equal(shiftRate(new Date('2026-11-22T10:00:00Z'), 20), 30);
});
