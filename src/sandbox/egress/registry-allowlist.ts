import { isIP } from 'node:net';
import { z } from 'zod';
import { parsePolicyDocument } from '../../policy/policy-document.js';

/** A destination the egress proxy may connect to, as `host:port` (IPv6 literals bracketed). */
export interface EgressEndpoint {
  /** Lower-case DNS name, or an IP literal without brackets. */
  host: string;
  port: number;
}

/**
 * Parses `host:port` into the one spelling the proxy compares: the host as a URL would spell it
 * (lower case, IDNA, `0x7f.1` → `127.0.0.1`, IPv6 without brackets) and an explicit port.
 * Returns `undefined` for anything else (no port, a path, credentials, a port out of range).
 *
 * @example
 * parseEgressEndpoint('Registry.NPMJS.org:443'); // { host: 'registry.npmjs.org', port: 443 }
 * parseEgressEndpoint('[::1]:8080'); // { host: '::1', port: 8080 }
 */
export function parseEgressEndpoint(text: string): EgressEndpoint | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]]+):(\d{1,5})$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${match[1]}/`).hostname;
  } catch {
    return undefined;
  }
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname.replace(/\.$/, '');
  if (host === '') return undefined;
  return { host, port };
}

/**
 * The canonical `host:port` text of an endpoint, the form allowlists are compared and recorded in.
 *
 * @example
 * formatEgressEndpoint({ host: '::1', port: 8080 }); // '[::1]:8080'
 */
export function formatEgressEndpoint(endpoint: EgressEndpoint): string {
  return isIP(endpoint.host) === 6
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

/** One allowlist entry, normalised to its canonical `host:port` text. */
export const EgressEndpointText = z.string().transform((text, context) => {
  const endpoint = parseEgressEndpoint(text);
  if (endpoint === undefined) {
    context.addIssue({
      code: 'custom',
      message: `"${text}" is not host:port (for example registry.npmjs.org:443, or [::1]:4873 for an IPv6 literal)`,
    });
    return z.NEVER;
  }
  return formatEgressEndpoint(endpoint);
});

/** The package registries Gantry knows by name; each is a set of endpoints switched on or off together. */
export const RegistryName = z.enum(['npm', 'pypi', 'crates', 'maven', 'go']);
export type RegistryName = z.infer<typeof RegistryName>;

const registry = (enabled: boolean, endpoints: string[]) =>
  z
    .strictObject({
      enabled: z.boolean().default(enabled),
      endpoints: z.array(EgressEndpointText).min(1).default(endpoints),
    })
    .prefault({});

/**
 * The registries one stage lets a setup phase reach. Every key has a default, so `{}` is the
 * embedded default: the npm registry on (with yarn's alias of it, which yarn uses unless told
 * otherwise), the other well-known registries listed but off. `endpoints` adds destinations that
 * are no named registry: a company mirror, or, for tests, an exact `127.0.0.1:<port>`; an entry
 * that is an IP literal is the only way a loopback or private address becomes reachable, and
 * only at that port. Unknown keys are an error.
 *
 * @example
 * RegistryAllowlist.parse({ pypi: { enabled: true } }); // npm and PyPI on, the rest off
 */
export const RegistryAllowlist = z.strictObject({
  npm: registry(true, ['registry.npmjs.org:443', 'registry.yarnpkg.com:443']),
  pypi: registry(false, ['pypi.org:443', 'files.pythonhosted.org:443']),
  crates: registry(false, ['crates.io:443', 'index.crates.io:443', 'static.crates.io:443']),
  maven: registry(false, ['repo.maven.apache.org:443']),
  // The checksum database is part of every `go mod download` that verifies go.sum.
  go: registry(false, ['proxy.golang.org:443', 'sum.golang.org:443']),
  endpoints: z.array(EgressEndpointText).default([]),
});
export type RegistryAllowlist = z.infer<typeof RegistryAllowlist>;

/** The embedded platform's allowlist: the schema's defaults. */
export const defaultRegistryAllowlist: RegistryAllowlist = RegistryAllowlist.parse({});

/**
 * What a repository or a request may say about egress: which registries and endpoints, of those
 * its stage allows, it needs. It can only take away: a name or endpoint the stage does not allow
 * stays unreachable, and is reported as not granted. Unknown keys are an error.
 *
 * @example
 * RegistryNarrowing.parse({ registries: ['npm'], endpoints: ['registry.npmjs.org:443'] });
 */
export const RegistryNarrowing = z.strictObject({
  /**
   * Keep only these registries. Absent: every registry the stage enables. The stage's extra
   * `endpoints` are no registry: they stay, unless `endpoints` below leaves them out.
   */
  registries: z.array(RegistryName).optional(),
  /** Keep only these endpoints, of those left after `registries`. Absent: all of them. */
  endpoints: z.array(EgressEndpointText).optional(),
});
export type RegistryNarrowing = z.infer<typeof RegistryNarrowing>;

/** The endpoints a setup phase may reach, and what a narrowing asked for that it was not given. */
export interface EgressGrant {
  /** Canonical `host:port` texts, sorted, without repeats. */
  endpoints: string[];
  /** Registry names and endpoints the narrowing named and does not get: the stage does not allow them. */
  notGranted: string[];
}

/**
 * The endpoints a stage's allowlist grants, narrowed by a repository's or request's narrowing:
 * always the intersection, never more than the stage allows.
 *
 * @example
 * grantEgress(defaultRegistryAllowlist, { registries: ['npm', 'pypi'] });
 * // { endpoints: ['registry.npmjs.org:443', 'registry.yarnpkg.com:443'], notGranted: ['pypi'] }
 */
export function grantEgress(stage: RegistryAllowlist, narrowing: RegistryNarrowing = {}): EgressGrant {
  const enabled = RegistryName.options.filter((name) => stage[name].enabled);
  const wanted = new Set(narrowing.registries ?? enabled);
  const granted = new Set([
    ...stage.endpoints,
    ...enabled.filter((name) => wanted.has(name)).flatMap((name) => stage[name].endpoints),
  ]);
  const asked = narrowing.endpoints === undefined ? undefined : new Set(narrowing.endpoints);
  const endpoints = [...granted].filter((endpoint) => asked === undefined || asked.has(endpoint)).sort();
  return {
    endpoints,
    notGranted: [
      ...[...wanted].filter((name) => !enabled.includes(name)),
      ...[...(asked ?? [])].filter((endpoint) => !endpoints.includes(endpoint)),
    ],
  };
}

const allowlistHint =
  'Fix the egress allowlist: keys are npm, pypi, crates, maven, go (each { enabled, endpoints }) and endpoints.';
const narrowingHint =
  'Fix the egress section: `registries` lists registry names (npm, pypi, crates, maven, go), `endpoints` lists host:port entries.';

/**
 * Parses a stage's allowlist document (YAML or JSON); `origin` names it in errors.
 *
 * @example
 * const allowlist = parseRegistryAllowlist('pypi: { enabled: true }\n', 'stacks/egress-dev.yaml');
 */
export function parseRegistryAllowlist(text: string, origin: string): RegistryAllowlist {
  return parsePolicyDocument(text, origin, RegistryAllowlist, {
    label: 'Egress allowlist',
    hint: allowlistHint,
  });
}

/**
 * Parses a repository's or request's narrowing document (YAML or JSON); `origin` names it in errors.
 *
 * @example
 * const narrowing = parseRegistryNarrowing('registries: [npm]\n', '.gantry/egress.yaml');
 */
export function parseRegistryNarrowing(text: string, origin: string): RegistryNarrowing {
  return parsePolicyDocument(text, origin, RegistryNarrowing, {
    label: 'Egress narrowing',
    hint: narrowingHint,
  });
}

/**
 * Narrows endpoints already granted (the stage's) by a repository's or request's narrowing: only the
 * endpoints of the named registries (as `definitions` lists them) and the named endpoints remain. A
 * narrowing can only take endpoints away; names it gives that were not granted are ignored.
 *
 * @example
 * narrowEndpoints(['registry.npmjs.org:443', 'registry.yarnpkg.com:443'], { registries: ['npm'] });
 */
export function narrowEndpoints(
  granted: readonly string[],
  narrowing: { registries?: readonly string[]; endpoints?: readonly string[] },
  definitions: RegistryAllowlist = defaultRegistryAllowlist,
): string[] {
  let kept = [...granted];
  if (narrowing.registries) {
    const names = new Set(narrowing.registries);
    const ofNamed = new Set(
      RegistryName.options.filter((name) => names.has(name)).flatMap((name) => definitions[name].endpoints),
    );
    kept = kept.filter((endpoint) => ofNamed.has(endpoint));
  }
  if (narrowing.endpoints) {
    const named = new Set(
      narrowing.endpoints.flatMap((entry) => {
        const endpoint = parseEgressEndpoint(entry);
        return endpoint ? [formatEgressEndpoint(endpoint)] : [];
      }),
    );
    kept = kept.filter((endpoint) => named.has(endpoint));
  }
  return kept;
}
