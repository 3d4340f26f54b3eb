import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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
