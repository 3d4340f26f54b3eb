/**
 * Egress for the setup phase: the only network a sandboxed dependency install gets is an
 * allowlisting proxy on the host, reached through a Unix socket bound into the sandbox and a
 * forwarder inside it. See `startEgressProxy` for the order of use.
 */
export { blockedAddressReason } from './blocked-addresses.js';
export {
  defaultForwarderPort,
  defaultSandboxEgressPaths,
  type EgressWrapOptions,
  type EgressWrappedCommand,
  forwarderScriptPath,
  wrapCommandForEgress,
} from './egress-forwarder.js';
export {
  defaultEgressProxyLimits,
  EgressDecision,
  type EgressProxy,
  type EgressProxyLimits,
  type EgressProxyOptions,
  EgressRefusal,
  startEgressProxy,
} from './egress-proxy.js';
export {
  defaultRegistryAllowlist,
  type EgressEndpoint,
  EgressEndpointText,
  type EgressGrant,
  formatEgressEndpoint,
  grantEgress,
  narrowEndpoints,
  parseEgressEndpoint,
  parseRegistryAllowlist,
  parseRegistryNarrowing,
  RegistryAllowlist,
  RegistryName,
  RegistryNarrowing,
} from './registry-allowlist.js';
