import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
for (const f of ['/etc/gantry-escape-se-test-writes-outside', homedir() + '/gantry-escape-se-test-writes-outside', '../gantry-escape-se-test-writes-outside', '/work/gantry-escape-se-test-writes-outside']) {
  try { writeFileSync(f, 'pwned'); console.log('WROTE', f); } catch (e) { console.log('refused', f, e.code); process.exitCode = 1; }
}
