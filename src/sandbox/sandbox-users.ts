import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SandboxError } from '../domain/errors.js';

/** The reserved host uid range sandboxed commands run as (gid = uid); `.ci/run` creates matching users. */
export const SANDBOX_UID_FIRST = 61000;
export const SANDBOX_UID_COUNT = 64;

/** A uid leased to one sandboxed command; release it when the command and its processes are gone. */
export interface SandboxUidLease {
  uid: number;
  gid: number;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Hands out a distinct unprivileged host uid per concurrent sandboxed command, across processes: a lease
 * is a lock file created exclusively and naming its holder's pid, taken over when that pid is dead. So
 * limits, ownership and clean-up (killing every process of the uid) never cross two runs.
 *
 * @example
 * const users = new SandboxUsers('/run/gantry-sandbox');
 * const lease = users.acquire(61003); // prefers the uid that already owns the workspace
 * try { ... } finally { lease.release(); }
 */
export class SandboxUsers {
  constructor(
    private readonly lockDir: string,
    private readonly first = SANDBOX_UID_FIRST,
    private readonly count = SANDBOX_UID_COUNT,
  ) {
    mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  }

  acquire(preferred?: number): SandboxUidLease {
    const candidates = Array.from({ length: this.count }, (_, i) => this.first + i);
    if (preferred !== undefined && candidates.includes(preferred)) {
      candidates.splice(candidates.indexOf(preferred), 1);
      candidates.unshift(preferred);
    }
    for (const uid of candidates) {
      if (this.tryLock(uid)) {
        const file = this.lockFile(uid);
        let released = false;
        return {
          uid,
          gid: uid,
          release: () => {
            if (released) return;
            released = true;
            rmSync(file, { force: true });
          },
        };
      }
    }
    throw new SandboxError(
      `All ${this.count} sandbox uids (${this.first}–${this.first + this.count - 1}) are in use.`,
      {
        input: this.lockDir,
        hint: 'Wait for running sandboxed commands to finish, or remove lock files of processes that no longer exist.',
      },
    );
  }

  private lockFile(uid: number): string {
    return join(this.lockDir, `uid-${uid}.lock`);
  }

  private tryLock(uid: number): boolean {
    const file = this.lockFile(uid);
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) return false;
    // The holder died without releasing: take the uid over (one winner through the exclusive create).
    rmSync(file, { force: true });
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch {
      return false;
    }
  }
}
