import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from './auth.service';

/** The caller's IP (behind a proxy only when TRUST_PROXY is on) and user agent. */
export function clientInfo(req: FastifyRequest): ClientInfo {
  const ua = req.headers['user-agent'];
  return { ip: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}
