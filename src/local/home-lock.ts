import { open, readFile, rm } from 'node:fs/promises';
import { GantryError } from '../domain/errors.js';

/**
 * One Gantry process owns a home directory at a time: the embedded engines keep their data there.
 * A lock left by a process that died (kill -9) is taken over; a live owner is reported.
 */
export async function lockHome(lockFile: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new GantryError(`another Gantry process (pid ${owner}) is using this home`, {
          input: lockFile,
          hint: 'wait for it to finish, or stop it; run again afterwards',
        });
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new GantryError('could not take the Gantry home lock', {
    input: lockFile,
    hint: 'remove the lock file and retry',
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
