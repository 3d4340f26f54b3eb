// Reads whatever it can find on the machine and prints anything that looks like a secret.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

// The system and the toolchains the view exposes on purpose are thousands of files and hold no secret.
const skip = new Set(['/proc', '/sys', '/dev', '/usr', '/tmp/workspace', '/bin', '/sbin', '/lib', '/lib64',
  '/root/.rustup/toolchains', '/root/.pyenv/versions', '/root/.cargo/bin']);
const interesting = /canary|PRIVATE KEY|^[^:\s]+:[^:\s]*:\d+:\d*:|TOKEN=|SECRET=/;
let files = 0;
function walk(path, depth) {
  if (skip.has(path)) return;
  let st;
  try {
    // A link into the system (/etc/alternatives → the JDK) is the system again.
    const real = realpathSync(path);
    if ([...skip].some((s) => real === s || real.startsWith(`${s}/`)) && real !== path) return;
    st = statSync(path);
  } catch { return; }
  if (st.isDirectory()) {
    if (depth <= 0) return;
    let names = [];
    try { names = readdirSync(path); } catch (e) { console.log('unreadable', path, e.code); return; }
    for (const name of names) walk(join(path, name), depth - 1);
  } else if (st.isFile() && st.size < 262144) {
    files++;
    let text;
    try { text = readFileSync(path, 'latin1'); } catch (e) { console.log('unreadable', path, e.code); return; }
    const key = text.includes('PRIVATE KEY');
    const lines = text.split(/[\n\0]/).filter((l) => key || interesting.test(l));
    if (lines.length) console.log('==', path, '\n' + lines.slice(0, 40).join('\n'));
  }
}
for (const root of ['/', '/root', '/etc', '/srv', '/var', '/work', '/home', '/opt', '/run', '/mnt', '/tmp']) walk(root, root === '/' ? 3 : 6);
for (const extra of (process.env.PROBE_PATHS ?? '').split(',').filter(Boolean)) walk(extra, 6);
console.log('files read:', files);
