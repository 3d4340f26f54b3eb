import { parseEpisodeDuration } from './duration.js';

const ITEM = /<item>([\s\S]*?)<\/item>/g;

function tag(xml, name) {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? match[1].trim() : undefined;
}

/**
 * The episodes of an RSS feed: title, link and duration in seconds (null when the feed gives none
 * that can be read). Only the few tags the index needs are read.
 */
export function episodesOf(xml) {
  return [...xml.matchAll(ITEM)].map(([, item]) => ({
    title: tag(item, 'title') ?? '',
    link: tag(item, 'link') ?? '',
    seconds: parseEpisodeDuration(tag(item, 'itunes:duration')),
  }));
}

/** Downloads a feed and reads its episodes. */
export async function fetchEpisodes(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return episodesOf(await response.text());
}
