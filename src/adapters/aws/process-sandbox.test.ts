import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxError } from '../../domain/errors.js';
import { ProcessSandbox } from './process-sandbox.js';

const isRoot = process.getuid?.() === 0;
/** An unused uid, so stopping "everything the command user left" touches nothing else on this machine. */
const commandUser = { uid: 1987, gid: 1987 };

/** Live processes of `uid`; a killed process stays a zombie until its parent reaps it, so those are left out. */
async function liveProcessesOf(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(join('/proc', entry, 'status'), 'utf8').catch(() => '');
    if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status) && !/^State:\s+Z/m.test(status))
      pids.push(Number(entry));
  }
  return pids;
}

/** SIGKILL is delivered asynchronously: waits briefly for the processes to be gone. */
async function settledProcessesOf(uid: number): Promise<number[]> {
  const deadline = Date.now() + 2000;
  let pids = await liveProcessesOf(uid);
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    pids = await liveProcessesOf(uid);
  }
  return pids;
}

describe('ProcessSandbox', () => {
  let workspace: string;
  beforeEach(async () => {
    // The workspace itself sits in /tmp (sticky, world-traversable), as /workspace/<run> does in the task.
    workspace = await mkdtemp(join(tmpdir(), 'gantry-process-sandbox-'));
    await mkdir(join(workspace, '.git', 'hooks'), { recursive: true });
    await writeFile(join(workspace, 'README.md'), 'hello\n');
  });
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it.runIf(isRoot)(
    'runs the command as the sandbox user and gives the workspace back afterwards',
    async () => {
      // Prepare
      const sandbox = new ProcessSandbox({ commandUser, requireUserSwitch: true });
      // Act
      const who = await sandbox.run({ argv: ['id', '-u'], workspace });
      const wrote = await sandbox.run({
        argv: ['sh', '-c', 'echo made > made.txt && echo more >> README.md'],
        workspace,
      });
      // Assess: another uid ran it, could write the tree, and the runner owns every file again
      expect(who.stdout.trim()).toBe(String(commandUser.uid));
      expect(wrote.exitCode, wrote.stderr).toBe(0);
      expect((await stat(join(workspace, 'made.txt'))).uid).toBe(0);
      expect((await stat(join(workspace, 'README.md'))).uid).toBe(0);
      expect(sandbox.enforcedLimits.commandUser).toBe('1987:1987');
      expect(sandbox.enforcedLimits.network).toBe('task-network');
    },
  );

  it.runIf(isRoot)('keeps .git out of the command user’s reach, so it cannot plant hooks', async () => {
    // Prepare
    const sandbox = new ProcessSandbox({ commandUser });
    // Act
    const result = await sandbox.run({ argv: ['sh', '-c', 'echo evil > .git/hooks/post-commit'], workspace });
    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
    await expect(stat(join(workspace, '.git', 'hooks', 'post-commit'))).rejects.toThrow();
  });

  it.runIf(isRoot)('stops what the command user left running, even outside its process group', async () => {
    // Prepare
    const sandbox = new ProcessSandbox({ commandUser });
    // Act
    const result = await sandbox.run({
      argv: ['sh', '-c', 'setsid sleep 30 > /dev/null 2>&1 < /dev/null & echo started'],
      workspace,
    });
    // Assess
    expect(result.stdout.trim()).toBe('started');
    expect(await settledProcessesOf(commandUser.uid)).toEqual([]);
  });

  it('clears the environment to the allowlist: the task credential URI never reaches a command', async () => {
    // Prepare
    const sandbox = new ProcessSandbox({ commandUser });
    process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = '/v2/credentials/secret-guid';
    try {
      // Act
      const result = await sandbox.run({
        argv: ['env'],
        workspace,
        env: { NODE_ENV: 'test', AWS_SECRET_ACCESS_KEY: 'x', LD_PRELOAD: '/tmp/evil.so' },
      });
      // Assess
      expect(result.stdout).toContain('NODE_ENV=test');
      expect(result.stdout).not.toMatch(/AWS_|LD_PRELOAD|secret-guid/);
      expect(result.stdout).toMatch(/^HOME=.*gantry-home-/m);
    } finally {
      delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
    }
  });

  it('kills a command at its wall time and at its output limit, naming the limit', async () => {
    // Prepare
    const sandbox = new ProcessSandbox({ commandUser });
    // Act
    const slow = await sandbox.run({ argv: ['sleep', '5'], workspace, limits: { wallTimeMs: 300 } });
    const loud = await sandbox.run({ argv: ['yes'], workspace, limits: { maxOutputBytes: 1000 } });
    // Assess
    expect(slow).toMatchObject({ timedOut: true, limitHit: 'wall-time' });
    expect(slow.durationMs).toBeLessThan(3000);
    expect(loud).toMatchObject({ outputTruncated: true, limitHit: 'output' });
    expect(Buffer.byteLength(loud.stdout)).toBeLessThanOrEqual(1000);
  });

  it('refuses a working directory outside the workspace', async () => {
    // Prepare
    const sandbox = new ProcessSandbox({ commandUser });
    // Act
    const outside = await sandbox
      .run({ argv: ['ls'], workspace, cwd: '../' })
      .catch((error: unknown) => error);
    const absolute = await sandbox
      .run({ argv: ['ls'], workspace, cwd: '/etc' })
      .catch((error: unknown) => error);
    // Assess
    expect(outside).toBeInstanceOf(SandboxError);
    expect((outside as Error).message).toMatch(/outside the sandbox workspace/);
    expect((absolute as Error).message).toMatch(/outside the sandbox workspace/);
  });

  it('runs in a subdirectory of the workspace when asked', async () => {
    // Prepare
    await mkdir(join(workspace, 'pkg'));
    const sandbox = new ProcessSandbox({ commandUser });
    // Act
    const result = await sandbox.run({ argv: ['pwd'], workspace, cwd: 'pkg' });
    // Assess
    expect(result.stdout.trim()).toBe(join(workspace, 'pkg'));
  });

  it('runs as its own user and says so, unless the deployment requires a switch', async () => {
    // Prepare: the command user is this process's own uid, so no switch would happen
    const own = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const sandbox = new ProcessSandbox({ commandUser: own });
    // Act
    const build = () => new ProcessSandbox({ commandUser: own, requireUserSwitch: true });
    const who = await sandbox.run({ argv: ['id', '-u'], workspace });
    // Assess
    expect(build).toThrow(SandboxError);
    expect(build).toThrow(/cannot run commands as another user/);
    expect(sandbox.enforcedLimits.commandUser).toMatch(/^current user/);
    expect(who.stdout.trim()).toBe(String(own.uid));
  });

  it.runIf(isRoot)(
    'runs as the sandbox user from a non-root runner holding the image’s ambient capabilities',
    async () => {
      // Prepare: the image's entry point, a setpriv copy with file capabilities, run as uid 1986
      const dir = await mkdtemp(join(tmpdir(), 'gantry-caps-'));
      const start = join(dir, 'start');
      execFileSync('cp', ['/usr/bin/setpriv', start]);
      execFileSync('chmod', ['0755', start]);
      execFileSync('setcap', ['cap_chown,cap_kill,cap_setgid,cap_setuid+eip', start]);
      await rm(workspace, { recursive: true, force: true });
      workspace = join(dir, 'ws');
      await mkdir(join(workspace, '.git'), { recursive: true });
      execFileSync('chmod', ['0755', dir]);
      execFileSync('chown', ['-R', '1986:1986', workspace]);
      // The runner user may not be able to read the repository (a clone under a private directory), so
      // the adapter is bundled into the probe's own directory.
      buildSync({
        entryPoints: [fileURLToPath(new URL('./process-sandbox.ts', import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: join(dir, 'process-sandbox.mjs'),
        logLevel: 'silent',
      });
      const script = join(dir, 'probe.mjs');
      await writeFile(
        script,
        `import { ProcessSandbox } from './process-sandbox.mjs';
const sandbox = new ProcessSandbox({ commandUser: { uid: 1987, gid: 1987 }, requireUserSwitch: true });
const result = await sandbox.run({ argv: ['sh', '-c', 'id -u; touch made'], workspace: ${JSON.stringify(workspace)} });
console.log(JSON.stringify({ stdout: result.stdout, exitCode: result.exitCode, stderr: result.stderr }));`,
      );
      try {
        // Act
        const output = execFileSync(
          '/usr/bin/setpriv',
          [
            '--reuid=1986',
            '--regid=1986',
            '--clear-groups',
            '--inh-caps=-all',
            '--',
            start,
            '--inh-caps=+chown,+kill,+setgid,+setuid',
            '--ambient-caps=+chown,+kill,+setgid,+setuid',
            '--',
            process.execPath,
            script,
          ],
          {
            cwd: dir,
            env: { PATH: process.env.PATH, HOME: dir, TSX_DISABLE_CACHE: '1' },
            encoding: 'utf8',
          },
        );
        // Assess: the command ran as 1987, and the file it made belongs to the runner again
        const result = JSON.parse(output.trim().split('\n').pop() as string) as {
          stdout: string;
          exitCode: number;
          stderr: string;
        };
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stdout.trim()).toBe('1987');
        expect((await stat(join(workspace, 'made'))).uid).toBe(1986);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
