import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { WindowStats } from '../ports/deployer.js';
import { type OutcomeSample, summariseWindow } from './window-stats.js';

/** The status a synthetic request expects; the router judges the backend's answer against it, then drops the header. */
export const EXPECT_STATUS_HEADER = 'x-gantry-expect-status';
/** The traffic-mix item a synthetic request belongs to; the split is kept per item. */
export const TRAFFIC_CLASS_HEADER = 'x-gantry-traffic-class';

export type BackendRole = 'stable' | 'canary';

/** One running version behind the router. */
export interface Backend {
  deploymentId: string;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
}

export interface TrafficSplit {
  stable?: Backend;
  canary?: Backend;
  /** Share of requests the canary takes, 0 to 100. */
  canaryPercent: number;
}

/** Samples kept per role between two windows at most; past that a forgotten window stops growing. */
const MAX_SAMPLES = 100_000;

/**
 * The production endpoint of one service: a loopback HTTP proxy that splits requests between a stable
 * and a canary version and records, per version, whether each answer was the one expected and how
 * long it took. The split is smooth weighted round-robin kept separately for each kind of request
 * (the traffic class header, else method and path), so it is deterministic (10% of 100 requests is
 * exactly 10) and the canary sees the same mix as the stable version: one shared rotation could line up
 * with a periodic mix and never hand the canary some kind of request. Each kind's rotation starts with the
 * canary, so over n requests of a kind the canary takes about ceil(n × percent / 100) of them.
 *
 * @example
 * const router = await TrafficRouter.start();
 * router.route({ stable, canary, canaryPercent: 10 });
 * router.openWindow(); // ...traffic...
 * const { canary: canaryStats } = router.closeWindow();
 */
export class TrafficRouter {
  private split: TrafficSplit = { canaryPercent: 0 };
  private readonly rotations = new Map<string, Record<BackendRole, number>>();
  private samples: Record<BackendRole, OutcomeSample[]> = { stable: [], canary: [] };
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly timeoutMs: number,
  ) {}

  /** Starts a router on a free loopback port; `timeoutMs` is how long a backend has to answer (then 504). */
  static async start(options: { timeoutMs?: number } = {}): Promise<TrafficRouter> {
    let router: TrafficRouter | undefined;
    const server = createServer((req, res) => router?.forward(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    router = new TrafficRouter(server, `http://127.0.0.1:${port}`, options.timeoutMs ?? 2000);
    return router;
  }

  /** Points the router at the given versions; the rotation starts afresh. */
  route(split: TrafficSplit): void {
    this.split = { ...split, canaryPercent: Math.min(100, Math.max(0, split.canaryPercent)) };
    this.rotations.clear();
  }

  get current(): TrafficSplit {
    return { ...this.split };
  }

  /** Starts a measuring window: samples from before are dropped. */
  openWindow(): void {
    this.samples = { stable: [], canary: [] };
  }

  /** Ends the window: what each role served since `openWindow`. */
  closeWindow(): Record<BackendRole, WindowStats> {
    const { stable, canary } = this.samples;
    this.samples = { stable: [], canary: [] };
    return { stable: summariseWindow(stable), canary: summariseWindow(canary) };
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Which role serves the next request of this class. */
  private pick(trafficClass: string): BackendRole | undefined {
    const { stable, canary, canaryPercent } = this.split;
    if (!canary || canaryPercent <= 0) return stable ? 'stable' : undefined;
    if (!stable || canaryPercent >= 100) return 'canary';
    const weights: Record<BackendRole, number> = { stable: 100 - canaryPercent, canary: canaryPercent };
    // Starting half a turn ahead makes each kind's first request go to the canary: a short window still shows it every kind.
    const rotation = this.rotations.get(trafficClass) ?? { stable: -50, canary: 50 };
    rotation.stable += weights.stable;
    rotation.canary += weights.canary;
    const chosen: BackendRole = rotation.canary > rotation.stable ? 'canary' : 'stable';
    rotation[chosen] -= 100;
    this.rotations.set(trafficClass, rotation);
    return chosen;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const expectHeader = header(req, EXPECT_STATUS_HEADER);
    const expected = expectHeader === undefined ? undefined : Number(expectHeader);
    const trafficClass = header(req, TRAFFIC_CLASS_HEADER) ?? `${req.method} ${req.url}`;
    const role = this.pick(trafficClass);
    const backend = role && this.split[role];
    if (!role || !backend) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no version is live behind this router\n');
      return;
    }
    const samples = this.samples[role];
    let settled = false;
    const record = (status: number | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ok = status !== undefined && (expected === undefined ? status < 500 : status === expected);
      if (samples.length < MAX_SAMPLES) samples.push({ ok, latencyMs: performance.now() - started });
    };
    const fail = (status: number, message: string) => {
      record(undefined);
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`${message}\n`);
    };

    const headers = { ...req.headers };
    delete headers[EXPECT_STATUS_HEADER];
    delete headers[TRAFFIC_CLASS_HEADER];
    delete headers.connection;
    const target = new URL(backend.endpoint);
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, host: target.host },
        agent: this.agent,
      },
      (answer) => {
        const answerHeaders = { ...answer.headers };
        delete answerHeaders.connection;
        delete answerHeaders['keep-alive'];
        res.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.pipe(res);
        answer.once('end', () => record(answer.statusCode));
        answer.once('error', () => fail(502, 'the version stopped answering'));
      },
    );
    const timer = setTimeout(() => {
      upstream.destroy();
      fail(504, `the version did not answer within ${this.timeoutMs} ms`);
    }, this.timeoutMs);
    upstream.once('error', (error) => fail(502, `the version could not be reached: ${error.message}`));
    req.pipe(upstream);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
