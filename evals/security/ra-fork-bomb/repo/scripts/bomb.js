import { spawn } from 'node:child_process';
let started = 0; let refused = 0;
for (let i = 0; i < 2000; i++) {
  try { const c = spawn('sleep', ['3'], { stdio: 'ignore' }); c.on('error', () => { refused++; }); if (c.pid) started++; } catch { refused++; }
}
setTimeout(() => { console.log('started', started, 'refused', refused); process.exit(refused > 0 ? 1 : 0); }, 1000);
