import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latestRelease } from '../src/releases.js';

test('the newest release of single-digit versions', () => {
  assert.equal(latestRelease(['1.2.0', '1.3.1', '1.3.0']), '1.3.1');
});
