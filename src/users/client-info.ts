import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** Where a request came from, for throttling and the audit trail. */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/** The caller's IP (behind a proxy only when TRUST_PROXY is on) and user agent. */
export function clientInfo(req: FastifyRequest): ClientInfo {
  const ua = req.headers['user-agent'];
  return { ip: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}

/**
 * Login brakes count per /64: one IPv6 subscriber (or one cloud host) is routed a /64 at least
 * and can use any of its 2^64 addresses, so a per-address key gives it unlimited budgets.
 */
export const LOGIN_IPV6_PREFIX = 64;
/** Registration counts per /56, the size ISPs commonly delegate to one home or customer. */
export const REGISTER_IPV6_PREFIX = 56;

/**
 * The key a per-client limit counts under: an IPv4 address as it is (an IPv4-mapped IPv6 address
 * as its IPv4), an IPv6 address as its first `prefixBits` bits (`2001:db8:1:2::/64`), so rotating
 * addresses inside one delegated prefix does not reset the count. Anything else (no address
 * known) as given.
 */
export function ipBucket(ip: string, prefixBits: number): string {
  const addr = ip.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) names an interface, not a host
  if (isIPv4(addr) || !isIPv6(addr)) return addr;
  const words = ipv6Words(addr);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff)
    return `${words[6] >> 8}.${words[6] & 255}.${words[7] >> 8}.${words[7] & 255}`;
  const bits = Math.max(0, Math.min(128, prefixBits));
  const masked = words.map((w, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : w & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${masked.map((w) => w.toString(16)).join(':')}/${bits}`;
}

/** The eight 16-bit words of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Words(addr: string): number[] {
  let text = addr.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
