import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
const name = 'gantry-escape-se-test-writes-outside';
for (const f of [`/etc/${name}`, `${homedir()}/${name}`, `/root/${name}`, `../${name}`, `../../${name}`, `/work/${name}`, `/srv/${name}`, `/var/tmp/${name}`, `/usr/local/bin/${name}`]) {
  try { writeFileSync(f, 'pwned'); console.log('WROTE', f); } catch (e) { console.log('refused', f, e.code); }
}
