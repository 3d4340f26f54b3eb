/**
 * Bundles every Lambda entry (functions/entries.ts) with esbuild the way the deployment does: Node.js 20,
 * ESM, one file per entry, `policies/` copied beside it. Any error or unresolved import fails the check.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

/** Packages left out of the bundle and installed beside it (SST's `nodejs.install`): they load files at run time. */
export const EXTERNAL_PACKAGES = ['@cedar-policy/cedar-wasm'];

export interface BundleResult {
  file: string;
  outDir: string;
  bytes: number;
  errors: string[];
  warnings: number;
}

/**
 * Bundles `files` (relative to `root`) into `outRoot/<name>/`, one directory per entry file.
 *
 * @example
 * const results = await bundleFunctions(process.cwd(), ['functions/steps.ts'], '/tmp/bundles');
 */
export async function bundleFunctions(
  root: string,
  files: readonly string[],
  outRoot: string,
): Promise<BundleResult[]> {
  await rm(outRoot, { recursive: true, force: true });
  return Promise.all(
    files.map(async (file) => {
      const name = basename(file).replace(/\.ts$/, '');
      const outDir = join(outRoot, name);
      await mkdir(outDir, { recursive: true });
      try {
        const result = await build({
          absWorkingDir: root,
          entryPoints: [join(root, file)],
          outfile: join(outDir, `${name}.mjs`),
          bundle: true,
          platform: 'node',
          target: 'node20',
          format: 'esm',
          sourcemap: 'linked',
          minify: false,
          metafile: true,
          logLevel: 'silent',
          external: EXTERNAL_PACKAGES,
          // ESM bundles of CommonJS dependencies still call require(); give them one.
          banner: {
            js: "import { createRequire as __gantryRequire } from 'node:module'; const require = __gantryRequire(import.meta.url);",
          },
        });
        await cp(join(root, 'policies'), join(outDir, 'policies'), { recursive: true });
        const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
        return { file, outDir, bytes, errors: [], warnings: result.warnings.length };
      } catch (error) {
        const errors = (
          error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }
        ).errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`) ?? [
          String(error),
        ];
        return { file, outDir, bytes: 0, errors, warnings: 0 };
      }
    }),
  );
}
