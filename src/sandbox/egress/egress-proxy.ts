import { lookup } from 'node:dns/promises';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { SandboxError } from '../../domain/errors.js';
import { blockedAddressReason } from './blocked-addresses.js';
import { type EgressEndpoint, formatEgressEndpoint, parseEgressEndpoint } from './registry-allowlist.js';

/** Why the proxy refused a connection before reaching anything. */
export const EgressRefusal = z.enum([
  /** The host:port is not on the allowlist. */
  'not-allowlisted',
  /** The name resolved to a loopback, private, link-local, multicast or otherwise non-public address. */
  'blocked-address',
  /** The name did not resolve on the host. */
  'unresolvable',
  /** As many connections as `maxTunnels` were open already. */
  'too-many-tunnels',
  /** Not a CONNECT or an absolute http:// request, or headers over the size limit. */
  'malformed-request',
]);
export type EgressRefusal = z.infer<typeof EgressRefusal>;

/**
 * One decision of the egress proxy, recorded when the connection it opened ends (or at once for a
 * refusal). `bytesUp` and `bytesDown` count what went to and came from the destination, headers
 * of a forwarded plain-HTTP request included. The caller turns these into run events.
 */
export const EgressDecision = z.strictObject({
  /** `connect`: a CONNECT tunnel (HTTPS); `http`: one plain-HTTP request forwarded. */
  protocol: z.enum(['connect', 'http']),
  host: z.string(),
  port: z.int().min(0).max(65_535),
  /** `failed`: allowed, but the destination could not be reached. */
  outcome: z.enum(['allowed', 'refused', 'failed']),
  reason: EgressRefusal.optional(),
  /** The checked address the proxy connected to (never re-resolved). */
  address: z.string().optional(),
  /** What happened, for a person reading the run. */
  detail: z.string(),
  bytesUp: z.int().min(0),
  bytesDown: z.int().min(0),
  durationMs: z.number().min(0),
});
export type EgressDecision = z.infer<typeof EgressDecision>;

/** Bounds on what one proxy holds open. */
export interface EgressProxyLimits {
  /** Connections to destinations open at once (CONNECT tunnels and plain-HTTP requests). */
  maxTunnels: number;
  /** A connection with no bytes either way for this long is closed. */
  idleTimeoutMs: number;
  /** Connecting to one resolved address gives up after this long. */
  connectTimeoutMs: number;
  /** Request line and headers together; a bigger request is refused with 431. */
  maxHeaderBytes: number;
}

export const defaultEgressProxyLimits: EgressProxyLimits = {
  maxTunnels: 64,
  idleTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxHeaderBytes: 16 * 1024,
};

/** Options for {@link startEgressProxy}. */
export interface EgressProxyOptions {
  /** `host:port` entries the proxy may reach (see `grantEgress`); spelled any way `parseEgressEndpoint` reads. */
  endpoints: readonly string[];
  /** Called once per decision; it must not throw. */
  onDecision: (decision: EgressDecision) => void;
  /**
   * Where to listen. Default: `egress.sock` in a fresh directory (mode 0711) under the OS temp
   * directory, removed on close. Either way the socket is made 0666, so a sandboxed command
   * running under another uid can connect to it where it is bound into the sandbox.
   */
  socketPath?: string;
  limits?: Partial<EgressProxyLimits>;
  /** Resolves a name to its addresses. Default: the host's resolver (`dns.lookup`, all addresses). */
  resolve?: (host: string) => Promise<string[]>;
}

/** A running egress proxy. */
export interface EgressProxy {
  /** The Unix socket it listens on, on the host. */
  readonly socketPath: string;
  /** Connections to destinations open now. */
  readonly openTunnels: number;
  /** Stops listening, cuts every open connection, removes the socket (and its directory if made here). */
  close(): Promise<void>;
}

const hopByHopHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

async function resolveOnHost(host: string): Promise<string[]> {
  const addresses = await lookup(host, { all: true, verbatim: true });
  return addresses.map((entry) => entry.address);
}

