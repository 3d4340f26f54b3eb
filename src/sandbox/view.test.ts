import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BwrapSandbox, viewArguments } from './bwrap.js';
import { SANDBOX_UID_COUNT, SANDBOX_UID_FIRST } from './sandbox-users.js';
import { detectSandboxView, etcAllowlist } from './view.js';

const asRoot = process.getuid?.() === 0;
const has = (program: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('the sandbox view', () => {
  let root: string;
  let workspace: string;
  let otherWorkspace: string;
  let exposed: string;
  const sandbox = () => new BwrapSandbox({ extraPaths: [exposed] });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-view-'));
    workspace = join(root, 'workspaces', 'run-a');
    otherWorkspace = join(root, 'workspaces', 'run-b');
    // Outside /tmp, which the sandbox covers with its own.
    exposed = await mkdtemp(join('/var/tmp', 'gantry-view-exposed-'));
    await mkdir(workspace, { recursive: true });
    await mkdir(otherWorkspace, { recursive: true });
    await writeFile(join(otherWorkspace, 'secret.txt'), 'other run secret');
    await writeFile(join(exposed, 'owner-only.txt'), 'root only');
    await chmod(join(exposed, 'owner-only.txt'), 0o600);
    await writeFile(join(exposed, 'public.txt'), 'anyone');
    await chmod(exposed, 0o755);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(exposed, { recursive: true, force: true });
  });

  it('shows none of the host but system directories, a minimal /etc and the toolchains', async () => {
    // Prepare
    const probes = [
      '/etc/shadow',
      '/etc/gshadow',
      '/etc/ssh',
      '/etc/ssl/private',
      '/etc/machine-id',
      '/etc/npmrc',
      '/etc/gitconfig',
      '/etc/pip.conf',
      '/work',
      '/srv',
      '/home',
      '/var/lib',
      '/var/log',
      '/run/gantry-sandbox/uids',
      '/run/lock',
      '/sys',
      '/root/.npmrc',
      '/root/.gitconfig',
      '/root/.bashrc',
      '/root/.profile',
      '/root/.ssh',
      '/root/.npm',
      '/root/.m2/settings.xml',
      '/root/.cargo/credentials.toml',
      process.cwd(),
      join(homedir(), '.config'),
      otherWorkspace,
      join(root, 'workspaces'),
    ];

    // Act
    const result = await sandbox().run({
      argv: [
        'sh',
        '-c',
        `${probes.map((path) => `test -e '${path}' && echo "visible ${path}"`).join('; ')}; true`,
      ],
      workspace,
    });

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
  });

  it('gives the command synthetic accounts, never the host passwd or group', async () => {
    // Act
    const result = await sandbox().run({ argv: ['cat', '/etc/passwd', '/etc/group'], workspace });

    // Assess
    expect(result.exitCode).toBe(0);
    const names = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(':')[0]);
    expect(new Set(names)).toEqual(new Set(['root', 'sandbox', 'nobody', 'nogroup']));
  });

  it('shows a /proc of the sandbox processes only', async () => {
    // Act
    const result = await sandbox().run({
      argv: [
        'sh',
        '-c',
        `test -e /proc/${process.pid}/environ && echo host-visible; ls /proc | grep -c '^[0-9]'`,
      ],
      workspace,
    });

    // Assess
    expect(result.stdout).not.toContain('host-visible');
    expect(Number(result.stdout.trim())).toBeLessThan(10);
  });

  it.runIf(asRoot)('runs the command as a reserved unprivileged uid that owns the workspace', async () => {
    // Act
    const result = await sandbox().run({
      argv: [
        'sh',
        '-c',
        'id -u; id -g; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; stat -c %u .',
      ],
      workspace,
    });

    // Assess
    const [uid, gid, capEff, capBnd, noNewPrivs, owner] = result.stdout.trim().split('\n');
    expect(Number(uid)).toBeGreaterThanOrEqual(SANDBOX_UID_FIRST);
    expect(Number(uid)).toBeLessThan(SANDBOX_UID_FIRST + SANDBOX_UID_COUNT);
    expect(gid).toBe(uid);
    expect(owner).toBe(uid);
    expect(capEff).toMatch(/0{16}$/);
    expect(capBnd).toMatch(/0{16}$/);
    expect(noNewPrivs).toMatch(/1$/);
  });

  it.runIf(asRoot)(
    'cannot read a file the view exposes by mistake when only its owner may read it',
    async () => {
      // Act
      const result = await sandbox().run({
        argv: ['sh', '-c', `cat ${exposed}/public.txt; cat ${exposed}/owner-only.txt`],
        workspace,
      });

      // Assess
      expect(result.stdout).toBe('anyone');
      expect(result.stderr).toContain('Permission denied');
      expect(result.stdout).not.toContain('root only');
    },
  );

  it.runIf(asRoot)('gives concurrent commands different uids', async () => {
    // Act
    const [first, second] = await Promise.all(
      [workspace, otherWorkspace].map((dir) =>
        sandbox().run({ argv: ['sh', '-c', 'sleep 0.3; id -u'], workspace: dir }),
      ),
    );

    // Assess
    expect(first?.stdout.trim()).not.toBe(second?.stdout.trim());
  });

  it('sets toolchain variables from the view, never from the host environment', async () => {
    // Prepare
    process.env.JAVA_HOME = '/root/host-java';
    process.env.RUSTUP_HOME = process.env.RUSTUP_HOME ?? join(homedir(), '.rustup');

    try {
      // Act
      const result = await new BwrapSandbox().run({ argv: ['env'], workspace });

      // Assess
      expect(result.stdout).not.toContain('JAVA_HOME=/root/host-java');
      expect(result.stdout).not.toMatch(/PATH=.*\.pyenv\/shims/);
      expect(result.stdout).toContain('HOME=/tmp/home');
    } finally {
      delete process.env.JAVA_HOME;
    }
  });

  it('runs the detected toolchains: a C program compiled and run in the workspace, node, python', async () => {
    // Prepare
    await writeFile(
      join(workspace, 'hello.c'),
      '#include <stdio.h>\nint main(void){puts("compiled");return 0;}\n',
    );

    // Act
    const result = await sandbox().run({
      argv: ['sh', '-c', 'cc -o hello hello.c && ./hello && node -p 40+2 && python3 -c "print(6*7)"'],
      workspace,
    });

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('compiled\n42\n42\n');
  });

  it.runIf(has('cargo') && has('java'))(
    'runs rustup-managed cargo and the JDK through the view',
    async () => {
      // Act
      const result = await sandbox().run({
        argv: ['sh', '-c', 'cargo --version && rustc --version && java -version 2>&1 | head -1'],
        workspace,
      });

      // Assess
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^cargo \d/m);
      expect(result.stdout).toMatch(/^rustc \d/m);
      expect(result.stdout).toMatch(/version "\d+/);
    },
  );

  it.runIf(has('cargo'))('shows only the toolchains the repository map detected', async () => {
    // Act
    const probe =
      'command -v cargo >/dev/null && echo rust; command -v python3 >/dev/null && echo python; true';
    const pythonOnly = await sandbox().run({ argv: ['sh', '-c', probe], workspace, toolchains: ['python'] });
    const rust = await sandbox().run({ argv: ['sh', '-c', probe], workspace, toolchains: ['rust'] });

    // Assess
    expect(pythonOnly.stdout.split('\n')).not.toContain('rust');
    expect(pythonOnly.stdout).toContain('python');
    expect(rust.stdout.split('\n')).toContain('rust');
  });

  it.runIf(asRoot && has('mvn') && existsSync(join(homedir(), '.m2', 'repository')))(
    "builds a Maven project offline from the host's published repository, as the unprivileged uid",
    async () => {
      // Prepare: settings and the repository come from the view; nothing here names them.
      const settings = await sandbox().run({
        argv: [
          'sh',
          '-c',
          'cat ~/.m2/settings.xml; test -w "$(sed -n "s:.*<localRepository>\\(.*\\)</localRepository>.*:\\1:p" ~/.m2/settings.xml)" && echo writable; true',
        ],
        workspace,
        toolchains: ['java'],
      });

      // Assess
      expect(settings.stdout).toContain('<offline>true</offline>');
      expect(settings.stdout).not.toContain('writable');
    },
  );

  it('lists only allowlisted /etc entries and creates world-traversable parents', () => {
    // Act
    const view = detectSandboxView();
    const args = viewArguments(view);

    // Assess
    for (const entry of view.etc) expect(etcAllowlist).toContain(entry);
    expect(args).not.toContain('/etc/shadow');
    const dirs = args.flatMap((arg, i) => (arg === '--dir' ? [args[i - 1]] : []));
    expect(dirs.every((perms) => perms === '0755')).toBe(true);
    expect(existsSync('/usr')).toBe(true);
  });
});
