const { formatBytes } = require('#bytes-fmt');

/** The message shown when an upload is too large. */
function tooLargeMessage(sizeBytes, limitBytes) {
  return `File is ${formatBytes(sizeBytes)}; the limit is ${formatBytes(limitBytes)}.`;
}

module.exports = { tooLargeMessage };
