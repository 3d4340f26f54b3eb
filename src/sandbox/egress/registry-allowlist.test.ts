import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../domain/errors.js';
import { blockedAddressReason } from './blocked-addresses.js';
import {
  defaultRegistryAllowlist,
  grantEgress,
  narrowEndpoints,
  parseEgressEndpoint,
  parseRegistryAllowlist,
  parseRegistryNarrowing,
  RegistryAllowlist,
  RegistryNarrowing,
} from './registry-allowlist.js';

describe('the embedded default allowlist', () => {
  it('grants the npm registry only, and lists the other ecosystems switched off', () => {
    // Act
    const grant = grantEgress(defaultRegistryAllowlist);

    // Assess
    expect(grant).toEqual({
      endpoints: ['registry.npmjs.org:443', 'registry.yarnpkg.com:443'],
      notGranted: [],
    });
    expect(defaultRegistryAllowlist.pypi).toEqual({
      enabled: false,
      endpoints: ['pypi.org:443', 'files.pythonhosted.org:443'],
    });
    expect(defaultRegistryAllowlist.crates.endpoints).toEqual([
      'crates.io:443',
      'index.crates.io:443',
      'static.crates.io:443',
    ]);
    expect(defaultRegistryAllowlist.maven.endpoints).toEqual(['repo.maven.apache.org:443']);
    expect(defaultRegistryAllowlist.go.endpoints).toContain('proxy.golang.org:443');
    expect(defaultRegistryAllowlist.endpoints).toEqual([]);
  });

  it('lets a stage switch a registry on and keep its default endpoints', () => {
    const stage = RegistryAllowlist.parse({ pypi: { enabled: true }, npm: { enabled: false } });

    expect(grantEgress(stage).endpoints).toEqual(['files.pythonhosted.org:443', 'pypi.org:443']);
  });

  it('rejects unknown keys and entries that are not host:port, naming the file', () => {
    const typo = () =>
      parseRegistryAllowlist('npm: { enabled: true }\nnpmm: { enabled: true }\n', 'stage.yaml');
    const noPort = () => parseRegistryAllowlist('endpoints: [registry.example.com]\n', 'stage.yaml');
    const narrowingTypo = () => parseRegistryNarrowing('registry: [npm]\n', '.gantry/egress.yaml');

    expect(typo).toThrow(InvalidInputError);
    expect(typo).toThrow(/stage\.yaml.*npmm/s);
    expect(noPort).toThrow(/"registry\.example\.com" is not host:port/);
    expect(narrowingTypo).toThrow(/\.gantry\/egress\.yaml/);
    expect(RegistryNarrowing.safeParse({ registries: ['npm'], extra: true }).success).toBe(false);
  });
});

describe('narrowing by a repository or a request', () => {
  const stage = RegistryAllowlist.parse({ pypi: { enabled: true }, endpoints: ['127.0.0.1:4873'] });

  it('keeps only the registries and endpoints it names', () => {
    const npmOnly = grantEgress(stage, { registries: ['npm'] });
    const oneEndpoint = grantEgress(stage, { endpoints: ['pypi.org:443'] });

    expect(npmOnly.endpoints).toEqual([
      '127.0.0.1:4873',
      'registry.npmjs.org:443',
      'registry.yarnpkg.com:443',
    ]);
    expect(oneEndpoint).toEqual({ endpoints: ['pypi.org:443'], notGranted: [] });
  });

  it('never widens: a registry or endpoint the stage does not allow stays out and is reported', () => {
    const grant = grantEgress(stage, {
      registries: ['npm', 'crates'],
      endpoints: ['registry.npmjs.org:443', 'evil.example.com:443', '169.254.169.254:80'],
    });

    expect(grant).toEqual({
      endpoints: ['registry.npmjs.org:443'],
      notGranted: ['crates', 'evil.example.com:443', '169.254.169.254:80'],
    });
  });

  it('compares endpoints in one spelling, so case or a numeric IPv4 form cannot slip past', () => {
    const narrowing = RegistryNarrowing.parse({ endpoints: ['REGISTRY.npmjs.org:443', '0x7f.0.0.1:4873'] });

    const grant = grantEgress(stage, narrowing);

    expect(grant.endpoints).toEqual(['127.0.0.1:4873', 'registry.npmjs.org:443']);
  });
});

describe('parseEgressEndpoint', () => {
  it.each([
    ['registry.npmjs.org:443', { host: 'registry.npmjs.org', port: 443 }],
    ['Registry.NPMJS.org.:443', { host: 'registry.npmjs.org', port: 443 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['2130706433:80', { host: '127.0.0.1', port: 80 }],
  ])('reads %s', (text, endpoint) => {
    expect(parseEgressEndpoint(text)).toEqual(endpoint);
  });

  it.each([
    'registry.npmjs.org',
    'registry.npmjs.org:0',
    'registry.npmjs.org:70000',
    'user@registry.npmjs.org:443',
    'registry.npmjs.org:443/path',
    '::1:443',
    ':443',
  ])('refuses %s', (text) => {
    expect(parseEgressEndpoint(text)).toBeUndefined();
  });
});

describe('blockedAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['10.1.2.3', 'private (10/8)'],
    ['172.31.255.1', 'private (172.16/12)'],
    ['192.168.0.10', 'private (192.168/16)'],
    ['100.100.100.200', 'shared address space'],
    ['169.254.169.254', 'cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00:ec2::254', 'unique local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback, embedded in ::ffff:127.0.0.1'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['::ffff:10.0.0.1', 'private (10/8)'],
    ['64:ff9b::c0a8:101', 'private (192.168/16)'],
    ['2002:7f00:1::', 'loopback'],
  ])('refuses %s', (address, why) => {
    expect(blockedAddressReason(address)).toContain(why);
  });

  it.each(['104.16.1.35', '203.0.113.80', '2606:4700::6810:122', '::ffff:104.16.1.35'])(
    'lets the public address %s through',
    (address) => {
      expect(blockedAddressReason(address)).toBeUndefined();
    },
  );

  it('refuses anything that is not an IP literal', () => {
    expect(blockedAddressReason('localhost')).toBe('not an IP address');
  });
});

describe('narrowEndpoints', () => {
  it('keeps only the named registries and endpoints of those granted, never adding one', () => {
    // Prepare
    const granted = ['registry.npmjs.org:443', 'registry.yarnpkg.com:443'];

    // Act + Assess
    expect(narrowEndpoints(granted, { registries: ['npm'] })).toEqual(granted);
    expect(narrowEndpoints(granted, { endpoints: ['registry.npmjs.org:443'] })).toEqual([
      'registry.npmjs.org:443',
    ]);
    expect(narrowEndpoints(granted, { registries: ['pypi'] })).toEqual([]);
    expect(narrowEndpoints(granted, { endpoints: ['evil.example:443', 'registry.npmjs.org:443'] })).toEqual([
      'registry.npmjs.org:443',
    ]);
  });
});
