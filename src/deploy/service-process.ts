import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { DeploymentFailedError } from './errors.js';
import { probe } from './http-probe.js';

/** One running version of a service: a child process listening on a loopback port. */
export interface ServiceProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly exited: boolean;
  /** The last lines the process printed, for a person reading why it failed. */
  output(): string;
  /** Ends the process (SIGTERM, then SIGKILL after a grace period) and waits until it is gone. */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** argv; a leading `node` runs the Node.js that runs Gantry. */
  command: readonly string[];
  cwd: string;
  healthPath: string;
  /** How long the health path has to answer 200; default 10 s. */
  healthTimeoutMs?: number;
  /** Names the version in errors, e.g. `billing-service production dep-01…`. */
  label: string;
}

const OUTPUT_LIMIT = 4000;
const STOP_GRACE_MS = 3000;

/** Every child still running, killed when the Gantry process exits so none outlives it. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * Starts the service's command in `cwd` on a free loopback port (given in PORT, with an environment
 * cleared to PATH, HOME and NODE_ENV=production so none of Gantry's secrets reach it) and waits until
 * the health path answers 200. A process that exits early or never becomes healthy is killed and
 * reported with the end of its output.
 *
 * @example
 * const service = await startServiceProcess({ command: ['node', 'src/server.js'], cwd: checkout, healthPath: '/health', label: 'billing-service staging' });
 * await service.stop();
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const [program = '', ...args] = options.command;
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production', PORT: String(port) };
  if (process.env.PATH) env.PATH = process.env.PATH;
  if (process.env.HOME) env.HOME = process.env.HOME;
  installExitHook();
  // The Node.js running Gantry is known to be there; a `node` found on PATH might be another version.
  const child = spawn(program === 'node' ? process.execPath : program, args, {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const gone = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  void gone.then(() => running.delete(child));

  const endpoint = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    pid: child.pid ?? -1,
    endpoint,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null || spawnError !== undefined;
    },
    output: () => output.trim(),
    async stop() {
      if (service.exited) return gone;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    },
  };

  const timeoutMs = options.healthTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (service.exited) {
      await service.stop();
      const how = spawnError
        ? `could not start: ${spawnError.message}`
        : `exited (code ${child.exitCode ?? child.signalCode}) before its health path answered`;
      throw new DeploymentFailedError(`${options.label} ${how}${tail(service.output())}`, {
        input: options.command.join(' '),
        hint: 'check the start command in the service spec and that the commit starts on its own (PORT is given in the environment)',
      });
    }
    const outcome = await probe(
      endpoint,
      { method: 'GET', path: options.healthPath, expectStatus: 200 },
      { timeoutMs: 1000 },
    );
    if (outcome.ok) return service;
    last = outcome.status === undefined ? (outcome.failure ?? 'no answer') : `status ${outcome.status}`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.stop();
  throw new DeploymentFailedError(
    `${options.label} did not answer 200 on ${options.healthPath} within ${timeoutMs} ms (last: ${last})${tail(service.output())}`,
    {
      input: options.healthPath,
      hint: 'check that the service listens on 127.0.0.1 at the PORT it is given and that healthPath in the service spec is right',
    },
  );
}

function tail(output: string): string {
  return output ? `; its output ended with: ${output.slice(-800)}` : '';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free loopback port');
  return address.port;
}
