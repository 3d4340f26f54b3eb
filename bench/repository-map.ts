import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mapRepository } from '../src/repomap/map-repository.js';
import { median, withTempDir } from './measure.js';

const execFileAsync = promisify(execFile);

/** Medians of mapping a generated repository and of `git ls-files` on it, in milliseconds. */
export interface RepositoryMapFigures {
  files: number;
  commands: number;
  mapMs: number;
  gitLsFilesMs: number;
}

/**
 * A pnpm monorepo of `files` files: packages two levels deep with sources, tests and package.json
 * scripts, a CI workflow, a README with shell blocks, CODEOWNERS, and a Python service beside them.
 */
export async function generateRepository(dir: string, files: number): Promise<void> {
  const write = async (file: string, content: string) => {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), content);
  };
  await write('package.json', JSON.stringify({ private: true, scripts: { lint: 'biome check .' } }, null, 2));
  await write('pnpm-lock.yaml', 'lockfileVersion: 9.0\n');
  await write('pnpm-workspace.yaml', "packages:\n  - 'packages/*/*'\n");
  await write('.github/CODEOWNERS', '* @acme/core\n');
  await write(
    '.github/workflows/ci.yml',
    'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pnpm install\n      - run: |\n          pnpm run lint\n          pnpm --recursive run test\n',
  );
  await write('README.md', '# Acme\n\n```sh\n$ pnpm install\n$ pnpm --recursive run test\n```\n');
  await write('service/pyproject.toml', '[project]\nname = "svc"\n[tool.pytest.ini_options]\n');
  let written = 7;
  for (let group = 0; written < files; group += 1) {
    for (let pkg = 0; pkg < 10 && written < files; pkg += 1) {
      const root = `packages/group${group}/pkg${pkg}`;
      await write(
        `${root}/package.json`,
        JSON.stringify({ name: `@acme/g${group}p${pkg}`, scripts: { test: 'vitest run' } }),
      );
      written += 1;
      for (let module = 0; module < 9 && written < files; module += 1) {
        await write(`${root}/src/module${module}.ts`, `export const value${module} = ${module};\n`);
        written += 1;
        if (written < files) {
          await write(
            `${root}/test/module${module}.test.ts`,
            `import { value${module} } from '../src/module${module}.js';\n`,
          );
          written += 1;
        }
      }
    }
  }
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * Maps a generated repository of `files` files (a git work tree, so the file list comes from
 * `git ls-files` as it does for a real checkout) `samples` times after a warm-up, and times
 * `git ls-files` on the same tree as the baseline: the part of the map no reading of files can avoid.
 *
 * @example
 * const { mapMs, gitLsFilesMs } = await measureRepositoryMap({ files: 2000, samples: 5 });
 */
export async function measureRepositoryMap(options: {
  files: number;
  samples: number;
}): Promise<RepositoryMapFigures> {
  return withTempDir('gantry-bench-repomap-', async (dir) => {
    await generateRepository(dir, options.files);
    await git(dir, 'init', '--quiet', '--initial-branch=main');
    await git(dir, 'add', '--all');
    await git(
      dir,
      '-c',
      'user.name=bench',
      '-c',
      'user.email=bench@example.com',
      'commit',
      '--quiet',
      '-m',
      'fixture',
    );
    const map = () => mapRepository(dir, { repository: 'acme/monorepo' });
    const warm = await map();
    await git(dir, 'ls-files', '-z', '--stage');
    const mapDurations: number[] = [];
    const lsDurations: number[] = [];
    for (let i = 0; i < options.samples; i += 1) {
      let start = performance.now();
      await map();
      mapDurations.push(performance.now() - start);
      start = performance.now();
      await git(dir, 'ls-files', '-z', '--stage');
      lsDurations.push(performance.now() - start);
    }
    return {
      files: warm.files.length,
      commands: warm.commands.length,
      mapMs: median(mapDurations),
      gitLsFilesMs: median(lsDurations),
    };
  });
}
