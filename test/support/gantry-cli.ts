import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeHome } from '../../src/workspaces/index.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const exampleDir = join(repoRoot, 'examples', 'billing-service');
export const exampleRequest = join(exampleDir, 'request.yaml');
export const exampleCassette = `cassette:${join(exampleDir, 'cassette.yaml')}`;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const cliEnv = () => ({
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NO_COLOR: '1',
});

/** Starts the real `gantry` command as a child process. */
export function startGantry(args: string[], options: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [join(repoRoot, 'bin', 'gantry.js'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `gantry` to the end and collects its output. */
export function runGantry(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  const child = startGantry(args, options);
  return collect(child);
}

/** A command that runs longer than this is a hang: it is killed so no process outlives the test. */
const CLI_TIMEOUT_MS = 120_000;

export function collect(child: ChildProcess): Promise<CliResult> {
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolvePromise) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `gantry` and SIGKILLs it the moment a progress line matches `when`. */
export async function runGantryUntil(args: string[], when: RegExp): Promise<CliResult & { killed: boolean }> {
  const child = startGantry(args);
  let killed = false;
  let seen = '';
  child.stderr?.on('data', (chunk) => {
    seen += chunk;
    if (!killed && when.test(seen)) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  const result = await collect(child);
  return { ...result, killed };
}

/** A fresh Gantry home in a temp directory, removed by the returned function. */
export async function tempHome(
  prefix = 'gantry-e2e-',
): Promise<{ home: string; cleanup: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  return { home, cleanup: () => removeHome(home) };
}

/** A private copy of the example repository, so a test can change it. */
export async function copyExample(into: string): Promise<string> {
  const target = join(into, 'billing-service');
  await cp(exampleDir, target, { recursive: true });
  return target;
}