interface Refused {
  ok: false;
  status: number;
  reason: EgressRefusal;
  detail: string;
}
interface Cleared {
  ok: true;
  endpoint: EgressEndpoint;
  /** Every address the name resolved to, each checked; connections go to these only. */
  addresses: string[];
}

const malformed = (detail: string): Refused => ({
  ok: false,
  status: 400,
  reason: 'malformed-request',
  detail,
});

/**
 * Starts the setup phase's egress proxy on a Unix socket: an HTTP proxy that accepts `CONNECT
 * host:port` (HTTPS registries) and absolute-URI plain-HTTP requests (`GET http://host:port/…`),
 * and only to allowlisted endpoints. The host resolves each name; if any address it returns is
 * loopback, private, link-local, multicast or unspecified (IPv6 and IPv4-in-IPv6 forms included)
 * the request is refused, unless the allowlist entry is that exact IP literal and port. The
 * proxy then connects to the address it checked, never resolving again, so a name cannot be
 * rebound to an internal address between check and connect. Every decision goes to `onDecision`.
 *
 * A Unix socket, not TCP, so a sandbox reaches the proxy only where the socket file is bound
 * in, never through a network. On the host, a local user who finds the path can use it too, and
 * gets no more than the allowlist.
 *
 * @example
 * const proxy = await startEgressProxy({
 *   endpoints: grantEgress(defaultRegistryAllowlist).endpoints,
 *   onDecision: (decision) => decisions.push(decision),
 * });
 * // bind proxy.socketPath into the sandbox, wrap the command with wrapCommandForEgress, run it
 * await proxy.close();
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const limits = { ...defaultEgressProxyLimits, ...options.limits };
  const resolve = options.resolve ?? resolveOnHost;
  const allowed = new Set(
    options.endpoints.map((text) => {
      const endpoint = parseEgressEndpoint(text);
      if (endpoint === undefined) {
        throw new SandboxError(`The egress allowlist entry "${text}" is not host:port`, {
          input: text,
          hint: 'Pass the endpoints of grantEgress, or host:port texts such as registry.npmjs.org:443.',
        });
      }
      return formatEgressEndpoint(endpoint);
    }),
  );
  const ownDirectory =
    options.socketPath === undefined ? await mkdtemp(path.join(tmpdir(), 'gantry-egress-')) : undefined;
  if (ownDirectory !== undefined) await chmod(ownDirectory, 0o711);
  const socketPath = options.socketPath ?? path.join(ownDirectory as string, 'egress.sock');
  const sockets = new Set<net.Socket>();
  let openTunnels = 0;

  const record = (decision: EgressDecision) => {
    try {
      options.onDecision(decision);
    } catch {
      // A failing recorder must not take the proxy down mid-install; the caller owns its errors.
    }
  };
  const refuse = (protocol: EgressDecision['protocol'], host: string, port: number, refused: Refused) =>
    record({
      protocol,
      host,
      port,
      outcome: 'refused',
      reason: refused.reason,
      detail: refused.detail,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: 0,
    });

  /**
   * The allowlist, the tunnel bound and the address checks, in that order. A cleared endpoint
   * holds one of the `maxTunnels` slots from here on (taken before resolving, so concurrent
   * lookups cannot overshoot); whoever uses it gives the slot back when the connection ends.
   */
  const check = async (endpoint: EgressEndpoint): Promise<Refused | Cleared> => {
    const text = formatEgressEndpoint(endpoint);
    if (!allowed.has(text)) {
      return {
        ok: false,
        status: 403,
        reason: 'not-allowlisted',
        detail: `${text} is not on this run's egress allowlist`,
      };
    }
    if (openTunnels >= limits.maxTunnels) {
      return {
        ok: false,
        status: 503,
        reason: 'too-many-tunnels',
        detail: `${limits.maxTunnels} connections are open already`,
      };
    }
    openTunnels += 1;
    const checked = await checkAddresses(endpoint);
    if (!checked.ok) openTunnels -= 1;
    return checked;
  };

  const checkAddresses = async (endpoint: EgressEndpoint): Promise<Refused | Cleared> => {
    // An allowlisted IP literal names the exact address: the one way to a local stand-in.
    if (net.isIP(endpoint.host) !== 0) return { ok: true, endpoint, addresses: [endpoint.host] };
    let addresses: string[];
    try {
      addresses = await resolve(endpoint.host);
    } catch (cause) {
      return {
        ok: false,
        status: 502,
        reason: 'unresolvable',
        detail: `${endpoint.host} did not resolve: ${(cause as Error).message}`,
      };
    }
    if (addresses.length === 0) {
      return { ok: false, status: 502, reason: 'unresolvable', detail: `${endpoint.host} has no addresses` };
    }
    for (const address of addresses) {
      const why = blockedAddressReason(address);
      if (why !== undefined) {
        return {
          ok: false,
          status: 403,
          reason: 'blocked-address',
          detail: `${endpoint.host} resolves to ${address}, which is ${why}`,
        };
      }
    }
    return { ok: true, endpoint, addresses };
  };

  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.idleTimeoutMs,
    // Downloads can be long; the idle timeout, not a total, bounds a request.
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutMs,
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());

  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    record({
      protocol: 'http',
      host: '',
      port: 0,
      outcome: 'refused',
      reason: 'malformed-request',
      detail: tooLarge ? `headers over ${limits.maxHeaderBytes} bytes` : `unparsable request (${error.code})`,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: 0,
    });
    if (socket.writable) {
      socket.end(`HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n\r\n`);
    }
    socket.destroy();
  });

  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const started = performance.now();
    const requested = request.url ?? '';
    const endpoint = parseEgressEndpoint(requested);
    client.on('error', () => client.destroy());
    const refuseTunnel = (refused: Refused) => {
      refuse('connect', endpoint?.host ?? requested, endpoint?.port ?? 0, refused);
      client.end(`HTTP/1.1 ${refused.status} ${refused.reason}\r\n\r\n${refused.detail}\n`);
    };
    if (endpoint === undefined) {
      refuseTunnel(malformed(`CONNECT "${requested}" is not host:port`));
      return;
    }
    void check(endpoint).then(async (checked) => {
      if (!checked.ok) {
        refuseTunnel(checked);
        return;
      }
      let address: string | undefined;
      const finish = onceOnly((outcome: 'allowed' | 'failed', detail: string, upstream?: net.Socket) => {
        openTunnels -= 1;
        record({
          protocol: 'connect',
          host: checked.endpoint.host,
          port: checked.endpoint.port,
          outcome,
          ...(address === undefined ? {} : { address }),
          detail,
          bytesUp: upstream?.bytesWritten ?? 0,
          bytesDown: upstream?.bytesRead ?? 0,
          durationMs: performance.now() - started,
        });
      });
      let upstream: net.Socket;
      try {
        upstream = await connectToFirst(checked.addresses, checked.endpoint.port, limits.connectTimeoutMs);
        address = upstream.remoteAddress;
      } catch (cause) {
        finish('failed', (cause as Error).message);
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
        return;
      }
      if (client.destroyed) {
        upstream.destroy();
        finish('allowed', 'the client went away before the tunnel opened', upstream);
        return;
      }
      sockets.add(upstream);
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', cut);
      client.on('error', cut);
      upstream.setTimeout(limits.idleTimeoutMs, cut);
      client.setTimeout(limits.idleTimeoutMs, cut);
      let closed = 0;
      const closeOne = () => {
        closed += 1;
        if (closed === 2) {
          sockets.delete(upstream);
          finish('allowed', `tunnel to ${address} closed`, upstream);
        }
      };
      upstream.once('close', closeOne);
      client.once('close', closeOne);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });

  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const started = performance.now();
    const requested = request.url ?? '';
    let target: URL | undefined;
    try {
      target = requested.startsWith('http://') ? new URL(requested) : undefined;
    } catch {
      target = undefined;
    }
    const endpoint = target
      ? parseEgressEndpoint(`${target.host.replace(/:\d+$/, '')}:${target.port === '' ? 80 : target.port}`)
      : undefined;
    const refuseRequest = (refused: Refused) => {
      refuse('http', endpoint?.host ?? requested, endpoint?.port ?? 0, refused);
      response.writeHead(refused.status, { 'content-type': 'text/plain', connection: 'close' });
      response.end(`${refused.detail}\n`);
      request.resume();
    };
    if (target === undefined || endpoint === undefined) {
      refuseRequest(malformed(`"${requested}" is no absolute http:// URI; send one, or CONNECT host:port`));
      return;
    }
    void check(endpoint).then((checked) => {
      if (checked.ok) forwardPlainHttp(request, response, target, checked, started);
      else refuseRequest(checked);
    });
  });

  const forwardPlainHttp = (
    request: http.IncomingMessage,
    response: http.ServerResponse,
    target: URL,
    checked: Cleared,
    started: number,
  ) => {
    const address = checked.addresses[0] as string;
    let upstreamSocket: net.Socket | undefined;
    const finish = onceOnly((outcome: 'allowed' | 'failed', detail: string) => {
      openTunnels -= 1;
      record({
        protocol: 'http',
        host: checked.endpoint.host,
        port: checked.endpoint.port,
        outcome,
        address,
        detail,
        bytesUp: upstreamSocket?.bytesWritten ?? 0,
        bytesDown: upstreamSocket?.bytesRead ?? 0,
        durationMs: performance.now() - started,
      });
    });
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!hopByHopHeaders.has(name) && value !== undefined) headers[name] = value;
    }
    headers.host = target.host;
    headers.connection = 'close';
    const upstream = http.request({
      host: address,
      port: checked.endpoint.port,
      method: request.method,
      path: `${target.pathname}${target.search}`,
      headers,
      agent: false,
    });
    upstream.on('socket', (socket: net.Socket) => {
      upstreamSocket = socket;
      socket.setTimeout(limits.connectTimeoutMs);
      socket.once('connect', () => socket.setTimeout(limits.idleTimeoutMs));
      socket.on('timeout', () =>
        upstream.destroy(
          new Error(
            socket.connecting
              ? `no connection within ${limits.connectTimeoutMs} ms`
              : `idle for ${limits.idleTimeoutMs} ms`,
          ),
        ),
      );
    });
    upstream.on('error', (error) => {
      finish('failed', error.message);
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
        response.end(`${checked.endpoint.host}: ${error.message}\n`);
      } else {
        response.destroy();
      }
    });
    upstream.on('response', (answer) => {
      const forwarded: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!hopByHopHeaders.has(name) && value !== undefined) forwarded[name] = value;
      }
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwarded);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    response.on('close', () => {
      upstream.destroy();
      finish('allowed', `${request.method} ${target.pathname} via ${address}`);
    });
    request.pipe(upstream);
  };

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(socketPath, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  }).catch(async (cause: unknown) => {
    if (ownDirectory !== undefined) await rm(ownDirectory, { recursive: true, force: true });
    throw new SandboxError(`The egress proxy cannot listen on ${socketPath}: ${(cause as Error).message}`, {
      input: socketPath,
      hint: 'Pass a socketPath in a directory Gantry can write, with no file of that name there.',
      cause,
    });
  });
  await chmod(socketPath, 0o666);

  return {
    socketPath,
    get openTunnels() {
      return openTunnels;
    },
    async close() {
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      for (const socket of sockets) socket.destroy();
      await closed;
      if (ownDirectory !== undefined) await rm(ownDirectory, { recursive: true, force: true });
      else await rm(socketPath, { force: true });
    },
  };
}

/** Connects to each address in turn until one answers; rejects with every failure when none does. */
async function connectToFirst(
  addresses: readonly string[],
  port: number,
  timeoutMs: number,
): Promise<net.Socket> {
  const failures: string[] = [];
  for (const address of addresses) {
    try {
      return await new Promise<net.Socket>((resolveConnect, rejectConnect) => {
        const socket = net.connect({ host: address, port });
        const timer = setTimeout(() => {
          socket.destroy();
          rejectConnect(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolveConnect(socket);
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          rejectConnect(error);
        });
      });
    } catch (cause) {
      failures.push(`${address}: ${(cause as Error).message}`);
    }
  }
  throw new Error(`cannot connect to port ${port} (${failures.join('; ')})`);
}

function onceOnly<A extends unknown[]>(body: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    body(...args);
  };
}
