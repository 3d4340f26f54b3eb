const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { test } = require('node:test');
const { formatBytes, VERSION } = require('#bytes-fmt');
const { tooLargeMessage } = require('../lib/limits.js');

test('the app resolves bytes-fmt 0.4.2', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  assert.equal(manifest.dependencies['bytes-fmt'], 'file:vendor/bytes-fmt-0.4.2');
  assert.equal(VERSION, '0.4.2');
});

test('exact powers of 1024 use the larger unit', () => {
  assert.equal(formatBytes(1024), '1 KiB');
  assert.equal(formatBytes(1048576), '1 MiB');
  assert.equal(tooLargeMessage(2097152, 1048576), 'File is 2 MiB; the limit is 1 MiB.');
});
