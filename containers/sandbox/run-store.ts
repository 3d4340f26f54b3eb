import { execFile } from 'node:child_process';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SandboxError } from '../../src/domain/errors.js';

const exec = promisify(execFile);

/**
 * Keeps a run's workspace between its sandbox tasks. Each workspace step is its own Fargate task with
 * fresh local storage, so the runner restores the run's workspace from the run store (an EFS access
 * point mounted at `storeDir`) before the step and saves it back after, as one tar file per run written
 * atomically. The workspace itself stays on local storage, where the process sandbox can hand it to
 * the command user (EFS through an access point maps every client to one uid).
 *
 * @example
 * const store = new RunStore('/runs', '/workspace');
 * await store.restore(runId);
 * try { await runStep(); } finally { await store.save(runId); }
 */
export class RunStore {
  constructor(
    private readonly storeDir: string,
    private readonly workspacesDir: string,
  ) {}

  private archive(runId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(runId)) {
      throw new SandboxError(`run id ${runId} is not a safe file name`, {
        input: runId,
        hint: 'run ids are ULIDs',
      });
    }
    return join(this.storeDir, `${runId}.tar`);
  }

  /** Unpacks the run's saved workspace, if there is one (the first step of a run has none). */
  async restore(runId: string): Promise<boolean> {
    const archive = this.archive(runId);
    if (!(await exists(archive))) return false;
    await rm(join(this.workspacesDir, runId), { recursive: true, force: true });
    await rm(join(this.workspacesDir, `${runId}.git`), { recursive: true, force: true });
    await mkdir(this.workspacesDir, { recursive: true });
    await exec('tar', ['-x', '-f', archive, '-C', this.workspacesDir, '--no-same-owner']);
    return true;
  }

  /** Packs the run's workspace into the store; a crash mid-write leaves the previous archive intact. */
  async save(runId: string): Promise<void> {
    if (!(await exists(join(this.workspacesDir, runId)))) return;
    const archive = this.archive(runId);
    const partial = `${archive}.${process.pid}.partial`;
    await mkdir(this.storeDir, { recursive: true });
    // The work tree and its git directory beside it (`<run>.git`, where no command can write).
    const members = [
      runId,
      ...((await exists(join(this.workspacesDir, `${runId}.git`))) ? [`${runId}.git`] : []),
    ];
    await exec('tar', ['-c', '-f', partial, '-C', this.workspacesDir, ...members]);
    await rename(partial, archive);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
