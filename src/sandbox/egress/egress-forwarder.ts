import { fileURLToPath } from 'node:url';

/** The forwarder script on the host; bind it read-only into the sandbox at `forwarderPath`. */
export const forwarderScriptPath = fileURLToPath(new URL('./sandbox-forwarder.mjs', import.meta.url));

/**
 * Where the forwarder script and the proxy's socket appear inside the sandbox by default: directly
 * on the sandbox's private /tmp, so the mount points need no directory on the read-only host root,
 * and no parent directory bubblewrap would make for them (it makes those 0700, closed to the
 * unprivileged uid the command runs as).
 */
export const defaultSandboxEgressPaths = {
  socketPath: '/tmp/.gantry-egress.sock',
  forwarderPath: '/tmp/.gantry-egress-forwarder.mjs',
} as const;

/** The port the forwarder listens on inside the sandbox; the sandbox's own `lo`, so no host port is taken. */
export const defaultForwarderPort = 18_080;

/** Options for {@link wrapCommandForEgress}; every path is as the sandbox sees it. */
export interface EgressWrapOptions {
  /** The proxy's socket inside the sandbox. Default {@link defaultSandboxEgressPaths}. */
  socketPath?: string;
  /** The forwarder script inside the sandbox. Default {@link defaultSandboxEgressPaths}. */
  forwarderPath?: string;
  port?: number;
  /** Node inside the sandbox. Default `/usr/bin/node`. */
  nodePath?: string;
}

/** A setup command wrapped so its traffic goes through the egress proxy. */
export interface EgressWrappedCommand {
  /** Run this instead of the command: the forwarder, which runs the command. */
  argv: string[];
  /**
   * The proxy variables the command sees. The forwarder sets them on the command itself, so they
   * need not pass the sandbox's environment allowlist; they are here for the run's record.
   */
  proxyEnvironment: Record<string, string>;
}

/**
 * Wraps a setup command in the sandbox-side forwarder. The sandbox adapter then, for one setup
 * command: starts the proxy (`startEgressProxy`), keeps `--unshare-net`, binds `proxy.socketPath`
 * at `socketPath` and {@link forwarderScriptPath} at `forwarderPath` (both read-only, after the
 * private /tmp is mounted), runs `argv`, and closes the proxy when the command ends.
 *
 * @example
 * const { argv } = wrapCommandForEgress(['npm', 'ci', '--ignore-scripts']);
 * // ['/usr/bin/node', '/tmp/.gantry-egress-forwarder.mjs', '--socket', '/tmp/.gantry-egress.sock',
 * //  '--port', '18080', '--', 'npm', 'ci', '--ignore-scripts']
 */
export function wrapCommandForEgress(
  command: readonly string[],
  options: EgressWrapOptions = {},
): EgressWrappedCommand {
  const socketPath = options.socketPath ?? defaultSandboxEgressPaths.socketPath;
  const forwarderPath = options.forwarderPath ?? defaultSandboxEgressPaths.forwarderPath;
  const port = options.port ?? defaultForwarderPort;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(`forwarder port ${port} is not a TCP port (1-65535)`);
  }
  if (command.length === 0) throw new RangeError('there is no command to wrap');
  const proxy = `http://127.0.0.1:${port}`;
  return {
    argv: [
      options.nodePath ?? '/usr/bin/node',
      forwarderPath,
      '--socket',
      socketPath,
      '--port',
      String(port),
      '--',
      ...command,
    ],
    proxyEnvironment: {
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      npm_config_proxy: proxy,
      npm_config_https_proxy: proxy,
      YARN_HTTP_PROXY: proxy,
      YARN_HTTPS_PROXY: proxy,
      NO_PROXY: '',
      no_proxy: '',
      npm_config_noproxy: '',
    },
  };
}
