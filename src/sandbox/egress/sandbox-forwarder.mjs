#!/usr/bin/env node
// Runs inside the setup sandbox, whose network namespace has only `lo`: listens on 127.0.0.1:<port>,
// pipes every connection to the egress proxy's Unix socket (bound into the sandbox), and runs the
// real command with the proxy variables pointing at that port. It exits with the command's status,
// or dies of the command's signal. No dependencies: it runs from a read-only bind of this file.
//
//   node sandbox-forwarder.mjs --socket /tmp/.gantry-egress.sock --port 18080 -- npm ci --ignore-scripts
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';

const usage = 'usage: sandbox-forwarder.mjs --socket <path> --port <1-65535> -- <command> [args...]';
const fail = (message, status) => {
  process.stderr.write(`gantry egress forwarder: ${message}\n`);
  process.exit(status);
};

const args = process.argv.slice(2);
const separator = args.indexOf('--');
const options = separator === -1 ? args : args.slice(0, separator);
const command = separator === -1 ? [] : args.slice(separator + 1);
const option = (name) => {
  const index = options.indexOf(name);
  return index === -1 ? undefined : options[index + 1];
};
const socketPath = option('--socket');
const port = Number(option('--port'));
if (!socketPath || !Number.isInteger(port) || port < 1 || port > 65_535 || command.length === 0) {
  fail(usage, 125);
}
try {
  if (!statSync(socketPath).isSocket())
    fail(`${socketPath} is not a socket; bind the proxy's socket there`, 125);
} catch (error) {
  fail(`cannot reach the egress proxy at ${socketPath}: ${error.message}`, 125);
}

const connections = new Set();
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  connections.add(client).add(upstream);
  const cut = () => {
    client.destroy();
    upstream.destroy();
    connections.delete(client);
    connections.delete(upstream);
  };
  client.on('error', cut).on('close', cut);
  upstream.on('error', cut).on('close', cut);
  client.pipe(upstream);
  upstream.pipe(client);
});
server.on('error', (error) => fail(`cannot listen on 127.0.0.1:${port}: ${error.message}`, 125));

server.listen(port, '127.0.0.1', () => {
  const proxy = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    npm_config_proxy: proxy,
    npm_config_https_proxy: proxy,
    YARN_HTTP_PROXY: proxy,
    YARN_HTTPS_PROXY: proxy,
    // Nothing bypasses the proxy: there is no other way out of the sandbox anyway.
    NO_PROXY: '',
    no_proxy: '',
    npm_config_noproxy: '',
  };
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
  const forwarded = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];
  const relay = (signal) => child.kill(signal);
  for (const signal of forwarded) process.on(signal, relay);
  child.on('error', (error) => {
    fail(`cannot start ${command[0]}: ${error.message}`, error.code === 'ENOENT' ? 127 : 126);
  });
  child.on('exit', (code, signal) => {
    for (const connection of connections) connection.destroy();
    server.close();
    if (signal) {
      for (const name of forwarded) process.off(name, relay);
      process.kill(process.pid, signal);
      // Still alive: the signal is ignored here (as for pid 1); report it the way a shell would.
      process.exit(128 + (constants.signals[signal] ?? 0));
    }
    process.exit(code ?? 1);
  });
});
