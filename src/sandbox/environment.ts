import { sandboxHome, systemPath } from './view.js';

export { sandboxHome };

/** Used when the host has no PATH; the usual system directories. */
export const fallbackPath = systemPath;

/** Names that look like they carry a credential; such a variable never enters a sandbox. */
export const secretLikeName = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|PRIVATE)/i;

/** Which `command.env` names may enter a sandbox: exact names and name prefixes. */
export interface EnvironmentAllowlist {
  names: readonly string[];
  prefixes: readonly string[];
}

/**
 * Names a command may set. Loader and interpreter hooks (LD_PRELOAD, NODE_OPTIONS, BASH_ENV, ...)
 * are deliberately absent: they would let a caller inject code into every tool the agent runs.
 */
export const defaultEnvironmentAllowlist: EnvironmentAllowlist = {
  names: [
    'PATH',
    'HOME',
    'LANG',
    'LC_ALL',
    'TZ',
    'TERM',
    'CI',
    'NODE_ENV',
    'FORCE_COLOR',
    'NO_COLOR',
    'PYTHONDONTWRITEBYTECODE',
    'PYTHONUNBUFFERED',
    'PYTHONHASHSEED',
    'GOFLAGS',
    'GOPROXY',
    'GOSUMDB',
    'CARGO_NET_OFFLINE',
    'GIT_AUTHOR_NAME',
    'GIT_AUTHOR_EMAIL',
    'GIT_COMMITTER_NAME',
    'GIT_COMMITTER_EMAIL',
    'GIT_AUTHOR_DATE',
    'GIT_COMMITTER_DATE',
    'SOURCE_DATE_EPOCH',
  ],
  prefixes: ['GANTRY_', 'LC_', 'npm_config_'],
};

/** Host variables copied in when set; everything else in the host environment stays out. */
const hostBasics = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

/** What a sandbox view decides about the environment: PATH and the toolchains' variables. */
export interface ViewEnvironment {
  path: string;
  env: Readonly<Record<string, string>>;
}

const validName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` may be set by a command: well formed, on the allowlist, and not secret-like. */
export function isAllowedEnvironmentName(
  name: string,
  allowlist: EnvironmentAllowlist = defaultEnvironmentAllowlist,
): boolean {
  if (!validName.test(name) || secretLikeName.test(name)) return false;
  return allowlist.names.includes(name) || allowlist.prefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * The complete environment a sandboxed command starts with: a few host basics, fixed values that
 * make tools behave non-interactively, and the allowed part of `requested`.
 *
 * @example
 * sandboxEnvironment({ NODE_ENV: 'test', AWS_SECRET_ACCESS_KEY: 'x' }, { PATH: '/usr/bin' });
 * // → { PATH: '/usr/bin', HOME: '/tmp/home', TERM: 'dumb', CI: 'true', NODE_ENV: 'test' }
 */
export function sandboxEnvironment(
  requested: Readonly<Record<string, string>> = {},
  host: Readonly<Record<string, string | undefined>> = process.env,
  allowlist: EnvironmentAllowlist = defaultEnvironmentAllowlist,
  view?: ViewEnvironment,
  /** A virtualenv as the command sees it (absolute): first on PATH, and VIRTUAL_ENV. */
  virtualenv?: string,
): Record<string, string> {
  const environment: Record<string, string> = { PATH: fallbackPath };
  for (const name of hostBasics) {
    // With a view, PATH is the view's: the host's PATH names directories the sandbox cannot see (pyenv shims, ~/.cargo).
    if (view && name === 'PATH') continue;
    const value = host[name];
    if (value !== undefined && value !== '' && !value.includes('\0')) environment[name] = value;
  }
  if (view) Object.assign(environment, { PATH: view.path }, view.env);
  Object.assign(environment, { HOME: sandboxHome, TERM: 'dumb', CI: 'true' });
  for (const [name, value] of Object.entries(requested)) {
    if (isAllowedEnvironmentName(name, allowlist) && !value.includes('\0')) environment[name] = value;
  }
  if (virtualenv) {
    environment.PATH = `${virtualenv}/bin:${environment.PATH}`;
    environment.VIRTUAL_ENV = virtualenv;
  }
  return environment;
}
