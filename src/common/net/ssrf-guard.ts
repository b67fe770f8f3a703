import { BlockList, isIP } from 'node:net';
import dns from 'node:dns';

/** Loopback, private, link-local (cloud metadata lives there), shared, multicast and reserved ranges. */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** True when the address is one an outbound webhook must never reach (unless private targets are allowed). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true;
}

export class BlockedTargetError extends Error {
  readonly code = 'E_BLOCKED_TARGET';
  constructor(readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, a private, loopback, link-local or metadata address; such targets are refused`);
    this.name = 'BlockedTargetError';
  }
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Resolves the URL's host and refuses it if any address it resolves to is blocked (subscription-time check). */
export async function assertPublicTarget(url: URL): Promise<void> {
  const host = hostOf(url);
  if (isIP(host)) {
    if (isBlockedAddress(host)) throw new BlockedTargetError(host, host);
    return;
  }
  const addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  const blocked = addresses.find(({ address }) => isBlockedAddress(address));
  if (blocked) throw new BlockedTargetError(host, blocked.address);
}

/** The delivery-time check for IP literals, which never go through the agent's DNS lookup. */
export function assertLiteralTargetAllowed(url: URL): void {
  const host = hostOf(url);
  if (isIP(host) && isBlockedAddress(host)) throw new BlockedTargetError(host, host);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for HTTP agents that checks the address actually connected to, so a name that resolves to a
 * public address at subscription time and a private one later (DNS rebinding) is still refused.
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const list = addresses as dns.LookupAddress[];
    const blocked = list.find(({ address }) => isBlockedAddress(address));
    if (blocked) return callback(new BlockedTargetError(hostname, blocked.address) as unknown as NodeJS.ErrnoException, '');
    if (options.all) return callback(null, list);
    const [first] = list;
    return callback(null, first.address, first.family);
  });
}
