/**
 * Formats a track length for the player, e.g. 3:07 or 1:02:05.
 * @param {number} totalSeconds a whole number of seconds, 0 or more
 */
export function formatDuration(totalSeconds) {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${minutes}:${ss}`;
  return `${minutes}:${ss}`;
}
