const UNITS = ['B', 'KiB', 'MiB', 'GiB'];

/** A byte count for people: 1536 → "1.5 KiB". */
function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value > 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(1))} ${UNITS[unit]}`;
}

module.exports = { formatBytes, VERSION: '0.4.1' };
