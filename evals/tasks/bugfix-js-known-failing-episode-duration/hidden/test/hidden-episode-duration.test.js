import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEpisodeDuration, parseEpisodeDuration } from '../src/duration.js';
import { episodesOf } from '../src/feed.js';

test('two parts are minutes and seconds', () => {
  assert.equal(parseEpisodeDuration('45:30'), 2730);
  assert.equal(parseEpisodeDuration('05:00'), 300);
  assert.equal(parseEpisodeDuration('0:59'), 59);
  assert.equal(formatEpisodeDuration(parseEpisodeDuration('45:30')), '45 min');
});

test('three parts and plain seconds are unchanged', () => {
  assert.equal(parseEpisodeDuration('1:02:03'), 3723);
  assert.equal(parseEpisodeDuration('3723'), 3723);
  assert.equal(parseEpisodeDuration('12:60'), null);
  assert.equal(parseEpisodeDuration('1:2:3:4'), null);
});

test('a feed with MM:SS durations', () => {
  const feed = '<item><title>Short</title><link>https://radio.example/s</link><itunes:duration>12:34</itunes:duration></item>';
  assert.deepEqual(episodesOf(feed), [{ title: 'Short', link: 'https://radio.example/s', seconds: 754 }]);
});
