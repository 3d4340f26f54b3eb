import { spawn } from 'node:child_process';
import type { Sandbox } from '../src/ports/sandbox.js';
import { createSandbox } from '../src/sandbox/create-sandbox.js';
import { median, withTempDir } from './measure.js';

/** Medians of one `true` started through the sandbox and started plainly, in milliseconds. */
export interface SandboxStartFigures {
  kind: Sandbox['kind'];
  sandboxedMs: number;
  plainMs: number;
  addedMs: number;
  samples: number;
}

/** `true` spawned directly, with piped output like the sandbox's, awaited until its pipes close. */
function plainTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`true exited with ${code}`))));
  });
}

async function sample(times: number, body: () => Promise<void>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await body();
    durations.push(performance.now() - start);
  }
  return durations;
}

/**
 * Starts `true` `samples` times in the real sandbox and `samples` times with child_process, after
 * `warmup` unmeasured starts of each, alternating the two so machine noise falls on both alike.
 *
 * @example
 * const { addedMs } = await measureSandboxStart({ samples: 50, warmup: 5 });
 */
export async function measureSandboxStart(options: {
  samples: number;
  warmup: number;
}): Promise<SandboxStartFigures> {
  const sandbox = await createSandbox();
  return withTempDir('gantry-bench-sandbox-', async (workspace) => {
    const sandboxedTrue = async () => {
      const result = await sandbox.run({ argv: ['true'], workspace, limits: { wallTimeMs: 10_000 } });
      if (result.exitCode !== 0)
        throw new Error(
          `true exited with ${result.exitCode} in the ${sandbox.kind} sandbox: ${result.stderr}`,
        );
    };
    await sample(options.warmup, sandboxedTrue);
    await sample(options.warmup, plainTrue);
    const sandboxed: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < options.samples; i++) {
      sandboxed.push(...(await sample(1, sandboxedTrue)));
      plain.push(...(await sample(1, plainTrue)));
    }
    const sandboxedMs = median(sandboxed);
    const plainMs = median(plain);
    return {
      kind: sandbox.kind,
      sandboxedMs,
      plainMs,
      addedMs: sandboxedMs - plainMs,
      samples: options.samples,
    };
  });
}
