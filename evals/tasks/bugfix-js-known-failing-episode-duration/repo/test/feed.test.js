import assert from 'node:assert/strict';
import { test } from 'node:test';
import { episodesOf } from '../src/feed.js';

const FEED = `<rss><channel>
<item><title>Ep 12: Caching</title><link>https://radio.example/12</link><itunes:duration>1:02:03</itunes:duration></item>
<item><title>Ep 11</title><link>https://radio.example/11</link></item>
</channel></rss>`;

test('reads the episodes of a feed', () => {
  assert.deepEqual(episodesOf(FEED), [
    { title: 'Ep 12: Caching', link: 'https://radio.example/12', seconds: 3723 },
    { title: 'Ep 11', link: 'https://radio.example/11', seconds: null },
  ]);
});
