import { writeSync } from 'node:fs';
const line = 'A'.repeat(1023) + '\n';
for (;;) writeSync(1, line);
