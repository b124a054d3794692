import { isIP } from 'node:net';
import proxyaddr from '@fastify/proxy-addr';

/**
 * Client address: the socket peer, or the first `X-Forwarded-For` entry when the peer is a
 * trusted proxy (docs/auth.md#rate-limits; the original trusted the header from anyone).
 * `TRUSTED_PROXIES` takes addresses, CIDRs and the names loopback, linklocal, private
 * (= uniquelocal: 10/8, 172.16/12, 192.168/16, fc00::/7); empty trusts nobody.
 */
export function createProxyTrust(trusted: string[]): (peer: string | undefined) => boolean {
  const names = trusted.map((t) => (t === 'private' ? 'uniquelocal' : t));
  const isTrusted = names.length ? proxyaddr.compile(names) : () => false;
  return (peer) => {
    const socket = peer ? normalise(peer) : null;
    return socket !== null && isTrusted(socket, 0);
  };
}

export function createClientIpResolver(trusted: string[]) {
  const isTrusted = createProxyTrust(trusted);
  return (peer: string | undefined, forwardedFor: string | string[] | undefined): string | null => {
    const socket = peer ? normalise(peer) : null;
    if (!socket) return null;
    if (forwardedFor === undefined || !isTrusted(socket)) return socket;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    const first = normalise(header.split(',')[0]?.trim() ?? '');
    return first ?? socket;
  };
}

function normalise(addr: string): string | null {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  const value = v4mapped?.[1] ?? addr;
  return isIP(value) ? value : null;
}
