const assert = require('node:assert/strict');
const { test } = require('node:test');
const { tooLargeMessage } = require('../lib/limits.js');

test('the message names both sizes', () => {
  assert.equal(tooLargeMessage(1536, 1000), 'File is 1.5 KiB; the limit is 1000 B.');
});
