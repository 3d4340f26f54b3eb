import { BlockList, isIP } from 'node:net';

/**
 * Address ranges a dependency install must never reach: the host itself, the private networks
 * around it (where Gantry's own services and the cloud's live), link-local (the instance metadata
 * service at 169.254.169.254), and addresses that are not one host. A registry is on the public
 * internet, so a name resolving into one of these is a misconfiguration or an attack
 * (DNS rebinding, a hostile resolver), never a registry.
 */
const blockedRanges: ReadonlyArray<[network: string, prefix: number, family: 'ipv4' | 'ipv6', why: string]> =
  [
    ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
    ['10.0.0.0', 8, 'ipv4', 'private (10/8)'],
    ['100.64.0.0', 10, 'ipv4', 'shared address space (100.64/10, carrier-grade NAT)'],
    ['127.0.0.0', 8, 'ipv4', 'loopback'],
    ['169.254.0.0', 16, 'ipv4', 'link-local (169.254/16, the cloud metadata service)'],
    ['172.16.0.0', 12, 'ipv4', 'private (172.16/12)'],
    ['192.168.0.0', 16, 'ipv4', 'private (192.168/16)'],
    ['224.0.0.0', 4, 'ipv4', 'multicast'],
    ['240.0.0.0', 4, 'ipv4', 'reserved (240/4, broadcast)'],
    ['::', 128, 'ipv6', 'unspecified'],
    ['::1', 128, 'ipv6', 'loopback'],
    ['fc00::', 7, 'ipv6', 'unique local (fc00::/7)'],
    ['fe80::', 10, 'ipv6', 'link-local (fe80::/10)'],
    ['fec0::', 10, 'ipv6', 'site-local (fec0::/10)'],
    ['ff00::', 8, 'ipv6', 'multicast'],
  ];

const blockLists = blockedRanges.map(([network, prefix, family, why]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, why };
});

/**
 * Why an IP address may not be an egress destination, or `undefined` when it is a public address.
 * IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64
 * `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address. Anything that is not an IP
 * literal is refused: names are resolved before they are checked.
 *
 * @example
 * blockedAddressReason('169.254.169.254'); // 'link-local (169.254/16, the cloud metadata service)'
 * blockedAddressReason('::ffff:10.0.0.1'); // 'private (10/8)'
 * blockedAddressReason('104.16.1.35'); // undefined
 */
export function blockedAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const embedded = embeddedIpv4(address);
    if (embedded !== undefined) {
      const reason = blockedAddressReason(embedded);
      if (reason !== undefined) return `${reason}, embedded in ${address}`;
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return blockLists.find(({ list, family: listFamily }) => listFamily === type && list.check(address, type))
    ?.why;
}

/** The IPv4 address an IPv6 address carries by a standard embedding, if any. */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const dotted = (high: number, low: number) => [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  const [g0, g1, , , , g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (zeros(0, 5) && (g5 === 0xffff || (g5 === 0 && (g6 !== 0 || g7 > 1)))) return dotted(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && zeros(2, 6)) return dotted(g6, g7);
  if (g0 === 0x2002) return dotted(g1, groups[2] as number);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 literal (zone id dropped, dotted tail folded in). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  const dottedTail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dottedTail) {
    const [a, b, c, d] = dottedTail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dottedTail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  const missing = 8 - first.length - last.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  return [...first, ...new Array<number>(missing).fill(0), ...last];
}
