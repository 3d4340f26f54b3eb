/**
 * `<itunes:duration>` as feeds write it: plain seconds ("3723"), "MM:SS" ("45:30") or
 * "HH:MM:SS" ("1:02:03"). Returns whole seconds, or null for a value no player would read.
 *
 * @example
 * parseEpisodeDuration('1:02:03'); // 3723
 */
export function parseEpisodeDuration(text) {
  const value = String(text ?? '').trim();
  if (/^\d+$/.test(value)) return Number(value);
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts.every((part) => /^\d{1,2}$/.test(part))) return null;
  const [hours = 0, minutes = 0, seconds = 0] = parts.map(Number);
  if (minutes > 59 || seconds > 59) return null;
  return hours * 3600 + minutes * 60 + seconds;
}

/**
 * Seconds as the site shows them: "1 h 2 min", "45 min", "50 s".
 *
 * @example
 * formatEpisodeDuration(3723); // '1 h 2 min'
 */
export function formatEpisodeDuration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}
