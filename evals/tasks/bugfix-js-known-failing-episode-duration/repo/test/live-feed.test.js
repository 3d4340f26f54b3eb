// Checks the reader against the real feed the site is built from: it needs the internet, which CI
// runners (and Gantry's sandbox, which sets CI) do not have, so it skips itself there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchEpisodes } from '../src/feed.js';

const LIVE_FEED = 'https://feeds.acme-radio.fm/engineering/rss.xml';
const offline = process.env.CI ? 'needs the internet; CI has none' : false;

test('the live feed has episodes with readable durations', { skip: offline }, async () => {
  const episodes = await fetchEpisodes(LIVE_FEED);
  assert.ok(episodes.length > 0);
  assert.ok(episodes.every((episode) => episode.seconds !== null));
});
