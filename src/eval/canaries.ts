import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One place a canary was found. */
export interface CanaryLeak {
  canary: string;
  /** Where: a file path, or a label such as `event 12 (tool.executed)`. */
  where: string;
}

/** A text to search, named for the report. */
export interface CanarySource {
  where: string;
  text: string;
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Searches texts and every file under some directories for canary strings. Files are read as bytes and
 * searched as latin1 too, so a canary inside a binary or oddly encoded file is still found.
 *
 * @example
 * await findCanaryLeaks(['CANARY-123'], { texts: [{ where: 'log', text: 'x CANARY-123' }] })
 * // [{ canary: 'CANARY-123', where: 'log' }]
 */
export async function findCanaryLeaks(
  canaries: readonly string[],
  sources: { texts?: readonly CanarySource[]; dirs?: readonly string[] },
): Promise<CanaryLeak[]> {
  const wanted = canaries.filter((c) => c.length > 0);
  if (wanted.length === 0) return [];
  const leaks: CanaryLeak[] = [];
  for (const source of sources.texts ?? []) {
    for (const canary of wanted)
      if (source.text.includes(canary)) leaks.push({ canary, where: source.where });
  }
  for (const dir of sources.dirs ?? []) {
    for (const file of await filesUnder(dir)) {
      const bytes = await readFile(file);
      const utf8 = bytes.toString('utf8');
      const latin1 = bytes.toString('latin1');
      for (const canary of wanted) {
        if (utf8.includes(canary) || latin1.includes(canary)) leaks.push({ canary, where: file });
      }
    }
  }
  return leaks;
}

/** A canary read from a host file: its text is searched, its label is what a report shows. */
export interface FileCanary {
  canary: string;
  label: string;
}

/**
 * Every line (or NUL-separated entry, as in `/proc/<pid>/environ`) of 8 characters or more of each
 * host file, as canaries labelled by file and line so a report never prints the secret itself.
 * A file that does not exist or cannot be read adds nothing.
 *
 * @example
 * await canariesFromFiles(['/etc/machine-id']); // [{ canary: '3f…', label: '/etc/machine-id line 1' }]
 */
export async function canariesFromFiles(files: readonly string[]): Promise<FileCanary[]> {
  const canaries: FileCanary[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    text.split(/[\n\0]/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed.length >= 8 && !canaries.some((c) => c.canary === trimmed))
        canaries.push({ canary: trimmed, label: `${file} line ${i + 1}` });
    });
  }
  return canaries;
}

/** Host files a case planted, removed with {@link PlantedFiles.remove}. */
export interface PlantedFiles {
  /** Removes every planted file and the directories planting created; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Writes host files for a case (canaries where a sandbox must not see them), creating missing parent
 * directories. An existing file is never overwritten: planting stops with an error naming it, and what
 * was planted so far is removed. The caller removes the rest after the run, whatever happened in it.
 *
 * @example
 * const planted = await plantHostFiles([{ path: '/srv/gantry-eval-canary-x', content: 'c', mode: '644' }]);
 * try { await runTheCase(); } finally { await planted.remove(); }
 */
export async function plantHostFiles(
  files: readonly { path: string; content: string; mode: string }[],
): Promise<PlantedFiles> {
  const created: string[] = [];
  const remove = async () => {
    for (const path of created.splice(0).reverse()) await rm(path, { recursive: true, force: true });
  };
  try {
    for (const file of files) {
      const firstNewDir = await mkdir(dirname(file.path), { recursive: true });
      if (firstNewDir) created.push(firstNewDir);
      try {
        await writeFile(file.path, file.content, { flag: 'wx', mode: Number.parseInt(file.mode, 8) });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(
          code === 'EEXIST'
            ? `will not plant ${file.path}: the file already exists and is not the harness's to overwrite; remove it if an earlier eval left it`
            : `cannot plant ${file.path}: ${(error as Error).message}${code === 'EACCES' ? ' (the security suite plants host files: run it as root)' : ''}`,
        );
      }
      created.push(file.path);
      // writeFile's mode passes through the umask; the case asked for exactly these bits.
      await chmod(file.path, Number.parseInt(file.mode, 8));
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { remove };
}

/** A host process a case keeps running; {@link PlantedProcess.stop} ends it. */
export interface PlantedProcess {
  pid: number;
  stop(): void;
}

/**
 * Starts an idle node process on the host with `env` as its whole environment and the first value as
 * an argument, so `/proc/<pid>/environ` and `/proc/<pid>/cmdline` hold the canaries.
 *
 * @example
 * const decoy = plantProcess({ DECOY_API_TOKEN: 'gantry-canary-1' });
 * try { await runTheCase(); } finally { decoy.stop(); }
 */
export function plantProcess(env: Readonly<Record<string, string>>): PlantedProcess {
  const [first = 'decoy'] = Object.values(env);
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', first], {
    env: { ...env },
    stdio: 'ignore',
  });
  child.unref();
  return { pid: child.pid ?? -1, stop: () => void child.kill('SIGKILL') };
}
