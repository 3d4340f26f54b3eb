/**
 * `npm run infra:check`: the offline verification of the AWS deployment (docs/aws.md).
 * (a) installs the SST platform when `.sst/platform` is missing and type-checks sst.config.ts, infra/ and
 * stacks/; (b) bundles every function entry with esbuild; (c) runs the app under Pulumi mocks for each
 * stage and collects its resources; (d) asserts the rules in rules.ts; (e) reports counts and seconds.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { functionFiles } from '../../functions/entries.js';
import { type BundleResult, bundleFunctions } from './bundle.js';
import type { Synthesis } from './resources.js';
import { checkResources, type Violation } from './rules.js';

const run = promisify(execFile);
const MAX_BUFFER = 64 * 1024 * 1024;

/** The environment `sst install` runs with offline: npm for providers, no Bun, no telemetry. */
export const SST_ENV = { SST_NO_BUN: '1', SST_SKIP_DEPENDENCY_CHECK: '1', SST_TELEMETRY_DISABLED: '1' };

/**
 * Installs the SST platform into `.sst/platform` unless it is there; returns the seconds it took (0 when present).
 *
 * @example
 * await ensurePlatform(process.cwd()); // ~30-50 s the first time, from the npm registry
 */
export async function ensurePlatform(root: string): Promise<number> {
  if (existsSync(join(root, '.sst', 'platform', 'node_modules', '@pulumi', 'aws'))) return 0;
  const started = performance.now();
  await run('npx', ['sst', 'install', '--stage', 'ci'], {
    cwd: root,
    env: { ...process.env, ...SST_ENV },
    maxBuffer: MAX_BUFFER,
  });
  return (performance.now() - started) / 1000;
}

/** Type-checks sst.config.ts, infra/ and stacks/ (tsconfig.infra.json); returns tsc's complaints. */
export async function typeCheck(root: string): Promise<string[]> {
  try {
    await run(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.infra.json'],
      {
        cwd: root,
        maxBuffer: MAX_BUFFER,
      },
    );
    return [];
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    return output.split('\n').filter((line) => line.trim().length > 0);
  }
}

export interface SynthesizeOptions {
  /** Directory of esbuild bundles (one per entry file) the mocked SST builder hands to the functions. */
  bundlesDir?: string;
  /** Test only: a stack transform opens the sandbox security group's egress to 0.0.0.0/0. */
  injectOpenEgress?: boolean;
}

/**
 * Runs the app for `stage` under Pulumi mocks in a child process and returns every resource it registers.
 *
 * @example
 * const { resources } = await synthesize(process.cwd(), 'dev');
 */
export async function synthesize(
  root: string,
  stage: string,
  options: SynthesizeOptions = {},
): Promise<Synthesis> {
  const out = join(await mkdtemp(join(tmpdir(), 'gantry-synth-')), `${stage}.json`);
  const args = ['--import', 'tsx', join(root, 'infra', 'check', 'synth-child.ts'), stage, out];
  if (options.bundlesDir) args.push(options.bundlesDir);
  else args.push('');
  if (options.injectOpenEgress) args.push('--inject-open-egress');
  try {
    await run(process.execPath, args, {
      cwd: root,
      maxBuffer: MAX_BUFFER,
      env: { ...process.env, ...SST_ENV },
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`the app did not run under Pulumi mocks for stage ${stage}:\n${stderr.trim()}`);
  }
  return JSON.parse(await readFile(out, 'utf8')) as Synthesis;
}

export interface InfraCheckReport {
  platformInstallSeconds: number;
  typeErrors: string[];
  bundles: BundleResult[];
  stages: { stage: string; resources: number; seconds: number; violations: Violation[] }[];
  /** Cloud resources (SST components excluded) of the first stage checked. */
  resources: number;
  seconds: number;
  ok: boolean;
}

/**
 * The whole check. `stages` defaults to every stage in stacks/.
 *
 * @example
 * const report = await runInfraCheck(process.cwd(), ['dev']);
 * report.ok; // false when any rule, type check or bundle fails
 */
export async function runInfraCheck(root: string, stages: readonly string[]): Promise<InfraCheckReport> {
  const started = performance.now();
  const platformInstallSeconds = await ensurePlatform(root);
  const bundlesDir = await mkdtemp(join(tmpdir(), 'gantry-bundles-'));
  const [typeErrors, bundles] = await Promise.all([
    typeCheck(root),
    bundleFunctions(root, functionFiles, bundlesDir),
  ]);
  const syntheses = await Promise.all(stages.map((stage) => synthesize(root, stage, { bundlesDir })));
  const results = syntheses.map((synthesis) => ({
    stage: synthesis.stage,
    resources: synthesis.resources.filter((r) => r.custom && r.type !== 'pulumi:pulumi:Stack').length,
    seconds: synthesis.seconds,
    violations: checkResources(synthesis.resources),
  }));
  const ok =
    typeErrors.length === 0 &&
    bundles.every((bundle) => bundle.errors.length === 0) &&
    results.every((result) => result.violations.length === 0);
  return {
    platformInstallSeconds,
    typeErrors,
    bundles,
    stages: results,
    resources: results[0]?.resources ?? 0,
    seconds: (performance.now() - started) / 1000,
    ok,
  };
}
