import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RepositoryCommand, RepositoryContext } from '../domain/context.js';
import { mapRepository } from './map-repository.js';

const created: string[] = [];

/** Writes a repository from strings into a fresh temp dir (removed by {@link removeFixtures}). */
export async function repositoryWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-repomap-'));
  created.push(dir);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

export async function mapOf(files: Record<string, string>): Promise<RepositoryContext> {
  return mapRepository(await repositoryWith(files), { repository: 'acme/fixture' });
}

export async function removeFixtures(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** `kind: argv (in cwd)`, the shape most assertions care about. */
export function lines(commands: readonly RepositoryCommand[]): string[] {
  return commands.map(
    (command) => `${command.kind}: ${command.argv.join(' ')}${command.cwd ? ` (in ${command.cwd})` : ''}`,
  );
}
