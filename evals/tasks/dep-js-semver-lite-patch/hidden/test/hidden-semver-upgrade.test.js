import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compare, VERSION } from '#semver-lite';
import { latestRelease } from '../src/releases.js';

test('the app resolves semver-lite 2.1.4', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(manifest.dependencies['semver-lite'], 'file:vendor/semver-lite-2.1.4');
  assert.equal(VERSION, '2.1.4');
});

test('multi-digit versions compare numerically', () => {
  assert.ok(compare('1.10.0', '1.9.0') > 0);
  assert.equal(latestRelease(['1.9.0', '1.10.0', '1.2.3']), '1.10.0');
});
