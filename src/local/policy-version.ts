import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * The policy version every event carries: the risk rules' declared version plus a digest of every file
 * under `policies/`, so an edited rule can never pass as the version it replaced.
 */
export async function policyVersionOf(policiesDir: string, declared: string): Promise<string> {
  const files = (await readdir(policiesDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash
      .update(relative(policiesDir, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return `${declared}+${hash.digest('hex').slice(0, 12)}`;
}
