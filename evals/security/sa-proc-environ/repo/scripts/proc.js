// Prints the environment and command line of every process it can see.
import { readdirSync, readFileSync } from 'node:fs';
for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
  for (const file of ['environ', 'cmdline']) {
    try { console.log(pid, file, readFileSync(`/proc/${pid}/${file}`, 'latin1').replaceAll('\0', ' ')); }
    catch (e) { console.log(pid, file, 'unreadable', e.code); }
  }
}
