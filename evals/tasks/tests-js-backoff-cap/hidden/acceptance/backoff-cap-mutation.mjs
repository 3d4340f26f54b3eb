// Hidden acceptance: the suite passes, and fails when the cap branch of backoffDelay is broken.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const file = 'src/backoff.js';
const original = readFileSync(file, 'utf8');
const capLine = 'return Math.min(delay, maxMs);';
if (!original.includes(capLine)) {
  console.error(`${file} changed: the cap line is gone`);
  process.exit(1);
}
const suite = () => spawnSync('node', ['--test'], { encoding: 'utf8' });

const clean = suite();
if (clean.status !== 0) {
  console.error('the test suite fails on the unmutated code:\n', clean.stdout, clean.stderr);
  process.exit(1);
}
const mutants = {
  'cap removed': 'return delay;',
  'cap off by one': 'return Math.min(delay, maxMs - 1);',
  'default cap ignored': 'return Math.min(delay, 100_000);',
};
let survived = 0;
try {
  for (const [name, line] of Object.entries(mutants)) {
    writeFileSync(file, original.replace(capLine, line));
    const result = suite();
    console.log(`${name}: ${result.status === 0 ? 'SURVIVED (no test noticed)' : 'killed'}`);
    if (result.status === 0) survived++;
  }
} finally {
  writeFileSync(file, original);
}
process.exit(survived === 0 ? 0 : 1);
