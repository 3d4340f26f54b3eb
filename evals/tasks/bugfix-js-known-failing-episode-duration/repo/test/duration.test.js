import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEpisodeDuration, parseEpisodeDuration } from '../src/duration.js';

test('plain seconds and HH:MM:SS', () => {
  assert.equal(parseEpisodeDuration('3723'), 3723);
  assert.equal(parseEpisodeDuration('1:02:03'), 3723);
  assert.equal(parseEpisodeDuration(' 0:00:50 '), 50);
});

test('unreadable durations are null', () => {
  for (const text of ['', 'abc', '1:2:3:4', '1:75:00', '10:x', undefined]) {
    assert.equal(parseEpisodeDuration(text), null, String(text));
  }
});

test('shown as hours and minutes', () => {
  assert.equal(formatEpisodeDuration(3723), '1 h 2 min');
  assert.equal(formatEpisodeDuration(2730), '45 min');
  assert.equal(formatEpisodeDuration(50), '50 s');
});
